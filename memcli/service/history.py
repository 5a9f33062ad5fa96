"""A memory's history, and `restore` as the undo of whatever archived it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from memcli.errors import NotFound
from memcli.records import Event, Memory
from memcli.service.context import Context
from memcli.service.lookup import resolve
from memcli.store import consolidation as runs
from memcli.store import events as event_log
from memcli.store import memories as rows
from memcli.store.connection import NoStore
from memcli.timeparse import to_utc_iso


@dataclass(frozen=True)
class History:
    memory: Memory
    events: list[Event]
    merged_into: str | None  # archived by a merge into this memory
    superseded_by: str | None  # archived because this newer memory replaced it
    absorbed: list[str]  # memories merged into this one


def history(ctx: Context, ref: str) -> History:
    """Read-only: looking at the history is not a reinforcement."""
    with ctx.store(write=False) as store:
        con = store.con
        try:
            memory = resolve(con, ref)
        except NotFound:
            gone = event_log.forgotten_by_agent(con, ref.strip().lower())
            if gone is None:
                raise
            raise NotFound(
                f"memory {gone.memory_id} was forgotten by an agent on {to_utc_iso(gone.at)} "
                f"({gone.detail})"
            ) from None
        merge = runs.merge_of(con, memory.id) if memory.superseded_by else None
        return History(
            memory=memory,
            events=event_log.events(con, memory.id),
            merged_into=merge.keeper_id if merge else None,
            superseded_by=None if merge else memory.superseded_by,
            absorbed=runs.absorbed_ids(con, memory.id),
        )


def nightly_runs(ctx: Context, limit: int) -> list[runs.Run]:
    """The last `limit` consolidation runs, newest first (none without a store)."""
    try:
        with ctx.store(write=False) as store:
            return runs.recent_runs(store.con, limit)
    except NoStore:
        return []


def reopen(con: duckdb.DuckDBPyConnection, memory: Memory, now: datetime) -> None:
    """Make an archived memory active again, undoing what archived it.

    A merge is undone on the keeper too (the tags and counts it brought are taken back, the
    keeper's importance and pin put back), and the pair is kept apart so the next
    consolidation does not merge or supersede it again. Decay's clock restarts now, or
    the next run would archive it again at once."""
    link = memory.superseded_by
    if link is not None:
        merge = runs.merge_of(con, memory.id)
        keeper = rows.get(con, link)
        if merge is not None and keeper is not None:
            tags = [t for t in keeper.tags if t not in merge.added_tags]
            runs.unmerge_keeper(con, keeper.seq, merge, tags, now)
            event_log.add_event(con, keeper.id, now, "unmerged", f"from={memory.id}")
        elif keeper is not None:
            event_log.add_event(con, keeper.id, now, "supersession undone", f"old={memory.id}")
        if merge is not None:
            runs.drop_merge(con, memory.id)
        runs.keep_apart(con, memory.id, link)
    rows.reactivate(con, memory.seq, now)
