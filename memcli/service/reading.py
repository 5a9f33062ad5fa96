"""Reading memories: show one, list many, recall by query."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from memcli.errors import DiskFull, ModelUnavailable, StoreBusy
from memcli.lifecycle.decay import memory_retention
from memcli.records import Event, Hit, Memory
from memcli.search.recall import QueryVector, RecallRequest, recall
from memcli.service.context import Context
from memcli.service.ingest import VECTORS_MISSING
from memcli.service.lookup import resolve
from memcli.store import events as event_log
from memcli.store import index
from memcli.store import memories as rows
from memcli.store import meta as store_meta
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


def show(ctx: Context, ref: str, say_unwritten: bool = False) -> Shown:
    """One memory with its history; looking at it counts as a reinforcement (once a day),
    written as recall writes its own (see _reinforce)."""
    now = ctx.now()
    with ctx.store(write=False) as store:
        memory = resolve(store.con, ref)
        events = event_log.events(store.con, memory.id)
    done = _reinforce(ctx, [memory], now, "shown", say_unwritten)
    if done:
        memory = replace(memory, reinforced_at=now, reinforcements=memory.reinforcements + 1)
        events.append(Event(memory.id, now, "reinforced", "shown"))
    return Shown(memory, events)


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


def _say_unembedded(ctx: Context, con: Any, model: str) -> None:
    """Memories stored while the model was missing are found by their words only, until
    the next add or consolidate embeds them: say how many, once."""
    if not store_meta.get_meta(con, VECTORS_MISSING):
        return
    missing = len(index.seqs_without_vectors(con, model))
    if missing:
        ctx.notice(
            f"{missing} memor{'y is' if missing == 1 else 'ies are'} not searchable by meaning "
            "yet (stored while the model was missing): the next add or memcli consolidate "
            "embeds them"
        )


def count_memories(ctx: Context, filters: Filters) -> int:
    try:
        with ctx.store(write=False) as store:
            return rows.count(store.con, filters)
    except NoStore:
        return 0


def recall_memories(
    ctx: Context, request: RecallRequest, reinforce: bool = True, say_unwritten: bool = False
) -> list[Hit]:
    """Hybrid (or single-channel) recall; shown hits are reinforced once a day (unless
    `reinforce` is off: the hits are only candidates, e.g. for forget --query).
    `say_unwritten`: add a notice when the store could not take the reinforcements."""
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
            if query_vector is not None:
                _say_unembedded(ctx, store.con, query_vector.model)
    except NoStore:
        return []
    if reinforce:
        _reinforce(ctx, [h.memory for h in hits], now, "recalled", say_unwritten)
    return hits


def reinforce_recalled(ctx: Context, hits: list[Hit]) -> None:
    """Count the hits of a recall made with reinforce=False as recalled (a server that
    answers first and writes after)."""
    _reinforce(ctx, [h.memory for h in hits], ctx.now(), "recalled", False)


def _reinforce(
    ctx: Context, memories: list[Memory], now: datetime, why: str, say_unwritten: bool
) -> set[int]:
    """Count a reinforcement for the memories not reinforced in the last day, in a writer
    opened only when one is due; returns the seqs counted. A store this process may not
    write (a read-only file or file system, a full device) was read all the same: the
    reinforcement is skipped, with a notice when `say_unwritten`."""
    due = [m.seq for m in memories if rows.due_for_reinforcement(m, now)]
    if not due:
        return set()
    path = ctx.settings.db_path
    why_not = None if may_write(path) else f"{path} is read-only here"
    if why_not is None:
        try:
            with ctx.store(write=True, brief=True) as store, store.transaction() as con:
                # reinforce() checks the day rule again: another process may have counted one.
                done = set(rows.reinforce(con, due, now))
                ids = [m.id for m in memories if m.seq in done]
                event_log.add_events(con, ids, now, "reinforced", why)
                return done
        except StoreBusy:
            return set()  # another process keeps the store: the next look within a day counts
        except DiskFull:
            why_not = f"no space left on the device holding {path}"
    if say_unwritten:
        ctx.notice(f"{why_not}: not counted as {why}")
    return set()
