"""Pure tests of memcli.search.fusion: relevance floor, normalisation, prior, ordering."""

from __future__ import annotations

import random

import pytest

from memcli.search.fusion import (
    DEFAULT_PARAMS,
    Candidate,
    FusionParams,
    fuse,
    has_evidence,
    lifecycle_prior,
    neighbours,
    passes_gate,
    query_alpha,
    sittings,
)

P = DEFAULT_PARAMS
NO_TAIL = FusionParams(relative_floor=0.0)  # for tests about other parts of the formula
ALPHA = query_alpha(0, P)  # the weight of meaning for the shortest queries
SCALE = (
    1 + P.context_weight + P.sitting_weight
)  # hybrid scores are divided by it to stay within 0..1


def _seqs(scored) -> list[int]:
    return [s.seq for s in scored]


# --- the relevance floor: the query gate, then the hit floor ---------------------------


def test_gate_returns_nothing_when_no_candidate_is_clearly_relevant() -> None:
    weak = [
        Candidate(seq=1, bm25=0.4, coverage=0.3, cosine=0.25),
        Candidate(seq=2, bm25=None, coverage=0.0, cosine=0.29),
    ]
    assert not passes_gate(weak, "hybrid", P)
    assert fuse(weak, "hybrid") == []


def test_one_clearly_relevant_candidate_opens_the_gate_for_weaker_hits() -> None:
    strong = Candidate(seq=2, bm25=5.0, coverage=1.0, cosine=0.8)
    weaker = Candidate(seq=1, bm25=0.4, coverage=0.3, cosine=0.25)
    assert _seqs(fuse([weaker, strong], "hybrid", NO_TAIL)) == [2, 1]


def test_hit_floor_drops_candidates_without_evidence_of_their_own() -> None:
    strong = Candidate(seq=2, bm25=5.0, coverage=1.0, cosine=0.8)
    noise = Candidate(seq=1, bm25=0.1, coverage=P.hit_coverage - 0.01, cosine=P.hit_cosine - 0.01)
    assert not has_evidence(noise, "hybrid", P.hit_cosine, P.hit_coverage)
    assert _seqs(fuse([noise, strong], "hybrid")) == [2]


def test_hits_far_below_the_best_are_dropped() -> None:
    best = Candidate(seq=1, bm25=10.0, coverage=1.0, cosine=0.8)
    tail = Candidate(seq=2, bm25=None, coverage=0.0, cosine=0.14)
    middle = Candidate(seq=3, bm25=4.0, coverage=0.5, cosine=0.5)
    scored = fuse([best, tail, middle], "hybrid")
    assert _seqs(scored) == [1, 3]
    assert all(s.fused >= P.relative_floor * scored[0].fused for s in scored)
    assert _seqs(fuse([best, tail, middle], "hybrid", FusionParams(relative_floor=0))) == [1, 3, 2]


def test_gate_opens_on_a_high_coverage_keyword_only_match() -> None:
    keyword_only = Candidate(seq=1, bm25=3.0, coverage=0.8, cosine=None)
    semantic = Candidate(seq=2, bm25=None, coverage=0.0, cosine=0.9)
    scored = {s.seq: s for s in fuse([keyword_only, semantic], "hybrid")}
    assert set(scored) == {1, 2}
    assert scored[1].keyword == 1.0 and scored[1].semantic == 0.0
    assert scored[1].fused == pytest.approx(1 - ALPHA)


def test_gate_boundaries_are_inclusive() -> None:
    assert passes_gate([Candidate(seq=1, cosine=P.gate_cosine)], "hybrid", P)
    assert passes_gate([Candidate(seq=1, bm25=1.0, coverage=P.gate_coverage)], "hybrid", P)
    below = Candidate(seq=1, bm25=1.0, coverage=P.gate_coverage - 1e-9, cosine=P.gate_cosine - 1e-9)
    assert not passes_gate([below], "hybrid", P)


def test_hybrid_keeps_a_semantic_match_without_query_terms() -> None:
    paraphrase = Candidate(seq=4, bm25=None, coverage=0.0, cosine=0.31)
    assert _seqs(fuse([paraphrase], "hybrid")) == [4]


@pytest.mark.parametrize("bm25", [1e-9, 0.01, 12.0])
def test_keyword_mode_keeps_any_positive_bm25(bm25: float) -> None:
    candidate = Candidate(seq=1, bm25=bm25, coverage=0.01, cosine=-0.5)
    assert has_evidence(candidate, "keyword", P.gate_cosine, P.gate_coverage)
    assert _seqs(fuse([candidate], "keyword")) == [1]


@pytest.mark.parametrize("bm25", [None, 0.0])
def test_keyword_mode_drops_memories_without_query_terms(bm25: float | None) -> None:
    candidate = Candidate(seq=1, bm25=bm25, coverage=0.0, cosine=0.99)
    assert fuse([candidate], "keyword") == []


def test_semantic_mode_uses_only_the_cosine_thresholds() -> None:
    full_coverage = Candidate(seq=1, bm25=9.0, coverage=1.0, cosine=P.hit_cosine - 0.01)
    close = Candidate(seq=2, bm25=None, coverage=0.0, cosine=P.gate_cosine + 0.01)
    no_vector = Candidate(seq=3, bm25=9.0, coverage=1.0, cosine=None)
    assert _seqs(fuse([full_coverage, close, no_vector], "semantic")) == [2]
    assert fuse([full_coverage, no_vector], "semantic") == []


def test_custom_params_move_the_gate() -> None:
    strict = FusionParams(gate_cosine=0.9, gate_coverage=0.99)
    candidate = Candidate(seq=1, bm25=1.0, coverage=0.9, cosine=0.8)
    assert fuse([candidate], "hybrid") != []
    assert fuse([candidate], "hybrid", strict) == []


# --- normalisation and fusion ---------------------------------------------------------


def test_keyword_is_divided_by_the_best_and_cosine_min_max_normalised() -> None:
    a = Candidate(seq=1, bm25=8.0, coverage=1.0, cosine=0.4)
    b = Candidate(seq=2, bm25=2.0, coverage=1.0, cosine=0.8)
    c = Candidate(seq=3, bm25=None, coverage=0.0, cosine=0.6)
    scored = {s.seq: s for s in fuse([a, b, c], "hybrid")}
    assert (scored[1].keyword, scored[1].semantic) == (1.0, 0.0)
    assert (scored[2].keyword, scored[2].semantic) == (pytest.approx(0.25), 1.0)
    assert scored[3].semantic == pytest.approx(0.5)
    assert scored[1].fused == pytest.approx(1 - ALPHA)
    assert scored[2].fused == pytest.approx(ALPHA + (1 - ALPHA) * 0.25)
    assert scored[2].score == pytest.approx(scored[2].fused / SCALE)  # no context, prior 1


def test_a_single_cosine_normalises_to_one() -> None:
    only = Candidate(seq=1, bm25=None, coverage=0.0, cosine=0.5)
    assert fuse([only], "semantic")[0].semantic == 1.0


@pytest.mark.parametrize("cosines", [(None, None, None)])
def test_without_semantic_evidence_hybrid_is_pure_keyword(cosines) -> None:
    candidates = [
        Candidate(seq=i + 1, bm25=bm, coverage=1.0, cosine=cos, retention=r, importance=imp)
        for i, (bm, cos, r, imp) in enumerate(
            zip((3.0, 6.0, 1.5), cosines, (1.0, 0.5, 0.9), (3, 4, 2), strict=True)
        )
    ]
    hybrid = fuse(candidates, "hybrid")
    keyword = fuse(candidates, "keyword")
    assert [s.seq for s in hybrid] == [s.seq for s in keyword]
    assert [s.score for s in hybrid] == [pytest.approx(s.score / SCALE) for s in keyword]
    assert all(s.fused == s.keyword for s in hybrid)
    assert hybrid[0].seq == 2 and hybrid[0].fused == 1.0


def test_keyword_and_semantic_modes_ignore_the_other_channel() -> None:
    a = Candidate(seq=1, bm25=10.0, coverage=1.0, cosine=0.35)
    b = Candidate(seq=2, bm25=1.0, coverage=1.0, cosine=0.70)
    assert _seqs(fuse([a, b], "keyword", NO_TAIL)) == [1, 2]
    assert _seqs(fuse([a, b], "semantic", NO_TAIL)) == [2, 1]
    assert [s.fused for s in fuse([a, b], "semantic", NO_TAIL)] == [1.0, 0.0]


def test_empty_candidate_list() -> None:
    for mode in ("hybrid", "keyword", "semantic"):
        assert fuse([], mode) == []


# --- the weight of meaning grows with the query's length ----------------------------


def test_query_alpha_grows_with_the_number_of_terms_within_bounds() -> None:
    values = [query_alpha(n, P) for n in range(40)]
    assert values == sorted(values)
    assert values[0] == P.alpha_min and values[-1] == P.alpha_max
    assert query_alpha(10, P) == pytest.approx(P.alpha_base + 10 * P.alpha_per_term)


def test_a_long_query_trusts_meaning_more_than_a_short_one() -> None:
    words = Candidate(seq=1, bm25=10.0, coverage=1.0, cosine=0.4)
    meaning = Candidate(seq=2, bm25=5.0, coverage=0.6, cosine=0.8)
    unrelated = Candidate(seq=3, bm25=None, coverage=0.0, cosine=0.3)
    short = fuse([words, meaning, unrelated], "hybrid", NO_TAIL, query_terms=2)
    long = fuse([words, meaning, unrelated], "hybrid", NO_TAIL, query_terms=15)
    assert _seqs(short)[:2] == [1, 2]
    assert _seqs(long)[:2] == [2, 1]


# --- context: memories written in one sitting ---------------------------------------

HOUR = 3600.0


def test_neighbours_are_close_seqs_created_close_together() -> None:
    assert P.context_window == 2
    candidates = [
        Candidate(seq=4, created=0.0),
        Candidate(seq=5, created=60.0),
        Candidate(seq=6, created=60.0 + 2 * HOUR),  # next seq, but hours later
        Candidate(seq=9, created=60.0 + 2 * HOUR),  # three seqs from 6: too far
        Candidate(seq=10, created=None),  # no time: no context
        Candidate(seq=11, created=60.0 + 2 * HOUR),  # two from 9 (10 between): close enough
    ]
    assert neighbours(candidates, P) == {4: [5], 5: [4], 9: [11], 11: [9]}


def test_a_bulk_import_in_one_timestamp_is_not_a_sitting() -> None:
    bulk = [Candidate(seq=s, created=0.0) for s in range(1, P.max_sitting + 2)]
    assert neighbours(bulk, P) == {}
    sitting = bulk[: P.max_sitting]
    assert set(neighbours(sitting, P)) == {c.seq for c in sitting}


def _conversation() -> list[Candidate]:
    """A strong hit (seq 2) whose reply (seq 3) shares few words with the query, and a
    memory as weak as the reply but written on another day (seq 9)."""
    return [
        Candidate(seq=1, bm25=None, coverage=0.0, cosine=0.05, created=0.0),
        Candidate(seq=2, bm25=8.0, coverage=1.0, cosine=0.7, created=0.0),
        Candidate(seq=3, bm25=2.0, coverage=0.3, cosine=0.35, created=30.0),
        Candidate(seq=9, bm25=2.0, coverage=0.3, cosine=0.35, created=9 * 24 * HOUR),
    ]


NEAR = P.context_weight + P.sitting_weight  # a neighbour counts in both terms of the context
SITTING = FusionParams(relative_floor=0.0, sitting_weight=0.25)  # the sitting term (off in P)


def test_a_memory_next_to_a_strong_hit_gets_its_context() -> None:
    scored = {s.seq: s for s in fuse(_conversation(), "hybrid", NO_TAIL)}
    assert scored[3].fused == pytest.approx(scored[9].fused)
    assert scored[3].context == pytest.approx(NEAR * scored[2].fused)
    assert scored[9].context == 0.0  # alone in its sitting
    assert scored[3].score > scored[9].score
    assert scored[3].score == pytest.approx((scored[3].fused + scored[3].context) / SCALE)
    # the strong hit gets context from its weak neighbours too, but stays first
    assert scored[2].context == pytest.approx(NEAR * scored[3].fused)
    assert _seqs(fuse(_conversation(), "hybrid", NO_TAIL))[:3] == [2, 3, 9]


def test_context_needs_evidence_on_both_sides() -> None:
    conversation = _conversation()
    scored = {s.seq: s for s in fuse(conversation, "hybrid", NO_TAIL)}
    assert 1 not in scored  # below the hit floor: context does not bring it back
    assert scored[2].context == pytest.approx(NEAR * scored[3].fused)  # not seq 1


def _long_sitting() -> list[Candidate]:
    """One sitting of a conversation: the best hit (seq 10), a weak turn far from it (seq
    20, the same half hour), an equally weak one from another day (seq 40), and a turn
    with no evidence of its own (seq 21)."""
    return [
        Candidate(seq=10, bm25=8.0, coverage=1.0, cosine=0.7, created=0.0),
        Candidate(seq=20, bm25=2.0, coverage=0.3, cosine=0.35, created=600.0),
        Candidate(seq=21, bm25=None, coverage=0.0, cosine=0.05, created=660.0),
        Candidate(seq=40, bm25=2.0, coverage=0.3, cosine=0.35, created=9 * 24 * HOUR),
    ]


def test_sittings_are_chains_of_close_timestamps_without_bulk_imports() -> None:
    assert sittings(_long_sitting(), P) == {10: 0, 20: 0, 21: 0, 40: 1}
    chain = [Candidate(seq=s, created=s * 0.9 * P.sitting_gap_seconds) for s in range(3)]
    assert set(sittings(chain, P).values()) == {0}  # each within a gap of the one before
    assert sittings([Candidate(seq=1, created=None)], P) == {}
    bulk = [Candidate(seq=s, created=0.0) for s in range(1, P.max_sitting + 2)]
    assert sittings(bulk, P) == {}


def test_a_memory_of_the_best_hits_sitting_gets_a_share_of_it() -> None:
    assert P.sitting_weight == 0.0  # off in memcli's formula
    without = {s.seq: s for s in fuse(_long_sitting(), "hybrid", NO_TAIL)}
    assert without[20].context == 0.0 and without[20].score == without[40].score
    scored = {s.seq: s for s in fuse(_long_sitting(), "hybrid", SITTING)}
    assert 21 not in scored  # no evidence of its own: the sitting does not bring it back
    assert scored[20].fused == pytest.approx(scored[40].fused)
    assert scored[20].context == pytest.approx(SITTING.sitting_weight * scored[10].fused)
    assert scored[40].context == 0.0
    assert scored[20].score > scored[40].score
    scale = 1 + SITTING.context_weight + SITTING.sitting_weight
    assert scored[20].score == pytest.approx((scored[20].fused + scored[20].context) / scale)
    # the best hit gets the share of the best other memory of its sitting, not its own
    assert scored[10].context == pytest.approx(SITTING.sitting_weight * scored[20].fused)
    assert _seqs(fuse(_long_sitting(), "hybrid", SITTING)) == [10, 20, 40]


def test_equal_best_hits_of_a_sitting_share_with_each_other() -> None:
    twins = [
        Candidate(seq=1, bm25=5.0, coverage=1.0, cosine=0.6, created=0.0),
        Candidate(seq=9, bm25=5.0, coverage=1.0, cosine=0.6, created=60.0),
    ]
    scored = fuse(twins, "hybrid", SITTING)
    shared = SITTING.sitting_weight * scored[0].fused
    assert [s.context for s in scored] == pytest.approx([shared] * 2)


def test_context_only_in_hybrid_mode() -> None:
    for mode in ("keyword", "semantic"):
        assert all(s.context == 0.0 for s in fuse(_conversation(), mode, NO_TAIL))
    without = FusionParams(relative_floor=0.0, context_weight=0.0, sitting_weight=0.0)
    assert all(s.context == 0.0 for s in fuse(_conversation(), "hybrid", without))
    assert _seqs(fuse(_conversation(), "hybrid", without))[:2] == [2, 9]  # newer seq on ties


# --- the lifecycle prior --------------------------------------------------------------


def test_prior_is_neutral_for_a_fresh_default_memory() -> None:
    assert lifecycle_prior(1.0, 3, P) == 1.0
    assert lifecycle_prior(1.0, 5, P) > 1.0 > lifecycle_prior(0.1, 1, P)


def test_prior_never_lifts_a_weaker_match_over_a_much_stronger_one() -> None:
    reference = Candidate(seq=1, bm25=10.0, coverage=1.0)
    pinned_important = Candidate(seq=2, bm25=5.0, coverage=1.0, retention=1.0, importance=5)
    faded_minor = Candidate(seq=3, bm25=9.0, coverage=1.0, retention=0.1, importance=1)
    scored = {s.seq: s for s in fuse([reference, pinned_important, faded_minor], "keyword")}
    assert scored[2].fused == pytest.approx(0.5) and scored[3].fused == pytest.approx(0.9)
    assert scored[3].score > scored[2].score
    assert _seqs(fuse([reference, pinned_important, faded_minor], "keyword")) == [1, 3, 2]


def test_prior_bound_holds_for_random_pairs() -> None:
    """The prior spans at most a factor max/min; fused ratios above it always survive."""
    extremes = [lifecycle_prior(r, i, P) for r in (0.0, 1.0) for i in (1, 5)]
    bound = max(extremes) / min(extremes)
    assert bound < 1.3
    rng = random.Random(7)
    for _ in range(500):
        strong_bm25 = rng.uniform(1, 10)
        weak_bm25 = strong_bm25 / (bound * rng.uniform(1.0001, 2))
        strong = Candidate(
            seq=1,
            bm25=strong_bm25,
            coverage=1.0,
            retention=rng.random(),
            importance=rng.randint(1, 5),
        )
        weak = Candidate(
            seq=2,
            bm25=weak_bm25,
            coverage=1.0,
            retention=rng.random(),
            importance=rng.randint(1, 5),
        )
        assert _seqs(fuse([weak, strong], "keyword")) == [1, 2]


def test_prior_orders_near_ties() -> None:
    fresh = Candidate(seq=1, bm25=5.0, coverage=1.0, retention=1.0, importance=4)
    faded = Candidate(seq=2, bm25=5.0, coverage=1.0, retention=0.3, importance=3)
    scored = fuse([fresh, faded], "keyword")
    assert _seqs(scored) == [1, 2]
    assert scored[0].prior == pytest.approx(1.03)
    assert scored[1].prior == pytest.approx(0.93)
    assert scored[0].score == pytest.approx(scored[0].fused * scored[0].prior)


# --- ordering --------------------------------------------------------------------------


def test_ties_are_broken_by_newer_seq() -> None:
    candidates = [Candidate(seq=s, bm25=2.0, coverage=1.0) for s in (5, 9, 1, 7)]
    assert _seqs(fuse(candidates, "keyword")) == [9, 7, 5, 1]


def test_output_is_sorted_by_score_then_seq_for_random_candidates() -> None:
    rng = random.Random(11)
    candidates = [
        Candidate(
            seq=s,
            bm25=rng.choice([None, 0.0, rng.uniform(0, 5), 2.5]),
            coverage=rng.random(),
            cosine=rng.choice([None, rng.uniform(-1, 1), 0.5]),
            retention=rng.random(),
            importance=rng.randint(1, 5),
        )
        for s in range(1, 200)
    ]
    for mode in ("hybrid", "keyword", "semantic"):
        scored = fuse(candidates, mode, NO_TAIL)
        keys = [(-s.score, -s.seq) for s in scored]
        assert keys == sorted(keys)
        kept = set()
        if passes_gate(candidates, mode, P):
            kept = {
                c.seq for c in candidates if has_evidence(c, mode, P.hit_cosine, P.hit_coverage)
            }
        assert {s.seq for s in scored} == kept
        assert all(0.0 <= s.keyword <= 1.0 and 0.0 <= s.semantic <= 1.0 for s in scored)
