"""Forgetting for good: choose what goes, then delete it in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import duckdb

from memcli.errors import AmbiguousId, NotFound, UsageError
from memcli.records import Memory
from memcli.search.recall import RecallRequest
from memcli.service.context import Context
from memcli.service.lookup import resolve, resolve_all
from memcli.service.reading import recall_memories
from memcli.store import events as event_log
from memcli.store import memories as rows
from memcli.store import meta as store_meta
from memcli.store.connection import NoStore, Store
from memcli.store.memories import Filters
from memcli.store.rewrite import RewriteResult, rewrite_store


@dataclass(frozen=True)
class ForgetSelector:
    ids: tuple[str, ...] = ()
    query: str | None = None
    limit: int = 1
    tag: str | None = None
    before: datetime | None = None


def select_for_forget(ctx: Context, selector: ForgetSelector) -> list[Memory]:
    """The memories a forget command would remove (active and archived alike)."""
    if selector.ids and (selector.query or selector.tag or selector.before):
        raise UsageError("give ids, or --query/--tag/--before, not both")
    if not (selector.ids or selector.query or selector.tag or selector.before):
        raise UsageError("nothing to forget", "give ids, --query Q, --tag T or --before WHEN")
    filters = Filters(
        tags=(selector.tag,) if selector.tag else (),
        until=selector.before,
        states=("active", "archived"),
    )
    try:
        if selector.query is not None:
            request = RecallRequest(selector.query, limit=selector.limit, filters=filters)
            return [hit.memory for hit in recall_memories(ctx, request, reinforce=False)]
        with ctx.store(write=False) as store:
            if selector.ids:
                return resolve_all(store.con, list(selector.ids))
            return rows.select(store.con, filters, "m.created_at, m.seq", None)
    except NoStore:
        if selector.ids:
            raise
        return []


def names_a_memory(ctx: Context, words: list[str]) -> bool:
    """Whether any of `words` is the id (or an id prefix) of a stored memory: then
    `forget WORD --query Q` gives ids and a query, not a query of several words."""
    try:
        with ctx.store(write=False) as store:
            for word in words:
                try:
                    resolve(store.con, word)
                    return True
                except AmbiguousId:
                    return True
                except (NotFound, UsageError):
                    continue
    except NoStore:
        pass
    return False


def forget(
    ctx: Context,
    memories: list[Memory],
    erase_now: bool = False,
    by_agent: tuple[str, str] | None = None,
) -> int:
    """Delete the memories (text, history, postings, vectors); returns how many were deleted.

    The deleted bytes stay in the file's free blocks until the next consolidate rewrites
    it, or at once with `erase_now`. `by_agent` (client, reason) records who forgot them
    and why, in the same transaction (memcli history ID shows it)."""
    if not memories:
        return 0
    with ctx.store(write=True) as store:
        with store.transaction() as con:
            present = rows.ids_present(con, [m.id for m in memories])
            seqs = [m.seq for m in memories if m.id in present]
            rows.delete(con, seqs)
            store_meta.set_meta(con, "needs_erasure", "1")
            if by_agent is not None:
                gone = [m.id for m in memories if m.id in present]
                event_log.add_forgotten_by_agent(con, gone, ctx.now(), *by_agent)
        if erase_now:
            erase(store)
        return len(seqs)


def erase(
    store: Store, also: Callable[[duckdb.DuckDBPyConnection, str], None] | None = None
) -> RewriteResult:
    """Rewrite the (write-locked) store into a fresh file: what was deleted or edited away
    is then in no byte of the store or its WAL. `also` changes the copy too."""

    def finish(con: duckdb.DuckDBPyConnection, schema: str) -> None:
        store_meta.clear_needs_erasure(con, schema)
        if also is not None:
            also(con, schema)

    return rewrite_store(store, finish=finish)
