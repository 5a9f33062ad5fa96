"""The fixed store of the TUI tests: ten memories with fixed ids and dates, and a frozen clock.

It is imported through the real import path with the clock frozen, so snapshots and
assertions never depend on when the suite runs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from memcli.config import load_settings
from memcli.service.context import Context
from memcli.service.transfer import import_memories
from memcli.timeparse import parse_iso_utc

NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)

MEMORIES: list[dict[str, object]] = [
    {
        "id": "stagdb01",
        "text": "staging database port is 6543, user ro_reader\nask ops for the password",
        "tags": ["work", "db"],
        "created_at": "2025-03-14T09:12:00Z",
        "importance": 4,
    },
    {
        "id": "dentist2",
        "text": "dentist appointment on friday at 10, bring the insurance card",
        "tags": ["health"],
        "created_at": "2025-03-18T16:30:00Z",
    },
    {
        "id": "wifipass",
        "text": "home wifi password is correct-horse-battery",
        "tags": ["home"],
        "created_at": "2025-01-05T20:00:00Z",
        "pinned": True,
    },
    {
        "id": "mombday4",
        "text": "mother birthday is on june 3rd, she likes tea",
        "tags": ["family"],
        "created_at": "2024-11-02T08:00:00Z",
        "importance": 5,
    },
    {
        "id": "carserv5",
        "text": "my car needs a service at the garage next month",
        "created_at": "2025-02-10T10:00:00Z",
    },
    {
        "id": "oldvpn66",
        "text": "old vpn server address was 10.0.3.17",
        "tags": ["work"],
        "created_at": "2024-06-01T12:00:00Z",
        "state": "archived",
    },
    {
        "id": "milk0007",
        "text": "bought milk and bread at the market",
        "created_at": "2025-03-19T18:00:00Z",
    },
    {
        "id": "train008",
        "text": "the train to the station was late",
        "created_at": "2025-03-10T07:45:00Z",
    },
    {
        "id": "movie009",
        "text": "watched a movie with the kids",
        "created_at": "2025-02-28T21:00:00Z",
    },
    {
        "id": "printr10",
        "text": "the printer on the office network is broken",
        "tags": ["work"],
        "created_at": "2025-03-05T11:00:00Z",
    },
]


def frozen_context() -> Context:
    return Context(load_settings(), clock=lambda: NOW)


def import_fixed_store() -> None:
    """Each memory imported at the moment it was created, as if added then: strengths and
    histories differ from memory to memory, as in a store used for a while."""
    for memory in MEMORIES:
        created = parse_iso_utc(str(memory["created_at"]))
        context = Context(load_settings(), clock=lambda created=created: created)
        report = import_memories(context, [json.dumps(memory).encode()], skip_bad=False)
        assert report.imported == 1
