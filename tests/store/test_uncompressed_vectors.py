"""Schema 5: the blob columns of `vectors` are stored uncompressed (migration m005), in a new
store, in a small store migrated from schema 4, and after a rewrite of the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from memcli.store import migrations
from memcli.store.connection import open_store
from tests.cli.helpers import add, recall_ids
from tests.support.schemas import (
    contents,
    fill,
    migrating_fails_at,
    opening_fails_to_migrate,
    schema_at,
)


def _methods_for_repeated_blobs(path: Path, tmp_path: Path) -> set[str]:
    """How DuckDB stores 3,000 copies of one vector in a copy of the store's `vectors` table.

    Left to choose, it compresses a repeated blob (Dictionary): `Uncompressed` alone shows
    the columns' USING COMPRESSION."""
    copy = tmp_path / "probe.duckdb"
    shutil.copyfile(path, copy)
    con = duckdb.connect(str(copy))
    try:
        con.execute(
            "INSERT INTO vectors SELECT seq + 1000000 + i::INTEGER, chunk, model, vec, q, q_scale "
            "FROM (SELECT * FROM vectors LIMIT 1), range(3000) t(i)"
        )
        con.execute("CHECKPOINT")
        found = con.execute(
            "SELECT DISTINCT compression FROM pragma_storage_info('vectors') "
            "WHERE segment_type = 'BLOB'"
        ).fetchall()
    finally:
        con.close()
        copy.unlink()
    return {str(r[0]) for r in found}


def test_a_new_store_keeps_its_vectors_uncompressed(cli, store_path, tmp_path) -> None:
    add(cli, "the staging db is on port 6543")
    assert _methods_for_repeated_blobs(store_path, tmp_path) == {"Uncompressed"}


def test_m005_rebuilds_a_small_vectors_table_and_keeps_every_row(cli, store_path, tmp_path) -> None:
    with schema_at(4):
        kept = fill(cli)
    before = contents(store_path)
    assert before["version"] == ("4",) and before["vectors"][0] > 0
    # The probe can tell: schema 4 lets DuckDB compress the blobs.
    assert _methods_for_repeated_blobs(store_path, tmp_path) != {"Uncompressed"}
    with open_store(store_path, write=False) as store:  # a reader migrates through a writer
        assert migrations.stored_version(store.con) == migrations.CURRENT_VERSION
    assert contents(store_path) == {**before, "version": (str(migrations.CURRENT_VERSION),)}
    assert _methods_for_repeated_blobs(store_path, tmp_path) == {"Uncompressed"}
    assert recall_ids(cli, "staging db port", "--mode", "semantic")[0] == kept["port"]
    assert recall_ids(cli, "staging db port")[0] == kept["port"]


def test_m005_leaves_a_larger_vectors_table_as_it_is(
    cli, store_path, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with schema_at(4):
        kept = fill(cli)
    before = contents(store_path)
    monkeypatch.setattr(migrations, "_WHOLE_TABLE_ROWS", 3)  # fewer than the store holds
    with open_store(store_path, write=True) as store:
        assert migrations.stored_version(store.con) == migrations.CURRENT_VERSION
    assert contents(store_path) == {**before, "version": (str(migrations.CURRENT_VERSION),)}
    assert _methods_for_repeated_blobs(store_path, tmp_path) != {"Uncompressed"}
    assert recall_ids(cli, "staging db port")[0] == kept["port"]


def test_a_failing_m005_leaves_the_schema_4_store_as_it_was(
    cli, store_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with schema_at(4):
        fill(cli)
    before = contents(store_path)

    migrating_fails_at(5, monkeypatch)
    opening_fails_to_migrate(store_path)
    assert contents(store_path) == before


def test_the_rewrite_of_consolidate_keeps_the_vectors_uncompressed(
    cli, store_path, tmp_path
) -> None:
    add(cli, "the staging db is on port 6543")
    gone = add(cli, "a secret to forget")
    assert cli("forget", "-y", gone).code == 0
    run = cli("--json", "consolidate")
    assert run.code == 0, run
    assert run.json()["erase"] is True  # the file was rewritten
    assert _methods_for_repeated_blobs(store_path, tmp_path) == {"Uncompressed"}
