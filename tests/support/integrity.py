"""After a crash: does the store open, read in full, hold together, and take a checkpoint?

DuckDB 1.5 has no integrity-check pragma; it checksums every block it reads. So the check
reads every row of every table (a checksum over all columns), checks memcli's own invariants
between the tables, opens the store for writing and forces a checkpoint (replaying any WAL
into the file), then reads everything twice more: the content must not change. Opening goes
through memcli's open_store, so an encrypted store is checked with its key (MEMCLI_KEY or
the keyring) exactly as memcli itself would open it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from memcli.store.connection import open_store


@dataclass(frozen=True)
class StoreCheck:
    ids: set[str]
    """The ids of the memories in the store."""
    wal_left: bool
    """A non-empty WAL was still there after the checkpoint (DuckDB may keep one it has
    already applied); the check proved that replaying it again changes nothing."""


def check_store(path: Path) -> StoreCheck:
    """Assert the store at `path` is whole and stays the same across reopenings."""
    ids, before = _read_everything(path)
    with open_store(path, write=True, lock_timeout=30) as store:
        store.con.execute("CHECKPOINT")
    wal = path.with_name(path.name + ".wal")
    wal_left = wal.exists() and wal.stat().st_size > 0
    for _ in range(2):  # after the checkpoint, and once more replaying any WAL left behind
        again_ids, again = _read_everything(path)
        assert (again_ids, again) == (ids, before), "the store changed when it was reopened"
    return StoreCheck(ids, wal_left)


def _read_everything(path: Path) -> tuple[set[str], dict[str, object]]:
    """Read every row of every table (DuckDB checks every block's checksum), check memcli's
    invariants between tables; return the ids and each table's (count, checksum)."""
    with open_store(path, write=False, lock_timeout=30) as store:
        con = store.con
        tables = [
            str(r[0])
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
            ).fetchall()
        ]
        assert {"memories", "postings", "vectors", "events", "meta"} <= set(tables), tables
        sums: dict[str, object] = {
            table: con.execute(f'SELECT count(*), sum(hash(t)) FROM "{table}" t').fetchone()
            for table in tables
        }
        ids = [str(r[0]) for r in con.execute("SELECT id FROM memories").fetchall()]
        assert len(ids) == len(set(ids)), "duplicate ids"
        seqs = [int(r[0]) for r in con.execute("SELECT seq FROM memories").fetchall()]
        assert len(seqs) == len(set(seqs)), "duplicate seqs"
        for name, sql in _INVARIANTS.items():
            row = con.execute(sql).fetchone()
            assert row == (0,), f"{name}: {row}"
    return set(ids), sums


_INVARIANTS = {
    "postings without a memory": (
        "SELECT count(*) FROM postings WHERE seq NOT IN (SELECT seq FROM memories)"
    ),
    "vectors without a memory": (
        "SELECT count(*) FROM vectors WHERE seq NOT IN (SELECT seq FROM memories)"
    ),
    "index lengths differ from the postings": (
        "SELECT abs((SELECT coalesce(sum(doc_len), 0) FROM memories) - "
        "(SELECT coalesce(sum(tf), 0) FROM postings))"
    ),
}
