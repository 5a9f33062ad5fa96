"""Consolidation with the real all-MiniLM-L6-v2 and its real thresholds (skipped when
../shared/models is absent): what merges, what supersedes, and what must stay apart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REAL_MODEL

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (REAL_MODEL / "model.onnx").exists(),
        reason=f"the real all-MiniLM-L6-v2 is not at {REAL_MODEL}",
    ),
]

NOTES = [
    # (id, text, created_at)
    ("alice-01", "Alice's phone number is 555-1234", "2026-01-10"),
    ("bob--001", "Bob's phone number is 555-9876", "2026-02-10"),
    ("alice-02", "Alice's phone number is now 555-4444", "2026-05-10"),
    ("stage-01", "Staging DB: port 6543, user ro_reader.", "2026-03-01"),
    ("stage-02", "staging db port 6543 user ro_reader", "2026-03-05"),
    ("meet-001", "Team offsite on 2026-06-12 in Lisbon", "2026-04-01"),
    ("meet-002", "Team offsite on 2026-11-20 in Lisbon", "2026-09-01"),
    ("door-001", "The office door code is 4471", "2025-06-01"),
    ("door-002", "The office door code changed to 9012", "2026-06-01"),
    ("tea--001", "Priya likes green tea", "2026-01-01"),
    ("tea--002", "Priya does not like green tea", "2026-07-01"),
    ("host-001", "bastion host is 10.20.3.17", "2026-01-01"),
    ("host-002", "build server is 10.20.3.18", "2026-01-02"),
]


@pytest.fixture
def real_cli(cli: Any, memcli_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    (memcli_home / "config.toml").unlink()
    monkeypatch.setenv("MEMCLI_MODEL_PATH", str(REAL_MODEL))
    source = tmp_path / "notes.jsonl"
    source.write_text(
        "".join(
            json.dumps({"id": i, "text": t, "created_at": f"{d}T09:00:00Z"}) + "\n"
            for i, t, d in NOTES
        )
    )
    assert cli("import", str(source)).code == 0
    return cli


def test_real_consolidation_merges_supersedes_and_keeps_facts_apart(real_cli: Any) -> None:
    result = real_cli("--json", "consolidate")
    assert result.code == 0, result
    report = result.json()
    assert {(m["id"], m["into"]) for m in report["merged"]} == {("stage-02", "stage-01")}
    assert {(s["id"], s["by"]) for s in report["superseded"]} == {
        ("alice-01", "alice-02"),
        ("door-001", "door-002"),
    }
    states = {d["id"]: d["state"] for d in real_cli("--json", "export", "--all").json()}
    for kept in (
        "bob--001",
        "meet-001",
        "meet-002",
        "tea--001",
        "tea--002",
        "host-001",
        "host-002",
    ):
        assert states[kept] == "active", kept


def test_updates_written_the_way_people_write_them_supersede_and_nothing_else(
    cli: Any, memcli_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The personal notes of tests/search/notes_fixture.py, a week after the last one: the
    three updates in natural wording ("Bob's number is now ...", "Reorg: my new lead is
    ...", "Moved! New address: ...") supersede their older notes, and every other note,
    invoices 1042 and 1043 among them, stays active."""
    from datetime import UTC, datetime, timedelta

    from tests.search.notes_fixture import NOTES

    (memcli_home / "config.toml").unlink()
    monkeypatch.setenv("MEMCLI_MODEL_PATH", str(REAL_MODEL))
    last = datetime(2026, 11, 1, tzinfo=UTC)
    source = tmp_path / "notes.jsonl"
    source.write_text(
        "".join(
            json.dumps(
                {
                    "id": "n-" + key.replace("_", "-"),
                    "text": text,
                    "created_at": (last - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            )
            + "\n"
            for key, text, days in NOTES
        )
    )
    assert cli("import", str(source)).code == 0
    result = cli("--json", "consolidate", "--as-of", "2026-11-08")
    assert result.code == 0, result
    report = result.json()
    assert {(s["id"], s["by"]) for s in report["superseded"]} == {
        ("n-bob-old", "n-bob-new"),
        ("n-lead-old", "n-lead-new"),
        ("n-address-old", "n-address-new"),
    }
    assert report["merged"] == []
    states = {d["id"]: d["state"] for d in cli("--json", "export", "--all").json()}
    archived = {i for i, state in states.items() if state != "active"}
    assert archived == {"n-bob-old", "n-lead-old", "n-address-old"}


def test_families_of_numbered_notes_stay_apart(real_cli: Any, tmp_path: Path) -> None:
    """What an attack run found archived: 200 notes that differ only in the number that
    names them, and invoices, servers and rooms that differ the same way."""
    texts = [f"note {i} about walnuts" for i in range(200)] + [
        "invoice 1042 is paid",
        "invoice 1043 is paid",
        "build server 3 is down",
        "build server 7 is down",
        "meeting in room 12 at 10:00",
        "meeting in room 14 at 10:00",
    ]
    source = tmp_path / "family.jsonl"
    source.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    assert real_cli("import", str(source)).code == 0
    report = real_cli("--json", "consolidate").json()
    # The fixture's own duplicate and updates, nothing else.
    assert {m["id"] for m in report["merged"]} == {"stage-02"}
    assert {s["id"] for s in report["superseded"]} == {"alice-01", "door-001"}
