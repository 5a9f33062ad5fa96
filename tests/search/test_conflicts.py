"""Pure tests of memcli.search.conflicts: the newer of two hits that state the same thing
with different values ranks first, and the older is marked; facts that both hold are not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from memcli.search.conflicts import (
    BELOW,
    CLOSE_RATIO,
    SAME_COSINE,
    TOP,
    Claim,
    newer_first,
    stale_pairs,
    updates,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _vector(cosine_to_base: float) -> np.ndarray:
    """A unit vector whose cosine with _vector(1.0) is `cosine_to_base`."""
    return np.array([cosine_to_base, (1 - cosine_to_base**2) ** 0.5, 0.0], dtype=np.float32)


def _claim(seq: int, text: str, score: float, days: int, cosine: float = 1.0) -> Claim:
    return Claim(seq, score, T0 + timedelta(days=days), text, _vector(cosine))


def test_a_new_number_updates_the_old_one() -> None:
    old = _claim(1, "Bob's phone 555-1234", 0.94, 0)
    new = _claim(2, "Bob's number is now 555-9876, the old one is dead", 0.93, 100, 0.78)
    assert updates(old, new)
    scores, stale = newer_first([old, new])
    assert stale == {1: 2}
    assert scores[1] == 0.93 - BELOW < scores[2] == 0.93


def test_names_as_values_in_short_statements() -> None:
    """Names weigh so much in a sentence's vector that these two hardly agree (cosine 0.32
    with all-MiniLM-L6-v2); the shared subject word and the announced change decide."""
    old = _claim(1, "my team lead is Marcus", 0.99, 0)
    new = _claim(2, "Reorg: my new lead is Priya", 0.78, 30, cosine=0.32)
    assert SAME_COSINE > 0.32 and CLOSE_RATIO * 0.99 <= 0.78
    assert stale_pairs([old, new]) == {1: 2}
    scores, _ = newer_first([old, new])
    assert scores[2] > scores[1]


def test_two_people_two_tickets_and_two_meetings_stay_apart() -> None:
    pairs = [
        ("Alice's phone is 555-1234", "Bob's phone is 555-9876", 0.69),
        ("call Alice about OPS-1234", "call Alice about OPS-5678 now", 0.9),
        ("team meeting on March 3", "dentist on March 10", 0.2),
    ]
    for older, newer, cosine in pairs:
        claims = [_claim(1, older, 0.9, 0), _claim(2, newer, 0.9, 10, cosine)]
        assert stale_pairs(claims) == {}, (older, newer)


def test_a_negation_that_flips_is_an_update() -> None:
    old = _claim(1, "Sam is allergic to penicillin", 0.9, 0)
    new = _claim(2, "Sam is not allergic to penicillin after all", 0.88, 40, 0.85)
    assert stale_pairs([old, new]) == {1: 2}


def test_in_a_conversation_new_and_now_are_not_an_update() -> None:
    """Long chat turns about one topic: a change word alone does not make the older one
    stale; differing values still do."""
    chat = "I have been collecting vintage cameras for a while and " + "I like them a lot " * 5
    later = "Now I am thinking of getting my vintage cameras serviced at a new shop " * 2
    claims = [_claim(1, chat, 0.99, 0), _claim(2, later, 0.97, 30, 0.55)]
    assert stale_pairs(claims) == {}
    counted = [
        _claim(1, chat + " I have 12 of them", 0.99, 0),
        _claim(2, later + " I have 15 of them", 0.97, 30, 0.55),
    ]
    assert stale_pairs(counted) == {1: 2}


def test_only_close_scores_and_only_the_top_of_the_answer() -> None:
    old = _claim(1, "Bob's phone 555-1234", 0.9, 0)
    weak_new = _claim(2, "Bob's number is now 555-9876", CLOSE_RATIO * 0.9 - 0.01, 100, 0.8)
    assert stale_pairs([old, weak_new]) == {}
    unrelated = np.array([0.0, 0.0, 1.0], dtype=np.float32)
    fillers = [Claim(10 + i, 0.95, T0, f"note {i}", unrelated) for i in range(TOP)]
    new = _claim(2, "Bob's number is now 555-9876", 0.9, 100, 0.8)
    assert stale_pairs([*fillers[: TOP - 1], old, new]) == {}  # the newer is not in the top
    assert stale_pairs([*fillers[: TOP - 2], old, new]) == {1: 2}


def test_the_older_of_the_two_is_the_stale_one_with_or_without_vectors() -> None:
    new = _claim(2, "Bob's number is now 555-9876", 0.9, 100, 0.8)
    old = _claim(1, "Bob's phone 555-1234", 0.95, 0)
    assert stale_pairs([new, old]) == {1: 2}  # whatever their order in the answer
    # Without vectors (no model) only short statements that announce the change count.
    blind_old = Claim(1, 0.95, T0, "Bob's phone 555-1234", None)
    blind_new = Claim(2, 0.9, T0 + timedelta(days=9), "Bob's phone is now 555-9876", None)
    assert stale_pairs([blind_old, blind_new]) == {1: 2}
    quiet = Claim(2, 0.9, T0 + timedelta(days=9), "Bob's phone 555-9876", None)
    assert stale_pairs([blind_old, quiet]) == {}


def test_a_chain_of_updates_orders_newest_first() -> None:
    first = _claim(1, "the gate code is 1234", 0.95, 0)
    second = _claim(2, "the gate code is now 5678", 0.94, 10, 0.9)
    third = _claim(3, "the gate code is now 9012", 0.93, 20, 0.9)
    scores, stale = newer_first([first, second, third])
    assert stale == {1: 2, 2: 3}
    assert scores[3] > scores[2] > scores[1]
