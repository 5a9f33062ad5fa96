"""Schema 4: `memories` without PRIMARY KEY and UNIQUE (migration m004), and the code that
keeps seqs and ids unique instead: add, import (with and without ids), doctor's check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from memcli import ids
from memcli.security import keys
from memcli.store import migrations
from memcli.store.connection import open_store
from tests.cli.helpers import FILLERS, add, by_id, jsonl, recall_ids
from tests.support.keyrings import memory_keyring  # noqa: F401 (a fixture)
from tests.support.schemas import (
    contents,
    fill,
    migrating_fails_at,
    opening_fails_to_migrate,
    schema_at,
)


def _constraints(path: Path) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        found = con.execute(
            "SELECT constraint_type FROM duckdb_constraints() WHERE table_name = 'memories'"
        ).fetchall()
    finally:
        con.close()
    return {str(r[0]) for r in found}


def _fill_a_schema_3_store(cli: Any) -> dict[str, str]:
    """A store written by schema 3 (tests.support.schemas.fill)."""
    with schema_at(3):
        return fill(cli)


def test_m004_keeps_every_row_and_drops_the_indexes(cli, store_path) -> None:
    memories = _fill_a_schema_3_store(cli)
    before = contents(store_path)
    assert before["version"] == ("3",) and before["merges"][0] == 1
    assert {"PRIMARY KEY", "UNIQUE"} <= _constraints(store_path)
    # A reader of the old store migrates it through a writer, in one transaction.
    with open_store(store_path, write=False) as store:
        assert migrations.stored_version(store.con) == migrations.CURRENT_VERSION >= 4
    after = contents(store_path)
    assert after == {**before, "version": (str(migrations.CURRENT_VERSION),)}
    assert {"PRIMARY KEY", "UNIQUE"}.isdisjoint(_constraints(store_path))
    # The sequence goes on past every seq ever used, the forgotten memory's too (seq 11).
    fresh = add(cli, "the build server is called hopper")
    con = duckdb.connect(str(store_path), read_only=True)
    try:
        found = con.execute("SELECT seq FROM memories WHERE id = ?", [fresh]).fetchone()
    finally:
        con.close()
    assert found is not None and found[0] == len(FILLERS) + 7
    assert recall_ids(cli, "staging db port", "--mode", "keyword")[0] == memories["port"]
    stored = by_id(cli)
    assert stored[memories["old"]]["superseded_by"] == memories["new"]
    assert stored["dup00002"]["state"] == "archived"
    assert memories["gone"] not in stored
    doctor = {c["name"]: c for c in cli("--json", "doctor").json()["checks"]}
    assert doctor["memory ids"]["ok"] is True


def test_a_failing_m004_leaves_the_schema_3_store_as_it_was(
    cli, store_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill_a_schema_3_store(cli)
    before = contents(store_path)

    migrating_fails_at(4, monkeypatch)
    opening_fails_to_migrate(store_path)
    assert contents(store_path) == before
    assert {"PRIMARY KEY", "UNIQUE"} <= _constraints(store_path)


def _ids_drawn(monkeypatch: pytest.MonkeyPatch, *drawn: str) -> list[str]:
    """Make memcli.ids.new_id return `drawn` in order (then fresh random ids); returns the
    list of ids actually handed out."""
    real = ids.new_id
    queue = list(drawn)
    handed: list[str] = []

    def new_id() -> str:
        handed.append(queue.pop(0) if queue else real())
        return handed[-1]

    monkeypatch.setattr(ids, "new_id", new_id)
    return handed


def test_add_never_reuses_a_stored_id(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    first = add(cli, "the wifi password is on the fridge")
    handed = _ids_drawn(monkeypatch, first, "zzzz0000")
    second = add(cli, "the router is in the hall")
    assert (handed[:2], second) == ([first, "zzzz0000"], "zzzz0000")
    assert set(by_id(cli)) == {first, second}


def test_import_never_gives_a_line_without_id_an_id_the_file_carries(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    handed = _ids_drawn(monkeypatch, "carried1", "fresh001")
    lines = jsonl({"text": "a note without an id"}, {"id": "carried1", "text": "a note with one"})
    result = cli("--json", "import", "-", input=lines)
    assert result.code == 0, result
    assert result.json()["imported"] == 2
    stored = by_id(cli)
    assert stored["carried1"]["text"] == "a note with one"
    assert stored["fresh001"]["text"] == "a note without an id"
    assert handed[:2] == ["carried1", "fresh001"]


def test_an_id_repeated_in_a_file_or_already_stored_is_skipped_as_before(cli) -> None:
    first = cli(
        "--json",
        "import",
        "-",
        input=jsonl({"id": "same0001", "text": "first text"}, {"id": "same0001", "text": "other"}),
    )
    assert first.code == 0, first
    assert (first.json()["imported"], first.json()["skipped_existing"]) == (1, 1)
    again = cli("--json", "import", "-", input=jsonl({"id": "same0001", "text": "third text"}))
    assert (again.json()["imported"], again.json()["skipped_existing"]) == (0, 1)
    assert [m["text"] for m in by_id(cli).values()] == ["first text"]


def test_doctor_reports_a_repeated_id(cli, store_path) -> None:
    memory_id = add(cli, "the only memory")
    con = duckdb.connect(str(store_path))
    try:
        con.execute(
            "INSERT INTO memories SELECT * REPLACE (nextval('memory_seq') AS seq) "
            "FROM memories WHERE id = ?",
            [memory_id],
        )
    finally:
        con.close()
    result = cli("--json", "doctor")
    assert result.code != 0
    checks = {c["name"]: c for c in result.json()["checks"]}
    assert checks["memory ids"]["ok"] is False
    assert "1 repeated id(s), 0 repeated seq(s)" in checks["memory ids"]["detail"]


@pytest.mark.usefixtures("memory_keyring")
def test_an_encrypted_schema_3_store_is_migrated_with_its_key(cli, store_path) -> None:
    with schema_at(3):
        assert cli("init", "--encrypt").code == 0
        kept = fill(cli)
    key = keys.key_for(store_path).secret
    assert recall_ids(cli, "staging db port", "--mode", "keyword")[0] == kept["port"]
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{store_path}' AS s (ENCRYPTION_KEY '{key}', READ_ONLY)")
        version = con.execute("SELECT value FROM s.meta WHERE key = 'schema_version'").fetchone()
        found = con.execute(
            "SELECT constraint_type FROM duckdb_constraints() "
            "WHERE database_name = 's' AND table_name = 'memories'"
        ).fetchall()
        stored = con.execute("SELECT count(*), count(DISTINCT id) FROM s.memories").fetchone()
    finally:
        con.close()
    assert version == (str(migrations.CURRENT_VERSION),)
    assert {"PRIMARY KEY", "UNIQUE"}.isdisjoint({str(r[0]) for r in found})
    assert stored == (len(FILLERS) + 5, len(FILLERS) + 5)
