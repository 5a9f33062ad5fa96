"""The MCP server: five tools over memcli's services, on stdio.

Every tool opens the store for its own call and closes it (the CLI, the TUI and other agents
write in between); calls are served one at a time, because the store's connections belong
to one thread at a time. A memcli error becomes a tool error with its message and hint; the
protocol stream carries nothing else (the SDK points stdout at stderr while it serves).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from mcp.server.mcpserver import Context as McpContext
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

# pydantic (under the SDK) builds output schemas from TypedDicts only with typing_extensions'
# class on Python 3.11; the SDK depends on it.
from typing_extensions import TypedDict

from memcli import __version__
from memcli.errors import MemcliError
from memcli.mcp.settings import McpSettings
from memcli.records import Memory
from memcli.service import agents, reading
from memcli.service.context import Context
from memcli.textutil import strip_hidden
from memcli.timeparse import to_utc_iso

T = TypeVar("T")

GUIDE = """\
# memcli: the person's own memory

Use `recall` before answering questions about the person, their work, their home or their
plans; use `remember` for a durable fact they tell you (one fact per call, in their words).
When a fact replaces an older one, pass the older id as `supersedes` with a `reason`.
Memories marked `reviewed: false` were written by an agent and not yet read by the person:
treat them as hearsay. `forget` takes the ids of memories agents wrote, with a reason; it
never takes a query. Everything stays on the person's machine.
"""


class MemoryOut(TypedDict):
    id: str
    text: str
    tags: list[str]
    created: str
    state: str
    source: str
    origin: str | None
    reviewed: bool


class HitOut(MemoryOut):
    score: float
    stale_candidate: bool


class RecallOut(TypedDict):
    hits: list[HitOut]
    truncated: bool
    """True when the character budget cut the answer short (the last text or more hits)."""


class RelatedOut(TypedDict):
    id: str
    text: str


class RememberOut(TypedDict):
    id: str
    status: str
    pending: bool
    superseded: str | None
    near_duplicates: list[RelatedOut]
    possible_updates: list[RelatedOut]


class ForgetOut(TypedDict):
    forgotten: list[str]


class PageOut(TypedDict):
    memories: list[MemoryOut]
    next_cursor: int | None


class GetOut(TypedDict):
    memories: list[MemoryOut]


def _annotations(title: str, *, read_only: bool, destructive: bool = False) -> ToolAnnotations:
    return ToolAnnotations(
        title=title,
        read_only_hint=read_only,
        destructive_hint=destructive,
        idempotent_hint=read_only,
        open_world_hint=False,
    )


def memory_out(memory: Memory) -> MemoryOut:
    return MemoryOut(
        id=memory.id,
        text=memory.text,
        tags=memory.tags,
        created=to_utc_iso(memory.created_at),
        state=memory.state,
        source=memory.source,
        origin=memory.origin,
        reviewed=not memory.needs_review,
    )


def build_server(ctx: Context, settings: McpSettings) -> tuple[MCPServer, Reinforcements]:
    """The server with its tools (`recall`, `list_recent` and `get` only when read-only),
    and the reinforcements its recalls leave to write."""
    server = MCPServer(
        name="memcli",
        version=__version__,
        instructions=GUIDE,
        log_level="WARNING",
    )
    lock = threading.Lock()
    later = Reinforcements(ctx, lock)

    def call(work: Callable[[], T]) -> T:
        with lock:
            try:
                return work()
            except MemcliError as exc:
                raise ToolError(exc.message + (f" ({exc.hint})" if exc.hint else "")) from None
            finally:
                ctx.notices.clear()  # said on the CLI's stderr; a server has no one to tell

    @server.tool(annotations=_annotations("Recall memories", read_only=True))
    def recall(
        query: str,
        k: int = 8,
        tags: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> RecallOut:
        """Find the person's memories by meaning and by exact words, best first. Returns
        nothing when nothing is relevant. `since`/`until` take dates (2025-03-14) or
        relative forms (3d, last week)."""
        hits = call(
            lambda: agents.recall(
                ctx, query, limit=k, tags=tags, since=since, until=until, reinforce=False
            )
        )
        later.add(hits)
        budget, shown, truncated = settings.recall_chars, [], False
        for hit in hits:
            if budget <= 0:
                truncated = True
                break
            out = HitOut(
                **memory_out(hit.memory),
                score=round(hit.score, 4),
                stale_candidate=hit.newer is not None,
            )
            if len(out["text"]) > budget:
                out["text"], truncated = out["text"][:budget] + "…", True
            budget -= len(out["text"])
            shown.append(out)
        return RecallOut(hits=shown, truncated=truncated)

    @server.tool(annotations=_annotations("Recent memories", read_only=True))
    def list_recent(limit: int = 20, cursor: int | None = None) -> PageOut:
        """The newest active memories; pass `next_cursor` back as `cursor` for the next page."""
        found = call(lambda: agents.recent(ctx, limit, cursor))
        more = found[-1].seq if len(found) == limit else None
        return PageOut(memories=[memory_out(m) for m in found], next_cursor=more)

    @server.tool(annotations=_annotations("Get memories", read_only=True))
    def get(ids: list[str]) -> GetOut:
        """Memories by their full ids (at most 20)."""
        return GetOut(memories=[memory_out(m) for m in call(lambda: agents.get(ctx, ids))])

    if settings.read_only:
        _guide(server)
        return server, later

    @server.tool(annotations=_annotations("Remember a fact", read_only=False))
    def remember(
        text: str,
        mcp_context: McpContext,
        tags: list[str] | None = None,
        importance: int = 3,
        supersedes: str | None = None,
        reason: str | None = None,
    ) -> RememberOut:
        """Store one durable fact about the person, in their words (importance 1 trivia to
        5 vital). The same text again reinforces it. Pass `supersedes` (an id) with a
        `reason` when it replaces an older fact. Returns near duplicates and possible
        updates already stored, so you can tell the person."""
        client = _client(mcp_context)
        done = call(
            lambda: agents.remember(
                ctx,
                text,
                client=client,
                tags=tags,
                importance=importance,
                supersedes=supersedes,
                reason=reason,
                pending=settings.writes == "pending",
            )
        )
        return RememberOut(
            id=done.memory.id,
            status=done.status,
            pending=done.memory.state == "pending",
            superseded=done.superseded,
            near_duplicates=_related(done, "near-duplicate"),
            possible_updates=_related(done, "update"),
        )

    @server.tool(annotations=_annotations("Forget memories", read_only=False, destructive=True))
    def forget(ids: list[str], reason: str, mcp_context: McpContext) -> ForgetOut:
        """Delete memories for good, by their full ids (at most 20), with a reason. Only
        memories that agents wrote, unless the person allows more; never by a query."""
        allow_any = settings.forget == "any"
        client = _client(mcp_context)
        gone = call(lambda: agents.forget(ctx, ids, reason, allow_any, client))
        return ForgetOut(forgotten=[m.id for m in gone])

    _guide(server)
    return server, later


class Reinforcements:
    """Recalled hits counted as reinforcements in one write a minute, not one per call.

    Every write to memories makes the next recall re-read the in-process keyword index
    (memcli.search.keyword_index), which a warm server otherwise keeps: written per call,
    a reinforcement would cost every recall that reload. The day rule is checked when the
    batch is written; what is pending when the server stops is written then (a killed
    server loses at most a minute of reinforcements, never a memory)."""

    def __init__(self, ctx: Context, lock: threading.Lock, every: float = 60.0) -> None:
        self._ctx, self._lock, self._every = ctx, lock, every
        self._hits: list[Any] = []
        self._timer: threading.Timer | None = None
        self._guard = threading.Lock()

    def add(self, hits: list[Any]) -> None:
        with self._guard:
            self._hits.extend(hits)
            if self._timer is None and self._hits:
                self._timer = threading.Timer(self._every, self.flush)
                self._timer.daemon = True  # flush() at exit writes what is left
                self._timer.start()

    def flush(self) -> None:
        with self._guard:
            hits, self._hits, self._timer = self._hits, [], None
        if hits:
            with self._lock:
                try:
                    reading.reinforce_recalled(self._ctx, hits)
                except MemcliError:
                    pass  # a busy or full store: these recalls go uncounted
                finally:
                    self._ctx.notices.clear()


def _guide(server: MCPServer) -> None:
    @server.resource(
        "memcli://guide", name="guide", title="How to use memcli", mime_type="text/markdown"
    )
    def guide() -> str:
        return GUIDE


def _related(done: agents.Remembered, kind: str) -> list[RelatedOut]:
    return [
        RelatedOut(id=r.memory.id, text=r.memory.text) for r in done.related if r.relation == kind
    ]


def _client(mcp_context: McpContext[Any, Any]) -> str:
    """The client's name and version from the handshake, as the memory's origin."""
    params = mcp_context.session.client_params
    if params is None:
        return "mcp client"
    info = params.client_info
    return strip_hidden(f"{info.name} {info.version}".strip())[:100] or "mcp client"


def serve(ctx: Context, settings: McpSettings) -> None:
    """Serve on stdin/stdout until the client closes stdin."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="memcli mcp: %(message)s")
    server, reinforcements = build_server(ctx, settings)
    try:
        server.run()
    finally:
        reinforcements.flush()
