"""The plain data that flows between the store, search and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

# "pending": written by an agent and held from recall until a person approves it
# (memcli review; [mcp] writes = "pending").
STATES = ("active", "archived", "pending")
SOURCES = ("cli", "tui", "import", "mcp")


@dataclass
class Memory:
    """One stored memory, as read from the store (times are aware UTC)."""

    id: str
    text: str
    tags: list[str]
    created_at: datetime
    added_at: datetime
    updated_at: datetime
    importance: int
    pinned: bool
    state: str
    source: str
    superseded_by: str | None
    reinforced_at: datetime | None
    reinforcements: int
    seq: int = 0
    origin: str | None = None
    """Where it came from beyond `source`: an MCP client's name and version."""
    reviewed_at: datetime | None = None
    """When a person approved it (memcli review); None for what a person wrote."""

    @property
    def needs_review(self) -> bool:
        """Written by an agent and not yet looked at by a person."""
        return self.source == "mcp" and self.reviewed_at is None


class FadingCandidate(NamedTuple):
    """An active, unpinned memory as decay sees it (memcli.lifecycle.plan.plan_fading)."""

    seq: int
    memory_id: str
    importance: int
    reinforcements: int
    touched: datetime  # last reinforced, or added


@dataclass(frozen=True)
class Event:
    """One line of a memory's history (never holds the memory's text)."""

    memory_id: str
    at: datetime
    kind: str
    detail: str | None = None


@dataclass
class ScoreParts:
    """Why a hit ranks where it does (`recall --explain`)."""

    bm25: float | None = None
    keyword: float = 0.0
    cosine: float | None = None
    semantic: float = 0.0
    fused: float = 0.0
    retention: float = 1.0
    prior: float = 1.0
    coverage: float = 0.0
    context: float = 0.0  # what neighbouring memories of the same sitting added (hybrid)


@dataclass
class Hit:
    """A recalled memory with its score."""

    memory: Memory
    score: float
    parts: ScoreParts
    newer: str | None = None  # the id of a newer hit that seems to update this one
