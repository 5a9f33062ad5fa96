"""memcli consolidate, history and restore-as-undo, through the CLI with the tiny model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from memcli.lifecycle import similarity
from tests.cli.helpers import (
    add,
    add_fillers,
    by_id,
    jsonl,
    query_db,
    recall_ids,
    sha256,
    store_file_bytes,
)


@pytest.fixture(autouse=True)
def tiny_model_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tiny test model embeds digits as a bag of letters, so "phone 555-1234" and
    "phone 555-4444" are only ~0.6 alike to it (0.96 to all-MiniLM-L6-v2). The vector gate
    is lowered for these tests; the words must still agree (tests/lifecycle test the real
    thresholds, tests/lifecycle/test_real_model.py the real model)."""
    monkeypatch.setattr(similarity, "UPDATE_COSINE", 0.3)
    monkeypatch.setattr(similarity, "CANDIDATE_COSINE", 0.3)


def consolidate(cli: Any, *options: str) -> dict[str, Any]:
    result = cli("--json", "consolidate", *options)
    assert result.code == 0, result
    report: dict[str, Any] = result.json()
    return report


def test_exact_duplicates_merge_into_the_oldest_and_restore_undoes_it(cli) -> None:
    add_fillers(cli)
    # add refuses exact duplicates; an import of two ids with the same text makes them.
    lines = jsonl(
        {
            "id": "dup00001",
            "text": "The VPN key is in the blue folder",
            "tags": ["vpn"],
            "created_at": "2026-01-01T10:00:00Z",
        },
        {
            "id": "dup00002",
            "text": "the vpn key is in the  BLUE folder",
            "tags": ["keys"],
            "created_at": "2026-02-01T10:00:00Z",
            "importance": 4,
        },
    )
    assert cli("import", "-", input=lines).code == 0
    report = consolidate(cli)
    assert [(m["id"], m["into"], m["kind"]) for m in report["merged"]] == [
        ("dup00002", "dup00001", "duplicate")
    ]
    memories = by_id(cli)
    assert memories["dup00002"]["state"] == "archived"
    assert memories["dup00001"]["tags"] == ["vpn", "keys"]
    assert memories["dup00001"]["importance"] == 4
    assert recall_ids(cli, "vpn key folder", "--mode", "keyword") == ["dup00001"]
    assert "dup00002" in recall_ids(cli, "vpn key folder", "--mode", "keyword", "--all")

    history = cli("--json", "history", "dup00002").json()
    assert history["merged_into"] == "dup00001"
    assert "merged" in [e["kind"] for e in history["events"]]
    assert cli("--json", "history", "dup00001").json()["absorbed"] == ["dup00002"]

    assert cli("restore", "dup00002").code == 0
    memories = by_id(cli)
    assert memories["dup00002"]["state"] == "active"
    assert memories["dup00001"]["tags"] == ["vpn"]
    assert memories["dup00001"]["importance"] == 3
    # Undone once, never merged again.
    assert consolidate(cli)["merged"] == []


def test_near_duplicates_merge_and_different_facts_do_not(cli) -> None:
    add_fillers(cli)
    first = add(cli, "Staging DB: port 6543.", "-t", "db")
    second = add(cli, "staging db port 6543", "-t", "infra")
    alice = add(cli, "Alice phone number 555-1234")
    bob = add(cli, "Bob phone number 555-9876")
    report = consolidate(cli)
    assert [(m["id"], m["into"], m["kind"]) for m in report["merged"]] == [
        (second, first, "near-duplicate")
    ]
    memories = by_id(cli)
    assert memories[first]["tags"] == ["db", "infra"]
    # Two people's numbers: neither merged nor superseded.
    assert memories[alice]["state"] == memories[bob]["state"] == "active"
    assert report["superseded"] == []


def test_numbered_things_stay_apart(cli) -> None:
    """Invoice 1042 and invoice 1043, server 3 and server 7, note i about walnuts: each is
    its own fact, however alike the vectors are."""
    add_fillers(cli)
    ids = [
        add(cli, text)
        for text in (
            "invoice 1042 is paid",
            "invoice 1043 is paid",
            "build server 3 is down",
            "build server 7 is down",
            *(f"note {i} about walnuts" for i in range(1, 31)),
        )
    ]
    report = consolidate(cli)
    assert report["superseded"] == [] and report["merged"] == []
    memories = by_id(cli)
    assert all(memories[i]["state"] == "active" for i in ids)
    found = recall_ids(cli, "which build server is down", "--mode", "keyword")
    assert set(ids[2:4]) <= set(found)


def test_a_newer_value_supersedes_the_older_and_restore_undoes_it(cli) -> None:
    add_fillers(cli)
    old = add(cli, "Alice phone number 555-1234", "--at", "2026-03-01")
    new = add(cli, "Alice phone number is now 555-4444", "--at", "2026-06-01")
    report = consolidate(cli)
    assert [(s["id"], s["by"]) for s in report["superseded"]] == [(old, new)]
    memories = by_id(cli)
    assert memories[old]["state"] == "archived" and memories[new]["state"] == "active"
    assert cli("--json", "history", old).json()["superseded_by"] == new
    assert recall_ids(cli, "Alice phone number", "--mode", "keyword") == [new]

    assert cli("restore", old).code == 0
    assert by_id(cli)[old]["state"] == "active"
    assert consolidate(cli)["superseded"] == []


def test_the_older_fact_never_supersedes_the_newer(cli) -> None:
    add_fillers(cli)
    # Stored in the other order: what happened later wins, whenever it was written down.
    new = add(cli, "office door code 4471", "--at", "2026-05-01")
    old = add(cli, "office door code 1234", "--at", "2025-05-01")
    report = consolidate(cli)
    assert [(s["id"], s["by"]) for s in report["superseded"]] == [(old, new)]


def test_dry_run_prints_the_plan_and_changes_nothing(cli, store_path: Path) -> None:
    add_fillers(cli)
    old = add(cli, "Alice phone number 555-1234", "--at", "2026-03-01")
    add(cli, "Alice phone number is now 555-4444", "--at", "2026-06-01")
    before = sha256(store_path)
    result = cli("consolidate", "--dry-run")
    assert result.code == 0, result
    assert f"supersede  {old}" in result.stdout
    assert "would, as of" in result.stderr and "supersede 1" in result.stderr
    assert sha256(store_path) == before
    assert query_db(store_path, "SELECT count(*) FROM runs") == [(0,)]


def test_a_second_run_changes_nothing(cli, store_path: Path) -> None:
    add_fillers(cli)
    add(cli, "Alice phone number 555-1234", "--at", "2026-03-01")
    add(cli, "Alice phone number is now 555-4444", "--at", "2026-06-01")
    add(cli, "a trivial note", "-i", "1", "--at", "2025-01-01")
    first = consolidate(cli)
    assert first["superseded"]
    state = by_id(cli)
    second = consolidate(cli)
    assert (second["merged"], second["superseded"], second["archived"]) == ([], [], [])
    assert by_id(cli) == state
    assert query_db(store_path, "SELECT count(*) FROM runs") == [(2,)]


def test_as_of_archives_faded_memories_and_never_deletes(cli) -> None:
    add_fillers(cli)
    trivial = add(cli, "remember to water the basil", "-i", "1")
    vital = add(cli, "blood type is O negative", "-i", "5")
    pinned = add(cli, "grandma's birthday is in May", "-i", "1", "--pin")
    report = consolidate(cli, "--as-of", "2027-12-31")
    archived = {a["id"] for a in report["archived"]}
    assert trivial in archived
    assert vital not in archived and pinned not in archived
    memories = by_id(cli)
    assert len(memories) == 8  # nothing deleted
    assert memories[trivial]["state"] == "archived"
    assert cli("restore", trivial).code == 0
    # Restoring restarts the decay clock (at the real now, before 2027): the same night
    # therefore would archive it again, but a night soon after the restore does not.
    assert consolidate(cli)["archived"] == []
    assert by_id(cli)[trivial]["state"] == "active"


def test_forget_then_consolidate_erases_the_bytes(cli, store_path: Path) -> None:
    add_fillers(cli)
    secret = add(cli, "the safe combination is 31-17-4 zebrawood")
    add(cli, "keep the receipt for the dishwasher")
    assert cli("forget", secret, "-y").code == 0

    def file_bytes() -> bytes:
        return store_file_bytes(store_path)

    assert b"zebrawood" in file_bytes()  # deleted, not yet erased: the test can see it
    assert cli("--json", "stats").json()["erasure_pending"] is True
    report = consolidate(cli)
    assert report["erase"] is True and report["bytes_after"] > 0
    assert b"zebrawood" not in file_bytes()
    assert b"dishwasher" in file_bytes()
    assert query_db(store_path, "SELECT erased FROM runs") == [(True,)]
    assert query_db(store_path, "SELECT value FROM meta WHERE key = 'needs_erasure'") == [("0",)]
    assert consolidate(cli)["erase"] is False
    stats = cli("--json", "stats").json()
    assert stats["erasure_pending"] is False
    assert stats["last_consolidation"]["rewrote_file"] is False  # the second run had no work


def test_consolidate_backfills_missing_vectors(cli, store_path: Path, memcli_home: Path) -> None:
    config = memcli_home / "config.toml"
    working = config.read_text()
    config.write_text('[model]\nname = "memcli-test/missing"\npath = "/nonexistent/model"\n')
    first = add(cli, "the boiler service is due in March")
    config.write_text(working)
    report = consolidate(cli)
    assert report["backfilled"] == 1
    assert query_db(
        store_path,
        "SELECT count(*) FROM vectors v JOIN memories m USING (seq) WHERE m.id = ?",
        [first],
    ) == [(1,)]


def test_consolidate_without_a_store_is_a_no_op(cli, store_path: Path) -> None:
    result = cli("consolidate")
    assert result.code == 0, result
    assert not store_path.exists()
    assert "nothing to consolidate" in result.stderr


def test_history_of_an_unknown_id_is_a_clean_error(cli) -> None:
    add_fillers(cli)
    result = cli("history", "zzzzzzzz")
    assert result.code == 1 and "Traceback" not in result.stderr


def test_an_edit_after_a_run_as_of_a_future_date_is_still_compared(cli) -> None:
    add_fillers(cli)
    old = add(cli, "office door code 1234", "-i", "5", "--at", "2025-01-01")
    other = add(cli, "the kettle in the kitchen is broken", "-i", "5", "--at", "2026-01-01")
    assert consolidate(cli, "--as-of", "2031-01-01")["superseded"] == []
    assert cli("edit", other, "--text", "office door code 4471").code == 0
    report = consolidate(cli)
    assert [(s["id"], s["by"]) for s in report["superseded"]] == [(old, other)]


def test_doctor_says_when_consolidate_last_ran(cli) -> None:
    add_fillers(cli)
    before = cli("doctor")
    assert "consolidate    never run" in before.stdout, before
    assert "memcli schedule install" in before.stdout + before.stderr
    consolidate(cli)
    after = cli("doctor")
    assert "consolidate    last run" in after.stdout, after


def test_runs_lists_past_nightly_runs_with_their_ids(cli) -> None:
    """A no-op run no longer hides the merge of the run before it."""
    assert cli("runs").code == 0 and cli("--json", "runs").json() == []
    add_fillers(cli)
    lines = jsonl(
        {"id": "dup00001", "text": "The VPN key is in the blue folder"},
        {"id": "dup00002", "text": "the vpn key is in the  BLUE folder"},
    )
    assert cli("import", "-", input=lines).code == 0
    first = consolidate(cli)
    second = consolidate(cli)
    assert second["merged"] == []
    runs = cli("--json", "runs").json()
    assert [r["run_id"] for r in runs] == [second["run_id"], first["run_id"]]
    assert [(m["id"], m["into"]) for m in runs[1]["merged"]] == [("dup00002", "dup00001")]
    text = cli("runs").stdout
    assert "1 merged" in text and "merged     dup00002 into dup00001" in text
    assert len(cli("--json", "runs", "-k", "1").json()) == 1
