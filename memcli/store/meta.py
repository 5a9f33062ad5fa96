"""SQL for the `meta` table: settings of the store and the version tokens that in-process
caches (the keyword copy, the vectors) check before each use."""

from __future__ import annotations

import secrets

import duckdb


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return None if row is None else str(row[0])


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])


def clear_needs_erasure(con: duckdb.DuckDBPyConnection, schema: str) -> None:
    """Record that nothing awaits erasure, in the database `schema` (a rewrite's copy)."""
    con.execute(f"UPDATE {schema}.main.meta SET value = '0' WHERE key = 'needs_erasure'")


def vectors_version(con: duckdb.DuckDBPyConnection) -> str | None:
    """A token that changes with every write to the vectors (None in a store without it)."""
    return get_meta(con, "vectors_version")


def bump_vectors_version(con: duckdb.DuckDBPyConnection) -> None:
    """Record that the vectors changed, in the caller's transaction. A random token rather
    than a counter: a store made anew at the same path never repeats a version that an
    in-process cache saw."""
    con.execute("UPDATE meta SET value = ? WHERE key = 'vectors_version'", [secrets.token_hex(8)])


def memories_version(con: duckdb.DuckDBPyConnection) -> str:
    """A token that changes with every write to the memories or the postings (and to the
    vectors): what in-process caches of the keyword index check before each use.
    vectors_version is part of it because memories_version appears only with the first
    write (stores made before it have none); both are random, so a store made anew at
    the same path never repeats a token that a cache saw."""
    found = dict(
        con.execute(
            "SELECT key, value FROM meta WHERE key IN ('memories_version', 'vectors_version')"
        ).fetchall()
    )
    return f"{found.get('memories_version')}/{found.get('vectors_version')}"


def bump_memories_version(con: duckdb.DuckDBPyConnection) -> None:
    """Record that memories or postings changed, in the caller's transaction. Every
    function that writes either calls it (tests/search/test_keyword_cache.py checks the
    SQL of memcli for writes without it)."""
    con.execute(
        "INSERT OR REPLACE INTO meta VALUES ('memories_version', ?)", [secrets.token_hex(8)]
    )
