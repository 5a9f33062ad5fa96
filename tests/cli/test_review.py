"""memcli review, and what a person's edit of an agent's memory means."""

from __future__ import annotations

from typing import Any

from tests.cli.helpers import add, jsonl


def agent_memory(cli: Any, memory_id: str, text: str, state: str = "pending") -> None:
    line = jsonl(
        {"id": memory_id, "text": text, "source": "mcp", "origin": "agent 1.0", "state": state}
    )
    assert cli("import", "-", input=line).code == 0


def test_review_lists_agent_memories_and_approves_them(cli) -> None:
    person = add(cli, "my own note about the garden")
    agent_memory(cli, "agent001", "the user waters the garden on sundays")
    agent_memory(cli, "agent002", "the user likes tulips", state="active")
    listed = cli("--json", "review").json()
    assert [(m["id"], m["state"], m["origin"]) for m in listed] == [
        ("agent001", "pending", "agent 1.0"),
        ("agent002", "active", "agent 1.0"),
    ]
    text = cli("review")
    assert (
        "[pending]" in text.stdout
        and "[unreviewed]" in text.stdout
        and "by agent 1.0" in text.stdout
    )
    refused = cli("review", "--approve", person)
    assert refused.code == 1 and "not written by an agent" in refused.stderr
    assert cli("--json", "review", "--approve", "agent001").json() == {"approved": ["agent001"]}
    assert [m["id"] for m in cli("--json", "review").json()] == ["agent002"]
    shown = cli("--json", "show", "agent001").json()
    assert shown["state"] == "active" and shown["reviewed_at"] is not None


def test_a_persons_edit_reviews_an_agent_memory_and_every_edit_is_in_history(cli) -> None:
    agent_memory(cli, "agent003", "the user's bike lock code is 1234")
    assert cli("edit", "agent003", "-i", "4").code == 0
    events = [
        (e["kind"], e["detail"]) for e in cli("--json", "history", "agent003").json()["events"]
    ]
    assert ("edited", "importance 3 -> 4") in events and ("reviewed", "edited") in events
    assert cli("--json", "review").json() == []
    assert cli("edit", "agent003", "--at", "2026-01-02").code == 0
    events = [e["detail"] for e in cli("--json", "history", "agent003").json()["events"]]
    assert any(
        d and d.startswith("date ") and d.endswith("-> 2026-01-02T00:00:00Z") for d in events
    )  # The new date in UTC: 2026-01-01 or 01-02, depending on the local zone.
    assert any(d and d.startswith("date ") and "-> 2026-01-0" in d for d in events)
