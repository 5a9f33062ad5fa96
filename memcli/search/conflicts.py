"""Newer facts first: hits that state the same thing with different values, at query time.

People write updates the way they talk ("Bob's number is now 555-9876, the old one is
dead", "Reorg: my new lead is Priya"), and both the old and the new note match a question
about them. When two of the first TOP hits of an answer

- are about the same thing: their vectors agree (cosine >= SAME_COSINE) and they do not name
  two different things (an identifier such as OPS-1234, or an owner such as "Alice's", on
  each side that the other lacks),
- disagree: both hold values (numbers, e-mail addresses, links) and these differ, one is
  negated and the other not, or (between two short statements) the newer one announces a
  change ("now", "moved", "new"...),
- and match the query about as well (the weaker scores at least CLOSE_RATIO of the other),

the older is a *stale candidate*: it moves just below the newer one (its score becomes a
hair under the newer's, so that it moves past no other hit) and the answer marks it. Only
the first TOP hits are compared, so the change is a reordering of the top of the answer: a
memory of a past event that a later one merely resembles stays in the answer. Nothing is
archived here; that is the nightly job's decision, under stricter rules
(memcli.lifecycle.similarity).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from memcli.lifecycle.similarity import read

TOP = 5
SAME_COSINE = 0.4
CLOSE_RATIO = 0.75
BELOW = 1e-9  # a stale candidate scores this much less than the newer hit


@dataclass(frozen=True)
class Claim:
    """A hit as the conflict check sees it."""

    seq: int
    score: float
    created: datetime
    text: str
    vector: np.ndarray | None  # unit vector of its best-matching chunk (None: no vector)


def _apart(a: frozenset[str], b: frozenset[str]) -> bool:
    """Both name things, and neither names what the other does."""
    return bool(a) and bool(b) and not (a & b)


def updates(older: Claim, newer: Claim) -> bool:
    """Whether `newer` seems to state what `older` states, with another value.

    Two ways to be about the same thing: the vectors agree, and then differing values or a
    flipped negation make the disagreement; or both are short statements sharing a word of
    their subject and the newer one announces a change ("my team lead is Marcus" / "Reorg:
    my new lead is Priya": names weigh so much in a sentence's vector that these two hardly
    agree, and "two meetings in March" share a word but announce nothing); without vectors
    (no model) only the second way is open. In a conversation "now" and "new" are everyday
    words, so a change word counts only between short statements."""
    old, new = read(older.text), read(newer.text)
    if _apart(old.identifiers, new.identifiers) or _apart(old.names, new.names):
        return False  # two tickets, two people's numbers
    announced = old.short and new.short and new.announces_change
    a, b = older.vector, newer.vector
    if a is not None and b is not None and float(np.dot(a, b)) >= SAME_COSINE:
        values_differ = bool(old.values) and bool(new.values) and old.values != new.values
        return values_differ or old.negated != new.negated or announced
    return announced and bool(old.subject & new.subject)


def stale_pairs(claims: Sequence[Claim]) -> dict[int, int]:
    """{seq of a stale candidate: seq of the newer claim that updates it}. `claims` are the
    hits best first; the first TOP are compared with each other."""
    top = claims[:TOP]
    stale: dict[int, int] = {}
    for older in top:
        for newer in top:
            close = min(newer.score, older.score) >= CLOSE_RATIO * max(newer.score, older.score)
            if newer.created > older.created and close and updates(older, newer):
                stale[older.seq] = newer.seq
                break
    return stale


def newer_first(claims: Sequence[Claim]) -> tuple[dict[int, float], dict[int, int]]:
    """({seq: its score after the check}, {stale seq: the newer seq}) for hits best first.
    A stale candidate takes a score just below the newer hit's (when it was above it)."""
    stale = stale_pairs(claims)
    scores = {c.seq: c.score for c in claims}
    created = {c.seq: c.created for c in claims}
    # Newest stale candidate first: in a chain old -> newer -> newest, newer moves below
    # newest before old moves below newer.
    for seq in sorted(stale, key=lambda s: created[s], reverse=True):
        scores[seq] = min(scores[seq], scores[stale[seq]] - BELOW)
    return scores, stale
