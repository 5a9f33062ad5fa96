"""Reinforcement by recall and show: once a day per memory, and a recall or show that finds
only memories already reinforced that day writes nothing to the store."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from memcli.config import load_settings
from memcli.search.recall import RecallRequest
from memcli.service.context import Context
from memcli.service.reading import recall_memories, show
from memcli.store import memories as rows
from memcli.store import meta as store_meta
from memcli.store.connection import open_store
from memcli.timeparse import utc_now
from tests.cli.helpers import add, add_fillers, query_db

START = utc_now() + timedelta(hours=1)


def _state(store_path: Path) -> tuple[str, list[tuple[object, ...]]]:
    """The memories version (every write to memories bumps it) and every reinforcement."""
    with open_store(store_path, write=False) as store:
        version = store_meta.memories_version(store.con)
    counts = query_db(
        store_path,
        "SELECT id, reinforcements, reinforced_at, "
        "(SELECT count(*) FROM events e WHERE e.memory_id = m.id AND e.kind = 'reinforced') "
        "FROM memories m ORDER BY id",
    )
    return version, counts


def _recall(at: timedelta, query: str = "spare key blue pot") -> list[str]:
    ctx = Context(load_settings(), clock=lambda: START + at)
    return [hit.memory.id for hit in recall_memories(ctx, RecallRequest(query, limit=3))]


def _updates(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The seqs of every reinforcing UPDATE run from here on."""
    calls: list[list[int]] = []
    real = rows.reinforce

    def spy(con, seqs, now):  # type: ignore[no-untyped-def]
        calls.append(list(seqs))
        return real(con, seqs, now)

    monkeypatch.setattr(rows, "reinforce", spy)
    return calls


def test_recall_reinforces_once_a_day_and_otherwise_writes_nothing(
    cli, store_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_fillers(cli)
    key = add(cli, "the spare key is under the blue pot")
    before = _state(store_path)
    first = _recall(timedelta(0))
    assert first[0] == key
    after_first = _state(store_path)
    assert after_first[0] != before[0]
    reinforced = {row[0]: row[1:] for row in after_first[1] if row[1]}
    assert set(reinforced) == set(first)
    assert all(count == 1 and events == 1 for count, _, events in reinforced.values())
    # The same query again within the day: the same hits, and not even an UPDATE is run.
    updates = _updates(monkeypatch)
    assert _recall(timedelta(hours=23)) == first
    assert _state(store_path) == after_first
    assert updates == []
    # A day later it counts again.
    assert _recall(timedelta(days=1, minutes=1)) == first
    later = {row[0]: row[1:] for row in _state(store_path)[1] if row[1]}
    assert {memory_id: (count, events) for memory_id, (count, _, events) in later.items()} == {
        memory_id: (2, 2) for memory_id in first
    }


def test_show_reinforces_once_a_day(cli, store_path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = add(cli, "the spare key is under the blue pot")
    settings = load_settings()
    show(Context(settings, clock=lambda: START), key)
    once = _state(store_path)
    updates = _updates(monkeypatch)
    show(Context(settings, clock=lambda: START + timedelta(hours=2)), key)
    assert _state(store_path) == once
    assert updates == []
    show(Context(settings, clock=lambda: START + timedelta(days=2)), key)
    assert [row[1] for row in _state(store_path)[1]] == [2]


HOLD_READ = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("holding", flush=True)
sys.stdin.readline()
"""


def test_recall_reads_without_a_writer_and_still_answers_when_it_cannot_reinforce(
    cli, store_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search runs on a read-only connection, so it works beside another reader; only a
    hit due for reinforcement needs a writer, and a busy store skips the reinforcement
    rather than the answer."""
    add_fillers(cli)
    key = add(cli, "the spare key is under the blue pot")
    monkeypatch.setenv("MEMCLI_LOCK_TIMEOUT", "0.3")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_READ, str(store_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        assert _recall(timedelta(0))[0] == key  # due, but no writer can open: not counted
    finally:
        holder.communicate("\n", timeout=30)
    assert all(row[1] == 0 for row in _state(store_path)[1])
    first = _recall(timedelta(minutes=1))  # the store is free again: counted now
    counted = _state(store_path)
    assert {row[0] for row in counted[1] if row[1] == 1} == set(first)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_READ, str(store_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        assert _recall(timedelta(hours=2)) == first  # nothing due: no writer needed at all
    finally:
        holder.communicate("\n", timeout=30)
    assert _state(store_path) == counted


def test_a_reinforcing_recall_leaves_its_write_in_the_log_for_the_next_writer(
    cli, store_path
) -> None:
    """The reinforcement is a brief write (memcli.store.connection, brief=True): it stays
    in the write-ahead log (0600, like the store) until the next command that writes
    checkpoints it, and a forget --now after it still leaves the text in no byte of the
    store or its log."""
    from tests.cli.helpers import store_file_bytes

    add_fillers(cli)
    key = add(cli, "the spare key is under the blue pot")
    secret = add(cli, "my secret is xylophone-tangerine-42")
    wal = store_path.with_name(store_path.name + ".wal")
    assert not wal.exists()
    assert _recall(timedelta(0))[0] == key
    assert wal.exists() and oct(wal.stat().st_mode & 0o777) == "0o600"
    add(cli, "a note written later")
    assert not wal.exists()
    assert {row[0]: row[1] for row in _state(store_path)[1]}[key] == 1
    assert _recall(timedelta(days=2), "secret xylophone tangerine")[0] == secret
    assert wal.exists()
    assert cli("forget", secret, "-y", "--now").code == 0
    assert b"tangerine" not in store_file_bytes(store_path)
    assert not wal.exists() or b"tangerine" not in wal.read_bytes()
