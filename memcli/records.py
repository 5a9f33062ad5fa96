"""The plain data that flows between the store, search and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

STATES = ("active", "archived")
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
