"""What a consolidation run will do, decided from plain data (pure: no store, no clock).

Order matters: duplicates fold first, then near duplicates and updates (newest first, so a
chain of updates leaves only the latest fact active), then decay archives what faded. A
memory takes part in at most one change per run; the next run sees the result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from memcli.lifecycle.decay import ARCHIVE_BELOW, memory_retention
from memcli.lifecycle.similarity import Reading, read, relation
from memcli.records import FadingCandidate, Memory


@dataclass(frozen=True)
class Merge:
    """`merged` folds into `keeper` (archived with a link; tags united, counts summed)."""

    merged: Memory
    keeper: Memory
    kind: str  # 'duplicate' | 'near-duplicate'
    cosine: float | None = None


@dataclass(frozen=True)
class Supersession:
    """`new` updates `old`: the old one is archived with a link to the new one."""

    old: Memory
    new: Memory
    cosine: float


@dataclass(frozen=True)
class Fade:
    seq: int
    memory_id: str
    retention: float
    touched: datetime  # when it was stored or last reinforced, as the plan saw it


@dataclass
class Plan:
    merges: list[Merge] = field(default_factory=list)
    supersessions: list[Supersession] = field(default_factory=list)
    fades: list[Fade] = field(default_factory=list)

    def touched(self) -> set[int]:
        """Seqs of memories that a change of this plan archives or changes."""
        seqs = {m.merged.seq for m in self.merges} | {m.keeper.seq for m in self.merges}
        seqs |= {s.old.seq for s in self.supersessions}
        return seqs | {f.seq for f in self.fades}

    def is_empty(self) -> bool:
        return not (self.merges or self.supersessions or self.fades)


def older_first(a: Memory, b: Memory) -> tuple[Memory, Memory]:
    """The pair ordered by when it happened (then when it was stored)."""
    return (a, b) if (a.created_at, a.seq) <= (b.created_at, b.seq) else (b, a)


def plan_duplicates(
    groups: Iterable[list[Memory]], kept_apart: set[tuple[str, str]], plan: Plan
) -> None:
    """Exact duplicates (same normalised text): every later copy folds into the first,
    unless a user separated the two before."""
    taken = plan.touched()
    for group in groups:
        ordered = sorted(group, key=lambda m: (m.created_at, m.seq))
        keeper = ordered[0]
        for memory in ordered[1:]:
            if memory.seq not in taken and _pair(keeper, memory) not in kept_apart:
                plan.merges.append(Merge(memory, keeper, "duplicate"))
                taken.add(memory.seq)
        taken.add(keeper.seq)


def _pair(a: Memory, b: Memory) -> tuple[str, str]:
    first, second = sorted((a.id, b.id))
    return first, second


def plan_pairs(
    pairs: Iterable[tuple[Memory, Memory, float]],
    kept_apart: set[tuple[str, str]],
    plan: Plan,
) -> None:
    """Near duplicates merge into the older memory; updates supersede the older one."""
    judged = []
    readings: dict[int, Reading] = {}

    def reading(memory: Memory) -> Reading:
        if memory.seq not in readings:
            readings[memory.seq] = read(memory.text)
        return readings[memory.seq]

    for a, b, cosine in pairs:
        if _pair(a, b) in kept_apart:
            continue
        older, newer = older_first(a, b)
        kind = relation(reading(older), reading(newer), cosine)
        if kind is not None:
            judged.append((kind, older, newer, cosine))
    # Newest first: of a chain old -> newer -> newest, the newest supersedes first.
    judged.sort(key=lambda j: (j[2].created_at, j[2].seq, j[3]), reverse=True)
    archived = {m.merged.seq for m in plan.merges} | {s.old.seq for s in plan.supersessions}
    for kind, older, newer, cosine in judged:
        if older.seq in archived or newer.seq in archived:
            continue
        if kind == "near-duplicate":
            plan.merges.append(Merge(newer, older, kind, cosine))
            archived.add(newer.seq)
        elif not older.pinned:  # a pinned memory is kept as it is
            plan.supersessions.append(Supersession(older, newer, cosine))
            archived.add(older.seq)


def plan_fading(candidates: Iterable[FadingCandidate], now: datetime, plan: Plan) -> None:
    """Active, unpinned memories whose retention fell below the threshold are archived,
    unless this run already changes them."""
    taken = plan.touched()
    for seq, memory_id, importance, reinforcements, touched in candidates:
        if seq in taken:
            continue
        value = memory_retention(importance, reinforcements, False, touched, now)
        if value < ARCHIVE_BELOW:
            plan.fades.append(Fade(seq, memory_id, value, touched))
