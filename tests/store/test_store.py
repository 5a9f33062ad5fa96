"""memcli.store.connection: creating, checking, migrating, locking and transactions."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from memcli.errors import NotAStore, StoreBusy, StoreTooNew
from memcli.records import Memory
from memcli.store import events as event_log
from memcli.store import index, migrations
from memcli.store import memories as rows
from memcli.store import meta as store_meta
from memcli.store.connection import NoStore, open_store


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _make_store(path: Path) -> None:
    with open_store(path, write=True, create=True):
        pass


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _memory(memory_id: str) -> Memory:
    now = datetime(2024, 5, 1, 12, tzinfo=UTC)
    # id, text, tags, created, added, updated, importance, pinned, state, source, superseded_by,
    # reinforced_at, reinforcements
    return Memory(
        memory_id, "draft", ["a"], now, now, now, 3, False, "active", "cli", None, None, 0
    )


# --- a new store --------------------------------------------------------------------------


def test_new_store_is_0600_in_a_new_0700_folder(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "deep" / "er" / "memcli.duckdb"
    _make_store(path)
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    wal = path.with_name(path.name + ".wal")
    assert not wal.exists() or _mode(wal) == 0o600


def test_existing_folder_keeps_its_mode(tmp_path: Path, umask_022: None) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    _make_store(folder / "memcli.duckdb")
    assert _mode(folder) == 0o755
    assert _mode(folder / "memcli.duckdb") == 0o600


def test_wal_written_later_is_owner_only(tmp_path: Path, umask_022: None) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    path = folder / "memcli.duckdb"
    _make_store(path)
    with open_store(path, write=True) as store:
        rows.insert(store.con, _memory("secret1"), "hash", 3)
        wal = path.with_name(path.name + ".wal")
        assert wal.exists()
        assert _mode(wal) == 0o600


def test_schema_is_recorded(store_path: Path) -> None:
    _make_store(store_path)
    with open_store(store_path, write=False) as store:
        applied = [r[0] for r in store.con.execute("SELECT id FROM schema_migrations").fetchall()]
        version = store_meta.get_meta(store.con, "schema_version")
        tables = {
            r[0]
            for r in store.con.execute(
                "SELECT table_name FROM information_schema.tables"
            ).fetchall()
        }
    assert "m001_create_tables" in applied
    assert applied == [name for name, _ in migrations.MIGRATIONS]
    assert version == str(migrations.CURRENT_VERSION)
    assert {"meta", "memories", "events", "postings", "vectors"} <= tables


def test_reopening_does_not_migrate_again(store_path: Path) -> None:
    _make_store(store_path)
    _make_store(store_path)
    with open_store(store_path, write=False) as store:
        count = store.con.execute("SELECT count(*) FROM schema_migrations").fetchone()
    assert count == (migrations.CURRENT_VERSION,)


def test_read_of_a_missing_store_raises_nostore_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "absent" / "memcli.duckdb"
    for write in (False, True):
        with pytest.raises(NoStore), open_store(path, write=write):
            pass
    assert not path.parent.exists()


# --- files memcli must refuse and leave alone ----------------------------------------------


@pytest.mark.parametrize("write", [False, True])
def test_newer_schema_raises_store_too_new_and_leaves_file(store_path: Path, write: bool) -> None:
    _make_store(store_path)
    con = duckdb.connect(str(store_path))
    con.execute(
        "UPDATE meta SET value = ? WHERE key = 'schema_version'",
        [str(migrations.CURRENT_VERSION + 1)],
    )
    con.close()
    before = _snapshot(store_path.parent)
    with pytest.raises(StoreTooNew) as caught, open_store(store_path, write=write):
        pass
    assert caught.value.exit_code == 4
    assert _snapshot(store_path.parent) == before


@pytest.mark.parametrize(
    "content", [b"hello, these are my notes\n" * 10, b"\x00" * 4096, b"SQLite format 3\x00" * 8]
)
@pytest.mark.parametrize("write", [False, True])
def test_non_duckdb_file_is_not_a_store(store_path: Path, content: bytes, write: bool) -> None:
    store_path.write_bytes(content)
    before = _snapshot(store_path.parent)
    with pytest.raises(NotAStore) as caught, open_store(store_path, write=write, create=True):
        pass
    assert "not a memcli store" in caught.value.message
    assert _snapshot(store_path.parent) == before


@pytest.mark.parametrize(
    "ddl",
    [
        "CREATE TABLE invoices (id INTEGER, amount DOUBLE)",
        "CREATE TABLE meta (key VARCHAR, value VARCHAR); INSERT INTO meta VALUES ('owner', 'x')",
        pytest.param(
            "CREATE TABLE meta (id INTEGER, note VARCHAR)",
        ),
    ],
)
@pytest.mark.parametrize("write", [False, True])
def test_foreign_duckdb_database_is_not_a_store(store_path: Path, ddl: str, write: bool) -> None:
    con = duckdb.connect(str(store_path))
    con.execute(ddl)
    con.close()
    before = _snapshot(store_path.parent)
    with pytest.raises(NotAStore) as caught, open_store(store_path, write=write, create=True):
        pass
    assert "not a memcli store" in caught.value.message
    assert _snapshot(store_path.parent) == before


@pytest.mark.parametrize("write", [False, True])
def test_empty_duckdb_file_is_adopted(store_path: Path, write: bool) -> None:
    duckdb.connect(str(store_path)).close()
    with open_store(store_path, write=write) as store:
        assert migrations.stored_version(store.con) == migrations.CURRENT_VERSION
        assert rows.counts(store.con)["total"] == 0
    with open_store(store_path, write=True) as store, store.transaction() as con:
        rows.insert(con, _memory("adopted1"), "hash", 1)
    with open_store(store_path, write=False) as store:
        assert rows.get(store.con, "adopted1") is not None


# --- transactions ----------------------------------------------------------------------------


def test_failed_transaction_leaves_no_partial_rows(store_path: Path) -> None:
    _make_store(store_path)
    with open_store(store_path, write=True) as store:
        with pytest.raises(RuntimeError), store.transaction() as con:
            seq = rows.insert(con, _memory("partial1"), "hash", 2)
            index.insert_postings(con, seq, [11, 12], [1, 1])
            event_log.add_event(con, "partial1", datetime.now(UTC), "created")
            raise RuntimeError("crash in the middle")
        with store.transaction() as con:  # the connection is usable afterwards
            rows.insert(con, _memory("complete"), "hash2", 1)
    with open_store(store_path, write=False) as store:
        counts = store.con.execute(
            "SELECT (SELECT count(*) FROM memories), (SELECT count(*) FROM postings), "
            "(SELECT count(*) FROM events)"
        ).fetchone()
        assert counts == (1, 0, 0)
        assert rows.get(store.con, "partial1") is None


# --- the lock and the retry budget -----------------------------------------------------------

_HOLDER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
con.close()
"""


@pytest.fixture
def holder(store_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process that holds the store until a line arrives on its stdin."""
    _make_store(store_path)
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(store_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    yield proc
    if proc.poll() is None:
        proc.communicate("\n", timeout=30)


def _release_after(proc: subprocess.Popen[str], seconds: float) -> threading.Timer:
    def release() -> None:
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.flush()
        proc.wait(timeout=30)

    timer = threading.Timer(seconds, release)
    timer.start()
    return timer


@pytest.mark.parametrize("write", [False, True])
def test_held_store_raises_store_busy_after_the_budget(
    store_path: Path, holder: subprocess.Popen[str], write: bool
) -> None:
    start = time.monotonic()
    with pytest.raises(StoreBusy) as caught, open_store(store_path, write=write, lock_timeout=0.5):
        pass
    elapsed = time.monotonic() - start
    assert caught.value.exit_code == 3
    assert "busy" in caught.value.message and "MEMCLI_LOCK_TIMEOUT" in (caught.value.hint or "")
    assert 0.15 <= elapsed < 2.0  # it retried for a while, and did not hang


def test_zero_budget_fails_at_once(store_path: Path, holder: subprocess.Popen[str]) -> None:
    start = time.monotonic()
    with pytest.raises(StoreBusy), open_store(store_path, write=True, lock_timeout=0):
        pass
    assert time.monotonic() - start < 0.5


def test_holder_ending_within_the_budget_lets_the_open_succeed(
    store_path: Path, holder: subprocess.Popen[str]
) -> None:
    timer = _release_after(holder, 0.3)
    start = time.monotonic()
    with open_store(store_path, write=True, lock_timeout=5.0) as store:
        assert rows.counts(store.con)["total"] == 0
    timer.join()
    assert 0.25 < time.monotonic() - start < 4.0


def test_retries_use_the_whole_budget(
    store_path: Path, holder: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("memcli.store.connection.random.random", lambda: 0.5)  # no jitter
    timer = _release_after(holder, 0.8)  # released well within the 1 s budget
    start = time.monotonic()
    try:
        with open_store(store_path, write=True, lock_timeout=1.0):
            pass
    except StoreBusy:
        pytest.fail(f"gave up after {time.monotonic() - start:.2f}s of a 1.0s budget")
    finally:
        timer.join()
