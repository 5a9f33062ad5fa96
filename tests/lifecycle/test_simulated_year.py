"""A year of nights: `consolidate` as of every night, with memories used as people use them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from memcli.config import load_settings
from memcli.search.recall import RecallRequest
from memcli.service.consolidation import consolidate
from memcli.service.context import Context
from memcli.service.reading import recall_memories
from memcli.service.transfer import export_memories
from memcli.service.writing import add

START = datetime(2026, 1, 1, 9, tzinfo=UTC)

# text, importance, pinned, recalled every N days (0: never)
PEOPLE_USE = {
    "pinned-trivia": ("the spare key hides under the blue flowerpot", 1, True, 0),
    "weekly-habit": ("gym locker combination is kept in the notes app", 1, False, 7),
    "monthly-bill": ("the electricity bill is paid by standing order", 2, False, 30),
    "vital": ("blood type is O negative", 4, False, 0),
    "untouched-trivial": ("try the new ramen place on Elm street", 1, False, 0),
    "untouched-normal": ("the plumber recommended replacing the boiler valve", 3, False, 0),
    "untouched-minor": ("the printer toner model is TN-2420", 2, False, 0),
}


def test_a_simulated_year_keeps_what_is_used_and_archives_the_rest() -> None:
    clock = [START]
    ctx = Context(load_settings(None), clock=lambda: clock[0])
    ids = {}
    for name, (text, importance, pinned, _) in PEOPLE_USE.items():
        ids[name] = add(ctx, text, tags=[], importance=importance, pinned=pinned).memory.id
    archived_on: dict[str, int] = {}
    for day in range(1, 366):
        clock[0] = START + timedelta(days=day)
        for name, (text, _, _, every) in PEOPLE_USE.items():
            if every and day % every == 0:
                hits = recall_memories(ctx, RecallRequest(text, limit=1))
                assert hits and hits[0].memory.id == ids[name], (day, name)
        night = START.replace(hour=3) + timedelta(days=day)
        report, _, _ = consolidate(ctx, as_of=night)
        for entry in report.archived:
            archived_on.setdefault(entry["id"], day)

    by_id = {m.id: m for m in export_memories(ctx, include_archived=True)}
    assert len(by_id) == len(PEOPLE_USE)  # nothing deleted
    state = {name: by_id[ids[name]].state for name in PEOPLE_USE}
    assert state == {
        "pinned-trivia": "active",
        "weekly-habit": "active",
        "monthly-bill": "active",
        "vital": "active",
        "untouched-trivial": "archived",
        "untouched-normal": "archived",
        "untouched-minor": "archived",
    }
    # Archived when three stabilities had passed: 3 weeks, 3 months, 9 months.
    assert archived_on[ids["untouched-trivial"]] == 22
    assert archived_on[ids["untouched-minor"]] == 91
    assert archived_on[ids["untouched-normal"]] == 271
