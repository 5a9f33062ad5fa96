"""Schema 6: who wrote a memory (origin) and when a person reviewed it (m006), added to a
store of schema 5 without changing a row, and a failed migration leaves the store as it was."""

from __future__ import annotations

import duckdb
import pytest

from memcli.store import migrations
from memcli.store.connection import open_store
from tests.cli.helpers import recall_ids
from tests.support.schemas import (
    contents,
    fill,
    migrating_fails_at,
    opening_fails_to_migrate,
    schema_at,
)


def test_m006_adds_empty_provenance_and_keeps_every_row(cli, store_path) -> None:
    with schema_at(5):
        kept = fill(cli)
    before = contents(store_path)
    assert before["version"] == ("5",)
    with open_store(store_path, write=False) as store:  # a reader migrates through a writer
        assert migrations.stored_version(store.con) == migrations.CURRENT_VERSION == 6
    assert contents(store_path) == {**before, "version": ("6",)}
    con = duckdb.connect(str(store_path), read_only=True)
    try:
        assert con.execute(
            "SELECT count(*) FROM memories WHERE origin IS NOT NULL OR reviewed_at IS NOT NULL"
        ).fetchone() == (0,)
    finally:
        con.close()
    assert recall_ids(cli, "staging db port")[0] == kept["port"]
    assert cli("review").code == 0  # nothing an agent wrote


def test_a_failing_m006_leaves_the_schema_5_store_as_it_was(
    cli, store_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with schema_at(5):
        fill(cli)
    before = contents(store_path)
    migrating_fails_at(6, monkeypatch)
    opening_fails_to_migrate(store_path)
    assert contents(store_path) == before
