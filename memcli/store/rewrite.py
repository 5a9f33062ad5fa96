"""Rewriting the store into a fresh file: real erasure, compaction, and (with other attach
options) encryption or decryption.

DuckDB's DELETE does not erase: freed blocks keep the old bytes until they are reused, and a
checkpoint never scrubs them (NOTES.md). Copying every table into a new file and renaming it
over the old one leaves nothing of the deleted rows behind. The copy is made while this process
holds the write lock, and the rename happens before that lock is released, so no other process
can write to the old file in between. A kill at any moment leaves either the old file or the
complete new one at the store's path; a half-written copy has another name and is removed by
the next command that writes (memcli.store.connection.remove_rewrite_leftovers).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from memcli.store import encryption
from memcli.store.connection import Store, private_files

_TARGET = "memcli_rewrite"

TableSums = dict[str, tuple[object, ...] | None]


class RewriteFailed(RuntimeError):
    """The copy did not match the original; the original was left in place."""


@dataclass(frozen=True)
class RewriteResult:
    bytes_before: int
    bytes_after: int


def database_blocks(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    """(block size in bytes, blocks in the file, free blocks among them) of the connection's
    database: how much a rewrite would give back (zeros when DuckDB reports nothing)."""
    row = con.execute(
        "SELECT block_size, total_blocks, free_blocks FROM pragma_database_size() "
        "WHERE database_name = current_database()"
    ).fetchone()
    if row is None:
        return 0, 0, 0
    block, total, free = (int(v) for v in row)
    return block, total, free


def rewrite_store(
    store: Store,
    attach_options: str | None = None,
    finish: Callable[[duckdb.DuckDBPyConnection, str], None] | None = None,
) -> RewriteResult:
    """Copy the open, write-locked `store` into a new file and put it in the old one's place.

    `attach_options` go into the new file's ATTACH: None (the default) keeps the store as it
    is, encrypted with its key when it is encrypted; "" writes a plain copy (decrypt); an
    ENCRYPTION_KEY option encrypts (encrypt). The new file is reopened with those options
    and read back in full before the rename, so a copy its key cannot open never replaces
    the store.
    `finish(con, schema)` may change the verified copy (the database named `schema`) before
    it takes the store's place: a change that must happen if and only if the rewrite does.
    The store's connection must be closed right after: it still points at the replaced file.
    """
    if not store.writable:
        raise ValueError("rewriting needs the write lock")
    if attach_options is None:
        attach_options = encryption.attach_options(store.key.secret) if store.key else ""
    con, path = store.con, store.path
    source = _current_database(con)
    con.execute("CHECKPOINT")
    before = _size(path) + _size(_wal(path))
    fresh = path.with_name(f".{path.name}.rewrite-{secrets.token_hex(4)}")
    try:
        with private_files():
            options = f" ({attach_options})" if attach_options else ""
            con.execute(f"ATTACH '{_quoted(fresh)}' AS {_TARGET}{options}")
            try:
                con.execute(f"COPY FROM DATABASE {source} TO {_TARGET}")
                _verify(con, source)
                if finish is not None:
                    finish(con, _TARGET)
                con.execute(f"CHECKPOINT {_TARGET}")
                written = _table_sums(con, _TARGET)
            finally:
                con.execute(f"DETACH {_TARGET}")
            _read_back(con, fresh, attach_options, written)
        if _wal(fresh).exists():
            raise RewriteFailed(f"the new copy of {path} kept a write-ahead log")
        os.chmod(fresh, 0o600)
        _fsync(fresh)
        os.replace(fresh, path)
        _fsync(path.parent)
    except BaseException:
        _remove(fresh)
        _remove(_wal(fresh))
        raise
    return RewriteResult(bytes_before=before, bytes_after=_size(path))


def _verify(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Every table of the copy holds the same rows as the original (counts and a checksum)."""
    copied = _table_sums(con, _TARGET)
    for table, sums in _table_sums(con, source).items():
        if copied.get(table) != sums:
            raise RewriteFailed(f"the copy of table {table} does not match the original")


def _read_back(
    con: duckdb.DuckDBPyConnection, fresh: Path, attach_options: str, written: TableSums
) -> None:
    """Reopen the finished copy read-only, with the options it was written with (its key),
    and check that every row reads back as written: every block is decrypted and checked."""
    options = f"{attach_options}, READ_ONLY" if attach_options else "READ_ONLY"
    try:
        con.execute(f"ATTACH '{_quoted(fresh)}' AS {_TARGET} ({options})")
    except duckdb.Error as exc:
        raise RewriteFailed(f"the new copy does not open: {exc}") from exc
    try:
        if _table_sums(con, _TARGET) != written:
            raise RewriteFailed("the new copy does not read back as it was written")
    finally:
        con.execute(f"DETACH {_TARGET}")


def _table_sums(con: duckdb.DuckDBPyConnection, database: str) -> TableSums:
    """(row count, checksum of the rows) of every table of `database`."""
    tables = [
        str(r[0])
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? ORDER BY 1",
            [database.strip('"')],
        ).fetchall()
    ]
    query = 'SELECT count(*), coalesce(sum(hash(t)), 0) FROM {db}.main."{table}" t'
    return {
        table: con.execute(query.format(db=database, table=table)).fetchone() for table in tables
    }


def _current_database(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("SELECT current_database()").fetchone()
    assert row is not None
    return f'"{row[0]}"'


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
