"""The pure rules of consolidation: decay threshold, pair relations, the plan, pair finding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memcli.lifecycle.decay import ARCHIVE_BELOW, memory_retention, stability_days
from memcli.lifecycle.pairs import memory_vectors, similar_pairs
from memcli.lifecycle.plan import Plan, plan_duplicates, plan_fading, plan_pairs
from memcli.lifecycle.similarity import NUMBERED_NOUNS, read, relation
from memcli.records import Memory

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def memory(seq: int, text: str, days: float = 0, pinned: bool = False) -> Memory:
    at = T0 + timedelta(days=days)
    return Memory(
        f"m{seq:07d}", text, [], at, at, at, 3, pinned, "active", "cli", None, None, 0, seq
    )


# --- relation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("older", "newer", "cosine", "expected"),
    [
        ("Alice's phone number is 555-1234", "Alice's phone number is now 555-9876", 0.9, "update"),
        ("Alice's phone number is 555-1234", "Bob's phone number is 555-9876", 0.95, None),
        ("Staging DB: port 6543.", "staging db port 6543", 0.97, "near-duplicate"),
        ("Staging DB: port 6543.", "staging db port 6543", 0.80, None),  # vectors disagree
        ("Staging DB: port 6543.", "staging db port 6543", None, None),  # no vector: no verdict
        ("Alice likes green tea", "Alice does not like green tea", 0.97, None),  # negation
        ("Team meeting on 2026-03-05", "Team meeting on 2026-04-02", 0.95, None),  # two meetings
        ("Team meeting on 2026-03-05", "Team meeting moved to 2026-04-02", 0.95, "update"),
        ("Alice's phone number is 555-1234", "Alice's phone number is now 555-9876", 0.6, None),
        # the newer one would lose a value the older had: not an update
        ("Alice: phone 555-1234, email alice@example.org", "Alice phone now 555-9876", 0.9, None),
        ("the wifi password is hunter2", "the wifi password is correct-horse", 0.9, None),
        ("OPS-1423 fixed in v2.3.1", "OPS-1423 fixed in v2.4.0", 0.95, "update"),
        # identifiers name things: two tickets are two tasks, whatever else they share
        ("call Alice about OPS-1234 at 10:30", "call Alice about OPS-5678 at 11:00", 0.95, None),
        ("order #4521 ships on 2026-03-02", "order #4600 ships on 2026-03-09", 0.95, None),
        ("wifi port 60906 user u182", "wifi port now 61000 user u182", 0.9, "update"),
        ("wifi port 60906 user u182", "wifi port now 61000 user u555", 0.9, None),
        # a number after a noun that numbers things names a thing: two invoices, two servers
        ("invoice 1042 is paid", "invoice 1043 is paid", 0.97, None),
        ("build server 3 is down", "build server 7 is down", 0.96, None),
        ("note 3 about walnuts", "note 4 about walnuts", 0.98, None),
        ("port 22 is open", "port 80 is open", 0.95, None),  # before the verb: the subject
        (
            "Invoice 1042 is due on 2026-03-01",
            "Invoice 1042 is now due on 2026-03-15",
            0.9,
            "update",
        ),
        ("the staging port is 6543", "the staging port is now 6544", 0.9, "update"),
        ("flat 4b has a leak", "flat 4c has a leak", 0.95, None),
        ("I have 16GB of RAM", "I now have 32GB of RAM", 0.9, "update"),
        # updates in other words: a change announced, the same names, values replaced
        (
            "Tom's phone: 555-0100",
            "Tom has a new number: 555-0199, the old one is dead",
            0.75,
            "update",
        ),
        (
            "my address is 4 Oak Avenue, Shelbyville",
            "Moved! New address: 12 Elm Street, Springfield",
            0.51,
            "update",
        ),
        ("my team lead is Marcus", "Reorg: my new lead is Priya", 0.32, "update"),
        ("my team lead is Marcus", "Reorg: my new lead is Priya", 0.2, None),  # unrelated
        # ... and what stays apart although a change is announced
        ("Alice's number is 555-1234", "Bob has a new number: 555-9999", 0.6, None),
        ("bought a new bike", "my new bike is a Trek", 0.7, None),  # nothing replaced
        ("I started a new job at Acme", "my new manager at Acme is Dana", 0.5, None),
        (
            "Alice: phone 555-1234, email alice@example.org",
            "Alice has a new phone: 555-9876",
            0.9,
            None,
        ),  # the e-mail would be lost
        ("call Alice about OPS-1234", "call Alice about OPS-5678 now", 0.9, None),
        (
            "the vet is Dr. Ortega at Elm Street clinic",
            "a long message about the weekend plans with many words that go on and on " * 3
            + "and now the vet is Dr. Silva",
            0.4,
            None,
        ),  # not a short statement
    ],
)
def test_relation(older: str, newer: str, cosine: float | None, expected: str | None) -> None:
    assert relation(read(older), read(newer), cosine) == expected


@settings(max_examples=60, deadline=None)
@given(
    noun=st.sampled_from(sorted(NUMBERED_NOUNS)),
    numbers=st.lists(st.integers(1, 99999), min_size=2, max_size=8, unique=True),
    predicate=st.sampled_from(["is paid", "is down", "about walnuts", "needs a check", "- done"]),
    prefix=st.sampled_from(["", "the ", "build ", "Acme "]),
)
def test_families_of_numbered_things_never_merge(
    noun: str, numbers: list[int], predicate: str, prefix: str
) -> None:
    """ "X n is Y" for many n: every pair is two facts, whatever the vectors say."""
    readings = [read(f"{prefix}{noun} {n} {predicate}") for n in numbers]
    for i, older in enumerate(readings):
        for newer in readings[i + 1 :]:
            assert relation(older, newer, 0.99) is None


def test_values_are_numbers_addresses_and_links() -> None:
    reading = read("Mail bob@example.org or see https://x.example/a?b=1 before 10:30, room 4B")
    assert reading.values == {"bob@example.org", "https://x.example/a?b=1", "10:30"}
    assert {"mail", "room", "4b"} <= reading.subject  # room 4B names a room
    identifiers = read("ticket OPS-1423 for bucket S3, order #77 on v2.1")
    assert {"ops-1423", "s3", "#77"} <= identifiers.subject
    assert identifiers.values == {"v2.1"}


# --- decay -----------------------------------------------------------------------------------


def test_archive_threshold_is_three_stabilities() -> None:
    for importance in (1, 3):
        days = 3 * stability_days(importance, 0)
        just_before = memory_retention(importance, 0, False, T0, T0 + timedelta(days=days - 1))
        just_after = memory_retention(importance, 0, False, T0, T0 + timedelta(days=days + 1))
        assert just_before > ARCHIVE_BELOW > just_after


def test_fading_skips_fresh_and_reinforced_memories() -> None:
    now = T0 + timedelta(days=100)
    plan = Plan()
    plan_fading(
        [
            (1, "stale", 1, 0, T0),  # importance 1, 100 days: gone
            (2, "fresh", 1, 0, now - timedelta(days=2)),
            (3, "reinforced", 1, 4, T0),  # S = 7 * 16 = 112 days
            (4, "normal", 3, 0, T0),  # S = 90 days: retention 0.33
        ],
        now,
        plan,
    )
    assert [f.memory_id for f in plan.fades] == ["stale"]


# --- plan ------------------------------------------------------------------------------------


def test_duplicates_fold_into_the_oldest_unless_kept_apart() -> None:
    a, b, c = memory(1, "x", 5), memory(2, "x", 1), memory(3, "x", 9)
    plan = Plan()
    plan_duplicates([[a, b, c]], {tuple(sorted((b.id, c.id)))}, plan)  # type: ignore[arg-type]
    assert [(m.merged.id, m.keeper.id) for m in plan.merges] == [(a.id, b.id)]


def test_a_chain_of_updates_leaves_only_the_latest_active() -> None:
    v1 = memory(1, "office door code 1111", 0)
    v2 = memory(2, "office door code 2222", 10)
    v3 = memory(3, "office door code 3333", 20)
    plan = Plan()
    plan_pairs([(v1, v2, 0.9), (v2, v3, 0.9), (v1, v3, 0.9)], set(), plan)
    assert sorted((s.old.id, s.new.id) for s in plan.supersessions) == [
        (v1.id, v3.id),
        (v2.id, v3.id),
    ]


def test_a_pinned_memory_is_never_superseded() -> None:
    old = memory(1, "office door code 1111", 0, pinned=True)
    new = memory(2, "office door code 2222", 10)
    plan = Plan()
    plan_pairs([(old, new, 0.9)], set(), plan)
    assert plan.is_empty()


def test_fading_leaves_memories_this_run_already_changes() -> None:
    a, b = memory(1, "x"), memory(2, "x", 1)
    plan = Plan()
    plan_duplicates([[a, b]], set(), plan)
    plan_fading([(1, a.id, 1, 0, T0), (2, b.id, 1, 0, T0)], T0 + timedelta(days=400), plan)
    assert plan.fades == []


# --- pair finding ----------------------------------------------------------------------------


def test_similar_pairs_equal_brute_force() -> None:
    rng = np.random.default_rng(7)
    base = rng.normal(size=(40, 16)).astype(np.float32)
    near = base[:10] + 0.05 * rng.normal(size=(10, 16)).astype(np.float32)
    matrix = np.vstack([base, near])
    row_seqs = np.arange(1, 51, dtype=np.int64)
    seqs, vectors = memory_vectors(row_seqs, matrix)
    changed = np.arange(41, 51)  # the near copies are the new memories
    found = similar_pairs(changed, seqs, vectors, 0.9)
    cosines = vectors @ vectors.T
    expected = {
        tuple(sorted((int(seqs[i]), int(seqs[j]))))
        for i in range(50)
        for j in range(50)
        if i != j and seqs[i] in changed and cosines[i, j] >= 0.9
    }
    assert {(a, b) for a, b, _ in found} == expected
    assert {(a, b) for a, b, _ in found} >= {(i, i + 40) for i in range(1, 11)}


def test_first_run_compares_each_pair_once_and_finds_the_same() -> None:
    rng = np.random.default_rng(11)
    base = rng.normal(size=(300, 16)).astype(np.float32)
    matrix = np.vstack([base, base[::7] + 0.05 * rng.normal(size=(43, 16)).astype(np.float32)])
    seqs, vectors = memory_vectors(np.arange(1, len(matrix) + 1, dtype=np.int64), matrix)
    everything = similar_pairs(seqs, seqs, vectors, 0.9)  # forward only, in 3 blocks
    cosines = vectors @ vectors.T
    expected = {
        (int(seqs[i]), int(seqs[j]))
        for i in range(len(seqs))
        for j in range(i + 1, len(seqs))
        if cosines[i, j] >= 0.9
    }
    assert {(a, b) for a, b, _ in everything} == expected
    assert len(expected) >= 43


def test_memory_vectors_average_chunks() -> None:
    row_seqs = np.array([2, 1, 2], dtype=np.int64)
    matrix = np.array([[1, 0], [0, 1], [0, 1]], dtype=np.float32)
    seqs, vectors = memory_vectors(row_seqs, matrix)
    assert seqs.tolist() == [1, 2]
    np.testing.assert_allclose(vectors, [[0, 1], [2**-0.5, 2**-0.5]], atol=1e-6)
