"""Reading memories: show one, list many, recall by query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from memcli.errors import ModelUnavailable, StoreBusy
from memcli.lifecycle.decay import memory_retention
from memcli.records import Event, Hit, Memory
from memcli.search.recall import QueryVector, RecallRequest, recall
from memcli.service.context import Context
from memcli.service.lookup import resolve
from memcli.store import events as event_log
from memcli.store import memories as rows
from memcli.store.connection import NoStore, may_write
from memcli.store.memories import Filters

SORTS = {
    "created": "m.created_at DESC, m.seq DESC",
    "recalled": "m.reinforced_at DESC NULLS LAST, m.created_at DESC, m.seq DESC",
    "strength": None,  # computed in Python: retention needs `now`
}


def strength(ctx: Context, memory: Memory) -> float:
    touched = memory.reinforced_at or memory.added_at
    return memory_retention(
        memory.importance, memory.reinforcements, memory.pinned, touched, ctx.now()
    )


@dataclass(frozen=True)
class Shown:
    memory: Memory
    events: list[Event]


def show(ctx: Context, ref: str) -> Shown:
    """One memory with its history; looking at it counts as a reinforcement (once a day)."""
    now = ctx.now()
    with ctx.store(write=True) as store, store.transaction() as con:
        memory = resolve(con, ref)
        if rows.due_for_reinforcement(memory, now) and rows.reinforce(con, [memory.seq], now):
            event_log.add_event(con, memory.id, now, "reinforced", "shown")
        return Shown(memory, event_log.events(con, memory.id))


def list_memories(ctx: Context, filters: Filters, sort: str, limit: int | None) -> list[Memory]:
    try:
        with ctx.store(write=False) as store:
            order = SORTS[sort]
            if order is not None:
                return rows.select(store.con, filters, order, limit)
            found = rows.select(store.con, filters, "m.seq DESC", None)
    except NoStore:
        return []
    found.sort(key=lambda m: -strength(ctx, m))
    return found if limit is None else found[:limit]


def recall_memories(ctx: Context, request: RecallRequest, reinforce: bool = True) -> list[Hit]:
    """Hybrid (or single-channel) recall; shown hits are reinforced once a day (unless
    `reinforce` is off: the hits are only candidates, e.g. for forget --query)."""
    query_vector = None
    if request.mode != "keyword":
        embedder = ctx.embedder()
        if embedder is None:
            assert ctx.model_error is not None
            if request.mode == "semantic":
                raise ModelUnavailable(
                    f"semantic search needs the embedding model: {ctx.model_error.message}",
                    ctx.model_error.hint or "use --mode keyword",
                )
            ctx.model_notice("keyword search only")
        else:
            query_vector = QueryVector(embedder.name, embedder.embed_query(request.query))
    now = ctx.now()
    try:
        # The search reads on a read-only connection: most recalls write nothing (the same
        # query again within a day), and a reader is cheaper to open and close than a writer.
        with ctx.store(write=False) as store:
            hits = recall(store.con, request, query_vector, now)
    except NoStore:
        return []
    if reinforce:
        _reinforce_hits(ctx, hits, now)
    return hits


def _reinforce_hits(ctx: Context, hits: list[Hit], now: datetime) -> None:
    """Count a reinforcement for the hits not reinforced in the last day, in a writer opened
    only when one is due. A store this process may not write (a read-only file or file
    system) is searched all the same, without reinforcing."""
    due = [h.memory.seq for h in hits if rows.due_for_reinforcement(h.memory, now)]
    if not due or not may_write(ctx.settings.db_path):
        return
    try:
        with ctx.store(write=True, brief=True) as store, store.transaction() as con:
            # reinforce() checks the day rule again: another process may have counted one.
            done = set(rows.reinforce(con, due, now))
            ids = [h.memory.id for h in hits if h.memory.seq in done]
            event_log.add_events(con, ids, now, "reinforced", "recalled")
    except StoreBusy:
        pass  # the hits were found; a recall while another process keeps the store counts
        # no reinforcement (the next one within a day will)
