"""memcli.store.rewrite: a fresh copy replaces the store, deleted bytes go, nothing else does."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from memcli.store import events as event_log
from memcli.store import memories as rows
from memcli.store.connection import open_store, rewrite_leftovers
from memcli.store.rewrite import RewriteFailed, rewrite_store
from tests.store.test_store import _memory

SECRET = "SECRETWORD-zq81"


def _fill(path: Path, count: int) -> None:
    with open_store(path, write=True, create=True) as store, store.transaction() as con:
        for i in range(count):
            memory = _memory(f"mem{i:05d}")
            text = f"note {i} {SECRET}" if i == 3 else f"note {i} about the weather"
            memory.text = text
            rows.insert(con, memory, f"h{i}", 3)
            event_log.add_event(con, memory.id, memory.created_at, "added")


def test_rewrite_erases_deleted_text_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "store.duckdb"
    _fill(path, 10)
    with open_store(path, write=True) as store, store.transaction() as con:
        rows.delete(con, [m.seq for m in rows.select(con, rows.Filters(), "m.seq", None)][3:4])
    with open_store(path, write=True) as store:
        store.con.execute("CHECKPOINT")
    # The test can see the bytes before the rewrite: otherwise "absent" would prove nothing.
    assert SECRET.encode() in path.read_bytes()

    with open_store(path, write=True) as store:
        result = rewrite_store(store)
    assert result.bytes_after > 0
    assert SECRET.encode() not in path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert rewrite_leftovers(path) == []
    with open_store(path, write=True) as store, store.transaction() as con:
        kept = rows.select(con, rows.Filters(), "m.seq", None)
        assert [m.id for m in kept] == [f"mem{i:05d}" for i in range(10) if i != 3]
        assert len(event_log.events(con, "mem00000")) == 1
        # The id sequence survives the copy: a new row never reuses a seq.
        new_seq = rows.insert(con, _memory("memnew01"), "hnew", 1)
        assert new_seq > max(m.seq for m in kept)


def test_a_failed_copy_leaves_the_original_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.duckdb"
    _fill(path, 5)
    original = path.read_bytes()

    def broken(con: object, source: str) -> None:
        raise RewriteFailed("the copy of table memories does not match the original")

    monkeypatch.setattr("memcli.store.rewrite._verify", broken)
    with pytest.raises(RewriteFailed), open_store(path, write=True) as store:
        rewrite_store(store)
    assert path.read_bytes() == original
    assert rewrite_leftovers(path) == []


def test_leftovers_of_an_interrupted_rewrite_go_at_the_next_write(tmp_path: Path) -> None:
    path = tmp_path / "store.duckdb"
    _fill(path, 2)
    leftovers = [tmp_path / f".{path.name}.rewrite-deadbeef{end}" for end in ("", ".wal")]
    for leftover in leftovers:
        leftover.write_bytes(b"half a copy")
    with open_store(path, write=False) as store:  # a reader may meet a rewrite in progress
        assert len(rows.select(store.con, rows.Filters(), "m.seq", None)) == 2
    assert rewrite_leftovers(path) == leftovers
    with open_store(path, write=True):
        pass
    assert rewrite_leftovers(path) == []


def test_rewrite_refuses_a_read_only_store(tmp_path: Path) -> None:
    path = tmp_path / "store.duckdb"
    _fill(path, 1)
    with pytest.raises(ValueError), open_store(path, write=False) as store:
        rewrite_store(store)
