"""Stores as an older memcli left them: migrations stopped at a given schema, and what a
migration must keep (every row of every table)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest

from memcli.errors import StoreTooNew
from memcli.store import memories, migrations
from memcli.store.connection import open_store
from tests.cli.helpers import add, add_fillers, jsonl


def migrating_fails_at(version: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """memcli as it would be if migration number `version` (the last one) failed after
    doing its work: opening an older store with a writer must then leave it as it was."""
    name, migration = migrations.MIGRATIONS[version - 1]

    def then_fail(con: duckdb.DuckDBPyConnection) -> None:
        migration(con)
        con.execute("SELECT error('disk full, say')")

    monkeypatch.setattr(
        migrations, "MIGRATIONS", [*migrations.MIGRATIONS[: version - 1], (name, then_fail)]
    )
    monkeypatch.setattr(migrations, "CURRENT_VERSION", version)


def opening_fails_to_migrate(path: Path) -> None:
    """Open the store at `path` with a writer, expecting its migration to fail cleanly."""
    with (
        pytest.raises(StoreTooNew, match="could not be upgraded"),
        open_store(path, write=True),
    ):
        pass


@contextmanager
def schema_at(version: int) -> Iterator[None]:
    """memcli as it was at schema `version`: stores it makes or opens stop there."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:version])
        patch.setattr(migrations, "CURRENT_VERSION", version)
        if version < 6:  # no provenance columns yet: memories are read without them
            patch.setattr(
                memories, "_COLUMNS", memories._COLUMNS.replace(", origin, reviewed_at", "")
            )
            read = memories._memory
            patch.setattr(memories, "_memory", lambda row: read((*row, None, None)))
        yield


def contents(path: Path) -> dict[str, Any]:
    """Every row of every memcli table (memories in full, by seq; the others as count and
    checksum), and the schema version."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        found: dict[str, Any] = {
            # Columns that later migrations add (origin, reviewed_at: m006) are left out, so
            # that a migration's test compares what it had to keep.
            "memories": con.execute(
                "SELECT * EXCLUDE (origin, reviewed_at) FROM memories ORDER BY seq"
                if "origin" in _columns(con)
                else "SELECT * FROM memories ORDER BY seq"
            ).fetchall(),
            "version": con.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'"
            ).fetchone(),
        }
        for table in ("events", "postings", "vectors", "merges", "runs", "kept_apart"):
            found[table] = con.execute(f"SELECT count(*), sum(hash(t)) FROM {table} t").fetchone()
    finally:
        con.close()
    return found


def _columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'memories'"
    ).fetchall()
    return {str(r[0]) for r in rows}


def fill(cli: Any) -> dict[str, str]:
    """Memories with events, postings and vectors, a merge (two imported copies of one text,
    consolidated), a superseded and a forgotten memory; returns the ids of note."""
    add_fillers(cli)
    kept = {
        "port": add(cli, "the staging db is on port 6543", "-t", "db"),
        "old": add(cli, "the gate code is 1111"),
    }
    kept["new"] = add(cli, "the gate code is 2222", "--supersedes", kept["old"])
    duplicates = jsonl(
        {"id": "dup00001", "text": "The VPN key is in the blue folder"},
        {"id": "dup00002", "text": "the vpn key is in the  BLUE folder"},
    )
    assert cli("import", "-", input=duplicates).code == 0
    assert cli("--json", "consolidate").code == 0
    kept["gone"] = add(cli, "a secret to forget")  # the highest seq so far
    assert cli("forget", "-y", kept["gone"]).code == 0
    return kept
