"""After a crash: does the store open, read in full, hold together, and take a checkpoint?

DuckDB 1.5 has no integrity-check pragma; it checksums every block it reads. So the check
reads every row of every table (a checksum over all columns), checks memcli's own invariants
between the tables, then opens the store for writing and forces a checkpoint (replaying any
WAL into the file). Opening goes through memcli's open_store, so an encrypted store is
checked with its key (MEMCLI_KEY or the keyring) exactly as memcli itself would open it.
"""

from __future__ import annotations

from pathlib import Path

from memcli.store.connection import open_store


def check_store(path: Path) -> set[str]:
    """Assert the store at `path` is whole; return the ids of its memories."""
    with open_store(path, write=False, lock_timeout=30) as store:
        con = store.con
        tables = [
            str(r[0])
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
            ).fetchall()
        ]
        assert {"memories", "postings", "vectors", "events", "meta"} <= set(tables), tables
        for table in tables:
            con.execute(f'SELECT count(*), sum(hash(t)) FROM "{table}" t').fetchall()
        ids = [str(r[0]) for r in con.execute("SELECT id FROM memories").fetchall()]
        assert len(ids) == len(set(ids)), "duplicate ids"
        invariants = {
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
        for name, sql in invariants.items():
            row = con.execute(sql).fetchone()
            assert row == (0,), f"{name}: {row}"
    with open_store(path, write=True, lock_timeout=30) as store:
        store.con.execute("CHECKPOINT")
    assert not path.with_name(path.name + ".wal").exists() or _wal_is_empty(path)
    return set(ids)


def _wal_is_empty(path: Path) -> bool:
    return path.with_name(path.name + ".wal").stat().st_size == 0
