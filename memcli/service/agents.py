"""What agents may do with the memory (memcli mcp), and a person's review of what they wrote.

An agent's memory is untrusted until a person has looked at it: its text loses what a
reviewer could not see (memcli.textutil.strip_hidden), it records which client wrote it, it
may be held from recall until approved (`pending`), and an agent forgets only what agents
wrote, a few ids at a time, never by a query or a tag.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from memcli.errors import InvalidInput, NotFound, UsageError
from memcli.lifecycle.similarity import read, relation
from memcli.records import Hit, Memory
from memcli.search.recall import RecallRequest
from memcli.service import forgetting, reading, writing
from memcli.service.context import Context
from memcli.service.lookup import resolve_all
from memcli.store import events as event_log
from memcli.store import memories as rows
from memcli.store.connection import NoStore
from memcli.store.memories import Filters
from memcli.textutil import check_text, clean_tags, strip_hidden
from memcli.timeparse import parse_when

MAX_IDS = 20  # per forget or get call: an agent names what it means, it does not sweep
MAX_LIMIT = 100  # per recall or list call
RELATED_CANDIDATES = 5


@dataclass(frozen=True)
class Related:
    """A stored memory that a new one may repeat or update (the consolidation rules)."""

    memory: Memory
    relation: str  # "near-duplicate" | "update"


@dataclass(frozen=True)
class Remembered:
    memory: Memory
    status: str  # "added" | "reinforced"
    superseded: str | None
    related: list[Related] = field(default_factory=list)


def clean_agent_text(text: str, max_bytes: int) -> str:
    """An agent's text as stored: hidden characters removed, then the CLI's own checks."""
    return check_text(strip_hidden(text), max_bytes, "the text")


def remember(
    ctx: Context,
    text: str,
    *,
    client: str,
    tags: list[str] | None = None,
    importance: int = 3,
    supersedes: str | None = None,
    reason: str | None = None,
    pending: bool,
) -> Remembered:
    """Store what an agent wrote (source mcp, its client as origin), or reinforce the same
    text; report what it may repeat or update so the agent can say so."""
    text = clean_agent_text(text, ctx.settings.max_text_bytes)
    cleaned_tags = clean_tags([strip_hidden(t) for t in tags or []])
    if supersedes is not None:
        _exact(ctx, [supersedes])  # an agent names ids in full: no prefix matching
    result = writing.add(
        ctx,
        text,
        tags=cleaned_tags,
        importance=importance,
        source="mcp",
        supersedes=supersedes,
        origin=client,
        pending=pending,
        reason=strip_hidden(reason)[:200] if reason else None,
    )
    related = _related(ctx, result.memory, exclude={result.memory.id, result.superseded or ""})
    return Remembered(result.memory, result.status, result.superseded, related)


def _related(ctx: Context, memory: Memory, exclude: set[str]) -> list[Related]:
    """The closest active memories that the consolidation rules call a near duplicate of
    `memory` or an update of it (either way round: the agent may hold the newer fact)."""
    request = RecallRequest(memory.text, limit=RELATED_CANDIDATES, mode="hybrid")
    found: list[Related] = []
    new = read(memory.text)
    for hit in reading.recall_memories(ctx, request, reinforce=False):
        if hit.memory.id in exclude:
            continue
        kind = relation(read(hit.memory.text), new, hit.parts.cosine) or relation(
            new, read(hit.memory.text), hit.parts.cosine
        )
        if kind is not None:
            found.append(Related(hit.memory, kind))
    return found


def recall(
    ctx: Context,
    query: str,
    *,
    limit: int,
    tags: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    reinforce: bool = True,
) -> list[Hit]:
    """The CLI's recall (hybrid, its floor, reinforcement unless `reinforce` is off: the
    caller then counts it with reading.reinforce_recalled) for an agent."""
    if not query.strip():
        raise UsageError("the query is empty")
    _check_limit(limit)
    now = ctx.now()
    filters = Filters(
        tags=tuple(clean_tags(tags or [])),
        since=parse_when(since, now).start if since else None,
        until=parse_when(until, now).end if until else None,
    )
    request = RecallRequest(query, limit=limit, filters=filters)
    return reading.recall_memories(ctx, request, reinforce=reinforce)


def recent(ctx: Context, limit: int, cursor: int | None) -> list[Memory]:
    """Active memories, newest first, `limit` at a time; `cursor` is the last seq seen."""
    _check_limit(limit)
    try:
        with ctx.store(write=False) as store:
            return rows.select(store.con, Filters(below_seq=cursor), "m.seq DESC", limit)
    except NoStore:
        return []


def get(ctx: Context, ids: list[str]) -> list[Memory]:
    """Memories by their full ids (any state but pending ones, which only review shows)."""
    found = _exact(ctx, ids)
    return [m for m in found if m.state != "pending"]


def forget(ctx: Context, ids: list[str], reason: str, allow_any: bool, client: str) -> list[Memory]:
    """Forget the memories named by their full ids, all of them or none: only what agents
    wrote unless the person's config allows more (`allow_any`). The client and its reason
    are kept (not the text): `memcli history ID` shows who forgot it and why."""
    if not reason.strip():
        raise UsageError("say why these memories should go (reason)")
    memories = _exact(ctx, ids)
    if not allow_any:
        theirs = [m.id for m in memories if m.source != "mcp"]
        if theirs:
            raise UsageError(
                f"not written by an agent, so not forgotten: {', '.join(theirs)} "
                "(nothing was forgotten)",
                'ask the person to run memcli forget, or set [mcp] forget = "any"',
            )
    why = strip_hidden(reason).strip()[:200]
    forgetting.forget(ctx, memories, by_agent=(client, why))
    return memories


def _exact(ctx: Context, ids: list[str]) -> list[Memory]:
    unique = list(dict.fromkeys(ids))
    if not unique:
        raise UsageError("no ids given")
    if len(unique) > MAX_IDS:
        raise UsageError(f"{len(unique)} ids, over the limit of {MAX_IDS} per call")
    try:
        with ctx.store(write=False) as store:
            found = {m.id: m for m in rows.select(store.con, _by_ids(unique), "m.seq", None)}
    except NoStore:
        found = {}
    missing = [i for i in unique if i not in found]
    if missing:
        raise NotFound(f"no memory has the id(s) {', '.join(missing)} (nothing was changed)")
    return [found[i] for i in unique]


def _by_ids(ids: list[str]) -> Filters:
    return Filters(ids=tuple(ids), states=("active", "archived", "pending"))


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"limit {limit} is out of range", f"use 1 to {MAX_LIMIT}")


# --- a person's review ---------------------------------------------------------------------


def unreviewed(ctx: Context) -> list[Memory]:
    """What agents wrote that no person has reviewed yet, oldest first."""
    try:
        with ctx.store(write=False) as store:
            filters = Filters(states=("active", "pending"), unreviewed=True)
            return rows.select(store.con, filters, "m.seq", None)
    except NoStore:
        return []


def approve(ctx: Context, refs: list[str]) -> list[Memory]:
    """A person approves agent-written memories: reviewed now, and recalled if pending."""
    now = ctx.now()
    with ctx.store(write=True) as store, store.transaction() as con:
        memories = resolve_all(con, refs)
        not_agents = [m.id for m in memories if m.source != "mcp"]
        if not_agents:
            raise InvalidInput(
                f"not written by an agent: {', '.join(not_agents)}", "review approves agents' notes"
            )
        approved = []
        for memory in memories:
            if memory.reviewed_at is not None:
                continue
            changes: dict[str, object] = {"reviewed_at": now}
            if memory.state == "pending":
                changes["state"] = "active"
            rows.update_fields(con, memory.seq, now, **changes)
            event_log.add_event(con, memory.id, now, "reviewed", "approved")
            approved.append(memory)
        return approved
