"""Adding and changing memories; every function is one transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import duckdb

from memcli.errors import UsageError
from memcli.records import Memory
from memcli.service.context import Context
from memcli.service.ingest import (
    VECTORS_MISSING,
    embed_prepared,
    insert_memory,
    prepare,
    unused_id,
    write_index,
)
from memcli.service.lookup import resolve, resolve_all
from memcli.store import events as event_log
from memcli.store import memories as rows
from memcli.store import meta as store_meta
from memcli.textutil import check_tag_count, check_text
from memcli.timeparse import to_utc_iso


@dataclass(frozen=True)
class AddResult:
    memory: Memory
    status: str  # 'added' | 'reinforced'
    superseded: str | None = None


def add(
    ctx: Context,
    text: str,
    *,
    tags: list[str],
    importance: int = 3,
    pinned: bool = False,
    at: datetime | None = None,
    source: str = "cli",
    supersedes: str | None = None,
    origin: str | None = None,
    pending: bool = False,
    reason: str | None = None,
) -> AddResult:
    """Store a memory, or reinforce the existing one with the same normalised text.

    `origin` says who wrote it beyond `source` (an MCP client); `pending` holds it from
    recall until a person approves it; `reason` goes into the history of what it
    supersedes.

    With the model loaded, a few memories stored earlier without a vector (the model was
    missing then) are embedded too (BACKFILL_PER_ADD), so they become searchable by
    meaning without a `reindex`; consolidate embeds any that remain."""
    text = check_text(text, ctx.settings.max_text_bytes)
    _check_importance(importance)
    prepared = prepare(text)
    # Embed before taking the store's lock: the model is the slow part.
    embedder = ctx.embedder()
    ctx.model_notice("stored without a vector (the next add or consolidate with the model adds it)")
    vectors = embed_prepared(embedder, [prepared])[0]
    now = ctx.now()
    with ctx.store(write=True, create=True) as store, store.transaction() as con:
        waiting = embedder is not None and bool(store_meta.get_meta(con, VECTORS_MISSING))
        old = resolve(con, supersedes) if supersedes else None
        existing = rows.find_by_hash(con, prepared.hash)
        if existing is not None and (old is None or old.id != existing.id):
            memory = _reinforce_duplicate(
                con, existing, tags, importance, pinned, now, by_agent=source == "mcp"
            )
            status = "reinforced"
        else:
            memory = Memory(
                id=unused_id(con),
                text=text,
                tags=tags,
                created_at=at or now,
                added_at=now,
                updated_at=now,
                importance=importance,
                pinned=pinned,
                state="pending" if pending else "active",
                source=source,
                superseded_by=None,
                reinforced_at=None,
                reinforcements=0,
                origin=origin,
            )
            memory.seq = insert_memory(
                con, memory, prepared, vectors, embedder.name if embedder else None
            )
            by = f" by={origin}" if origin else ""
            event_log.add_event(con, memory.id, now, "created", f"source={source}{by}")
            status = "added"
        if old is not None:
            _supersede(con, old, memory.id, now, reason)
    if waiting:
        # Imported only then: maintenance brings ~10 ms of imports a plain add never needs.
        from memcli.service.maintenance import reindex

        reindex(ctx, missing_only=True, limit=BACKFILL_PER_ADD)
    return AddResult(memory, status, old.id if old else None)


BACKFILL_PER_ADD = 8  # about 40 ms of embedding short notes: an add stays quick


def _supersede(
    con: duckdb.DuckDBPyConnection, old: Memory, new_id: str, now: datetime, reason: str | None
) -> None:
    """Archive `old` with a link to the memory that replaces it; both histories say so."""
    rows.update_fields(con, old.seq, now, state="archived", superseded_by=new_id)
    why = f" reason={reason}" if reason else ""
    event_log.add_event(con, old.id, now, "superseded", f"by={new_id}{why}")
    event_log.add_event(con, new_id, now, "supersedes", f"old={old.id}")


def _reinforce_duplicate(
    con: duckdb.DuckDBPyConnection,
    existing: Memory,
    tags: list[str],
    importance: int,
    pinned: bool,
    now: datetime,
    by_agent: bool = False,
) -> Memory:
    """Re-adding known text: count a reinforcement, unite tags, wake it if archived. An
    agent's re-add never approves a pending memory; a person's re-add vouches for it."""
    merged_tags = existing.tags + [t for t in tags if t not in existing.tags]
    changes: dict[str, object] = {}
    if merged_tags != existing.tags:
        changes["tags"] = merged_tags
    if importance > existing.importance:
        changes["importance"] = importance
    if pinned and not existing.pinned:
        changes["pinned"] = True
    if existing.state != "active" and not (by_agent and existing.state == "pending"):
        changes["state"] = "active"
    if not by_agent and existing.needs_review:
        changes["reviewed_at"] = now
    if changes:
        rows.update_fields(con, existing.seq, now, **changes)
    rows.count_reinforcement(con, existing.seq, now)
    event_log.add_event(con, existing.id, now, "reinforced", "re-added")
    updated = rows.get(con, existing.id)
    assert updated is not None
    return updated


def _check_importance(importance: int) -> None:
    if not 1 <= importance <= 5:
        raise UsageError(f"importance {importance} is out of range", "use a value from 1 to 5")


def edit(
    ctx: Context,
    ref: str,
    *,
    text: str | None = None,
    importance: int | None = None,
    at: datetime | None = None,
    expected_updated_at: datetime | None = None,
) -> Memory:
    """Change a memory's text (re-indexed and re-embedded), importance or date."""
    prepared = None
    vectors = None
    embedder = None
    if text is not None:
        text = check_text(text, ctx.settings.max_text_bytes)
        prepared = prepare(text)
        embedder = ctx.embedder()
        ctx.model_notice("edited text has no vector yet (memcli reindex adds it)")
        vectors = embed_prepared(embedder, [prepared])[0]
    if importance is not None:
        _check_importance(importance)
    now = ctx.now()
    with ctx.store(write=True) as store, store.transaction() as con:
        memory = resolve(con, ref)
        if expected_updated_at is not None and memory.updated_at != expected_updated_at:
            raise UsageError(
                f"memory {memory.id} changed while you were editing it; nothing was saved",
                f"run memcli edit {memory.id} again",
            )
        changes: dict[str, object] = {}
        if importance is not None and importance != memory.importance:
            changes["importance"] = importance
            event_log.add_event(
                con, memory.id, now, "edited", f"importance {memory.importance} -> {importance}"
            )
        if at is not None and at != memory.created_at:
            changes["created_at"] = at
            event_log.add_event(
                con,
                memory.id,
                now,
                "edited",
                f"date {to_utc_iso(memory.created_at)} -> {to_utc_iso(at)}",
            )
        text_changed = prepared is not None and prepared.text != memory.text
        if memory.needs_review and (changes or text_changed):
            # A person changed what an agent wrote: they have read it (memcli review).
            changes["reviewed_at"] = now
            if memory.state == "pending":
                changes["state"] = "active"
            event_log.add_event(con, memory.id, now, "reviewed", "edited")
        if changes:
            rows.update_fields(con, memory.seq, now, **changes)
        if prepared is not None and text_changed:
            rows.update_text(con, memory.seq, prepared.text, prepared.hash, prepared.doc_len, now)
            write_index(con, memory.seq, prepared, vectors, embedder.name if embedder else None)
            event_log.add_event(con, memory.id, now, "edited")
            store_meta.set_meta(con, "needs_erasure", "1")  # the old text is still in free blocks
        updated = rows.get(con, memory.id)
        assert updated is not None
        return updated


def retag(ctx: Context, ref: str, add: list[str], remove: list[str]) -> Memory:
    now = ctx.now()
    with ctx.store(write=True) as store, store.transaction() as con:
        memory = resolve(con, ref)
        tags = [t for t in memory.tags if t not in remove]
        tags += [t for t in add if t not in tags]
        if len(tags) > len(memory.tags):
            check_tag_count(tags)
        if tags != memory.tags:
            rows.update_fields(con, memory.seq, now, tags=tags)
            event_log.add_event(con, memory.id, now, "tagged", " ".join(tags) or "-")
            memory = replace(memory, tags=tags)
        return memory


def set_flag(ctx: Context, refs: list[str], field: str, value: object, event: str) -> list[Memory]:
    """pin/unpin (field 'pinned') and archive/restore (field 'state') for many ids at once."""
    # Deferred: history brings in the consolidation store (2 ms), which `add` never needs.
    from memcli.service.history import reopen

    now = ctx.now()
    with ctx.store(write=True) as store, store.transaction() as con:
        changed = []
        for memory in resolve_all(con, refs):
            if getattr(memory, field) == value:
                changed.append(memory)
                continue
            if field == "state" and value == "active":
                reopen(con, memory, now)  # undoes a merge, a supersession or decay
            else:
                rows.update_fields(con, memory.seq, now, **{field: value})
            event_log.add_event(con, memory.id, now, event)
            updated = rows.get(con, memory.id)
            assert updated is not None
            changed.append(updated)
        return changed
