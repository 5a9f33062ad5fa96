"""Which memories a command reads: one WHERE condition built from its filters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Filters:
    """Which memories a recall or listing may return."""

    tags: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    states: tuple[str, ...] = ("active",)
    sources: tuple[str, ...] = ()
    ids: tuple[str, ...] = field(default=())
    any_tags: tuple[str, ...] = ()  # at least one of these (`tags`: all of them)
    below_seq: int | None = None  # a page after the one that ended at this seq
    unreviewed: bool = False  # only what an agent wrote and no person has reviewed

    def sql(self, alias: str = "m") -> tuple[str, list[Any]]:
        """A WHERE condition over memories (aliased `alias`) and its parameters."""
        parts: list[str] = []
        params: list[Any] = []
        if self.states:
            parts.append(f"{alias}.state IN ({_marks(self.states)})")
            params.extend(self.states)
        if self.tags:
            parts.append(f"list_has_all({alias}.tags, ?::VARCHAR[])")
            params.append(list(self.tags))
        if self.any_tags:
            parts.append(f"list_has_any({alias}.tags, ?::VARCHAR[])")
            params.append(list(self.any_tags))
        if self.since is not None:
            parts.append(f"{alias}.created_at >= ?")
            params.append(to_db(self.since))
        if self.until is not None:
            parts.append(f"{alias}.created_at < ?")
            params.append(to_db(self.until))
        if self.sources:
            parts.append(f"{alias}.source IN ({_marks(self.sources)})")
            params.extend(self.sources)
        if self.ids:
            parts.append(f"{alias}.id IN ({_marks(self.ids)})")
            params.extend(self.ids)
        if self.below_seq is not None:
            parts.append(f"{alias}.seq < ?")
            params.append(self.below_seq)
        if self.unreviewed:
            parts.append(f"{alias}.source = 'mcp' AND {alias}.reviewed_at IS NULL")
        return (" AND ".join(parts) or "TRUE"), params


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


def to_db(moment: datetime) -> datetime:
    """Aware datetime -> naive UTC, the form stored in TIMESTAMP columns."""
    return moment.astimezone(UTC).replace(tzinfo=None)
