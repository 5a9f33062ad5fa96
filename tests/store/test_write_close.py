"""Closing a writer: DuckDB's checkpoint (run on one thread: connection._checkpoint_on_one_thread)
still moves every change into the file and removes the WAL, for plain and failed transactions."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from memcli.records import Memory
from memcli.store import memories as rows
from memcli.store.connection import open_store


def _memory(memory_id: str) -> Memory:
    now = datetime(2024, 5, 1, 12, tzinfo=UTC)
    return Memory(memory_id, "a note", [], now, now, now, 3, False, "active", "cli", None, None, 0)


def _ids_in_the_file_alone(path: Path, tmp_path: Path) -> set[str]:
    """The ids a copy of the store file holds without its WAL."""
    alone = tmp_path / "alone.duckdb"
    shutil.copyfile(path, alone)
    con = duckdb.connect(str(alone), read_only=True)
    try:
        return {str(r[0]) for r in con.execute("SELECT id FROM memories").fetchall()}
    finally:
        con.close()


def test_a_writer_leaves_its_changes_in_the_file_and_no_wal(
    store_path: Path, tmp_path: Path
) -> None:
    with open_store(store_path, write=True, create=True) as store, store.transaction() as con:
        rows.insert(con, _memory("first001"), "hash1", 2)
    with open_store(store_path, write=True) as store:
        with store.transaction() as con:
            rows.insert(con, _memory("second01"), "hash2", 2)
        with pytest.raises(RuntimeError), store.transaction() as con:
            rows.insert(con, _memory("rolled01"), "hash3", 2)
            raise RuntimeError("rolled back")
    assert not store_path.with_name(store_path.name + ".wal").exists()
    assert _ids_in_the_file_alone(store_path, tmp_path) == {"first001", "second01"}
