"""Read-only opens attach the store to one in-memory DuckDB per process
(memcli.store.connection._attach_to_host): the store is held only while open, nothing
stays attached after, and readers still refuse what they refused before."""

from __future__ import annotations

from pathlib import Path

import pytest

from memcli.errors import NotAStore
from memcli.store import connection
from memcli.store import memories as rows
from memcli.store.connection import open_store
from tests.cli.helpers import add


def _attached() -> int:
    assert connection._host is not None
    row = connection._host.execute("SELECT count(*) FROM duckdb_databases()").fetchone()
    assert row is not None
    return int(row[0])


def test_reads_leave_nothing_attached_and_writers_get_in(
    cli, memcli_proc, store_path: Path
) -> None:
    add(cli, "first note")
    with open_store(store_path, write=False) as store:
        assert rows.counts(store.con)["total"] == 1
    baseline = _attached()
    for _ in range(20):
        with open_store(store_path, write=False) as store:
            rows.counts(store.con)
    assert _attached() == baseline
    assert not connection._attached
    # Another process writes right after a read, and this process sees it.
    assert memcli_proc("add", "second note").code == 0
    with open_store(store_path, write=False) as store:
        assert rows.counts(store.con)["total"] == 2
    with open_store(store_path, write=True) as store:  # and this process may write
        assert rows.counts(store.con)["total"] == 2


def test_an_open_read_holds_off_writers(cli, memcli_proc, store_path: Path) -> None:
    add(cli, "first note")
    with open_store(store_path, write=False):
        busy = memcli_proc("add", "blocked", env={"MEMCLI_LOCK_TIMEOUT": "0.3"})
    assert busy.code == 3, busy
    assert memcli_proc("add", "now it goes in").code == 0


def test_a_failed_attach_leaves_nothing_attached(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-store.duckdb"
    bad.write_bytes(b"\0" * 8 + b"DUCK" + b"\0" * 4096)  # passes the magic check only
    before = connection._attached.copy()
    with pytest.raises(NotAStore), open_store(bad, write=False):
        pass
    assert connection._attached == before


def test_two_stores_read_at_once(cli, store_path: Path, tmp_path: Path) -> None:
    add(cli, "in the first store")
    other = tmp_path / "other.duckdb"
    assert cli("--db", str(other), "add", "in the second").code == 0
    assert cli("--db", str(other), "add", "and another").code == 0
    with open_store(store_path, write=False) as a, open_store(other, write=False) as b:
        assert (rows.counts(a.con)["total"], rows.counts(b.con)["total"]) == (1, 2)
