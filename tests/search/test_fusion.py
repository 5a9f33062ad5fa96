"""Pure tests of memcli.search.fusion (hybrid-v4): absolute evidence, the calibrated score,
the relevance floor, context, the lifecycle prior and the order of hits."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memcli.search.fusion import (
    DEFAULT_PARAMS,
    Candidate,
    FusionParams,
    calibrated,
    fuse,
    lifecycle_prior,
    neighbours,
    query_alpha,
    sittings,
)

P = DEFAULT_PARAMS
NO_TAIL = FusionParams(relative_floor=0.0)  # for tests about other parts of the formula
OPEN = FusionParams(relative_floor=0.0, floor=0.0)  # nothing dropped


def _seqs(scored) -> list[int]:
    return [s.seq for s in scored]


def _own(cosine: float, keyword: float, terms: int = 0) -> float:
    alpha = query_alpha(terms, P)
    s, k = max(cosine, 0.0), min(keyword, P.keyword_cap)
    return alpha * s + (1 - alpha) * k + P.agreement * s * k


# --- absolute evidence: no channel is scaled by the query's best candidate ---------------


def test_one_common_word_does_not_outrank_a_strong_semantic_match() -> None:
    """A question sharing only a common verb with some note: that note's keyword evidence
    stays as small as its share of the query, and the note that means the same wins."""
    common_verb = Candidate(seq=1, bm25=2.3, coverage=0.2, keyword=0.2, cosine=0.01)
    paraphrase = Candidate(seq=2, bm25=None, coverage=0.0, keyword=0.0, cosine=0.59)
    scored = fuse([common_verb, paraphrase], "hybrid", NO_TAIL, query_terms=4)
    assert _seqs(scored)[0] == 2
    assert scored[0].fused > 2 * next(s.fused for s in scored if s.seq == 1)


def test_a_weak_best_keyword_match_stays_weak() -> None:
    """hybrid-v3 divided BM25 by the best candidate's: a 20% match became 1.0."""
    alone = fuse([Candidate(seq=1, bm25=0.8, coverage=0.2, keyword=0.2)], "keyword", OPEN)
    assert alone[0].keyword == pytest.approx(0.2)
    assert alone[0].score == pytest.approx(calibrated((1 - P.alpha_min) * 0.2, P))


def test_exact_words_beat_a_loose_paraphrase() -> None:
    exact = Candidate(seq=1, bm25=9.0, coverage=1.0, keyword=1.0, cosine=0.35)
    loose = Candidate(seq=2, bm25=None, coverage=0.0, keyword=0.0, cosine=0.55)
    assert _seqs(fuse([exact, loose], "hybrid", NO_TAIL, query_terms=2)) == [1, 2]


def test_both_channels_agreeing_beat_either_alone() -> None:
    both = Candidate(seq=1, keyword=0.5, coverage=0.5, bm25=3.0, cosine=0.5)
    words = Candidate(seq=2, keyword=0.5 + 0.5, coverage=1.0, bm25=6.0, cosine=0.0)
    meaning = Candidate(seq=3, keyword=0.0, cosine=1.0)
    assert _seqs(fuse([both, words, meaning], "hybrid", NO_TAIL, query_terms=5))[0] == 1


def test_own_evidence_is_the_documented_formula() -> None:
    candidate = Candidate(seq=1, bm25=4.0, coverage=0.7, keyword=0.8, cosine=0.6)
    scored = fuse([candidate], "hybrid", OPEN, query_terms=7)[0]
    assert scored.fused == pytest.approx(_own(0.6, 0.8, 7))
    assert scored.score == pytest.approx(calibrated(scored.fused, P))
    assert (scored.keyword, scored.semantic) == (pytest.approx(0.8), pytest.approx(0.6))


def test_keyword_evidence_is_capped_and_negative_cosines_count_as_zero() -> None:
    heavy = fuse([Candidate(seq=1, keyword=9.0, coverage=1.0, bm25=20.0)], "keyword", OPEN)
    assert heavy[0].keyword == P.keyword_cap
    opposite = fuse([Candidate(seq=1, keyword=0.5, coverage=0.5, cosine=-0.4)], "hybrid", OPEN)
    assert opposite[0].semantic == 0.0


def test_keyword_and_semantic_modes_use_their_own_channel_only() -> None:
    a = Candidate(seq=1, bm25=10.0, coverage=1.0, keyword=1.0, cosine=0.35)
    b = Candidate(seq=2, bm25=1.0, coverage=0.3, keyword=0.3, cosine=0.70)
    keyword = fuse([a, b], "keyword", OPEN)
    semantic = fuse([a, b], "semantic", OPEN)
    assert _seqs(keyword) == [1, 2] and _seqs(semantic) == [2, 1]
    # each channel weighs as much as it ever does in hybrid mode, whatever the query
    assert keyword[0].score == pytest.approx(calibrated((1 - P.alpha_min) * 1.0, P))
    assert semantic[0].score == pytest.approx(calibrated(P.alpha_max * 0.70, P))
    for terms in (1, 30):
        again = fuse([a, b], "semantic", OPEN, query_terms=terms)
        assert again[0].score == semantic[0].score


def test_without_a_model_hybrid_scores_the_words_as_keyword_mode_does() -> None:
    candidates = [
        Candidate(seq=i, bm25=b, coverage=k, keyword=k, retention=r, importance=imp)
        for i, (b, k, r, imp) in enumerate([(3.0, 0.5, 1.0, 3), (6.0, 1.0, 0.5, 4)], start=1)
    ]
    for terms in (1, 30):
        hybrid = fuse(candidates, "hybrid", OPEN, query_terms=terms, meaning=False)
        keyword = fuse(candidates, "keyword", OPEN, query_terms=terms)
        assert [(s.seq, s.score) for s in hybrid] == [(s.seq, s.score) for s in keyword]


def test_a_long_query_trusts_meaning_more_than_a_short_one() -> None:
    values = [query_alpha(n, P) for n in range(40)]
    assert values == sorted(values) and values[0] == P.alpha_min and values[-1] == P.alpha_max
    words = Candidate(seq=1, keyword=0.9, coverage=0.9, bm25=5.0, cosine=0.1)
    meaning = Candidate(seq=2, keyword=0.1, coverage=0.1, bm25=0.5, cosine=0.9)
    assert _seqs(fuse([words, meaning], "hybrid", NO_TAIL, query_terms=2)) == [1, 2]
    assert _seqs(fuse([words, meaning], "hybrid", NO_TAIL, query_terms=15)) == [2, 1]


# --- the calibrated score ----------------------------------------------------------------


def test_calibrated_is_zero_at_zero_increasing_and_below_one() -> None:
    values = [calibrated(e / 10, P) for e in range(0, 60)]
    assert values[0] == 0.0 and values == sorted(values) and values[-1] < 1.0
    assert calibrated(-1.0, P) == 0.0


_candidate = st.builds(
    Candidate,
    seq=st.integers(1, 10_000),
    bm25=st.none() | st.floats(0, 30),
    coverage=st.floats(0, 1),
    keyword=st.floats(0, 3),
    cosine=st.none() | st.floats(-1, 1),
    retention=st.floats(0, 1),
    importance=st.integers(1, 5),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_candidate, min_size=1, max_size=30, unique_by=lambda c: c.seq),
    st.lists(_candidate, max_size=30, unique_by=lambda c: c.seq),
    st.sampled_from(["hybrid", "keyword", "semantic"]),
    st.integers(0, 20),
)
def test_a_score_depends_only_on_the_memorys_own_evidence(
    mine: list[Candidate], others: list[Candidate], mode: str, terms: int
) -> None:
    """Scores are comparable across queries: a memory's score is the same whatever else the
    store holds (no normalisation by the best candidate), so 0.8 means the same evidence
    for every query. (Context and the relative floor depend on other memories by design;
    these candidates have no time, so no context, and the tail is not cut.)"""
    seqs = {c.seq for c in mine}
    together = mine + [c for c in others if c.seq not in seqs]
    alone = {s.seq: s.score for s in fuse(mine, mode, OPEN, terms)}
    crowded = {s.seq: s.score for s in fuse(together, mode, OPEN, terms) if s.seq in seqs}
    assert alone == pytest.approx(crowded)
    assert all(0.0 <= score <= 1.0 + P.importance_weight * 2 for score in alone.values())


# --- the relevance floor -----------------------------------------------------------------


def test_nothing_relevant_returns_nothing() -> None:
    noise = [
        Candidate(seq=1, bm25=None, keyword=0.0, cosine=0.12),
        Candidate(seq=2, bm25=0.3, coverage=0.1, keyword=0.08, cosine=0.05),
    ]
    for mode in ("hybrid", "keyword", "semantic"):
        assert fuse(noise, mode) == []


def test_the_floor_is_on_the_calibrated_score_and_min_score_replaces_it() -> None:
    weak = Candidate(seq=1, bm25=None, keyword=0.0, cosine=0.25)
    strong = Candidate(seq=2, bm25=8.0, coverage=1.0, keyword=1.0, cosine=0.7)
    score = calibrated(_own(0.25, 0.0), P)
    assert score < P.floor
    assert _seqs(fuse([weak, strong], "hybrid", NO_TAIL)) == [2]
    assert _seqs(fuse([weak, strong], "hybrid", NO_TAIL, floor=score - 1e-9)) == [2, 1]
    assert fuse([weak, strong], "hybrid", NO_TAIL, floor=0.999) == []


def test_hits_far_below_the_best_are_dropped() -> None:
    best = Candidate(seq=1, bm25=10.0, coverage=1.0, keyword=1.0, cosine=0.8)
    tail = Candidate(seq=2, bm25=None, keyword=0.0, cosine=0.5)
    kept = fuse([best, tail], "hybrid")
    assert _seqs(kept) == [1]
    assert _seqs(fuse([best, tail], "hybrid", NO_TAIL)) == [1, 2]
    assert kept[0].score * P.relative_floor > calibrated(_own(0.5, 0.0), P)


def test_empty_candidate_list() -> None:
    for mode in ("hybrid", "keyword", "semantic"):
        assert fuse([], mode) == []


# --- context: memories written in one sitting -----------------------------------------

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


def test_sittings_are_chains_of_close_timestamps_without_bulk_imports() -> None:
    chain = [Candidate(seq=s, created=s * 0.9 * P.sitting_gap_seconds) for s in range(3)]
    assert set(sittings(chain, P).values()) == {0}  # each within a gap of the one before
    assert sittings([Candidate(seq=1, created=None)], P) == {}
    bulk = [Candidate(seq=s, created=0.0) for s in range(1, P.max_sitting + 2)]
    assert sittings(bulk, P) == {} and neighbours(bulk, P) == {}


def _conversation() -> list[Candidate]:
    """A strong hit (seq 2), its reply (seq 3) sharing little with the query, a memory as
    weak as the reply written on another day (seq 9), and a note of the same sitting with
    next to no evidence of its own (seq 1)."""
    return [
        Candidate(seq=1, bm25=None, keyword=0.0, cosine=0.13, created=0.0),
        Candidate(seq=2, bm25=8.0, coverage=1.0, keyword=1.0, cosine=0.7, created=0.0),
        Candidate(seq=3, bm25=2.0, coverage=0.3, keyword=0.3, cosine=0.35, created=30.0),
        Candidate(seq=9, bm25=2.0, coverage=0.3, keyword=0.3, cosine=0.35, created=9 * 86400.0),
    ]


def test_a_memory_next_to_a_strong_hit_gets_its_context() -> None:
    scored = {s.seq: s for s in fuse(_conversation(), "hybrid", OPEN)}
    assert scored[3].fused == pytest.approx(scored[9].fused)
    assert scored[3].context == pytest.approx(P.context_weight * scored[2].fused)
    assert scored[9].context == 0.0  # alone in its sitting
    assert scored[3].score > scored[9].score
    assert scored[3].score == pytest.approx(calibrated(scored[3].evidence, P))
    assert _seqs(fuse(_conversation(), "hybrid", OPEN))[:3] == [2, 3, 9]


def test_a_note_without_evidence_of_its_own_gets_no_context() -> None:
    """A new user's unrelated note written in the same sitting as the answer (cosine 0.13,
    no shared word) is not lifted into the answer by its neighbour."""
    scored = {s.seq: s for s in fuse(_conversation(), "hybrid", OPEN)}
    assert scored[1].fused < P.context_floor and scored[1].context == 0.0
    assert 1 not in {s.seq for s in fuse(_conversation(), "hybrid")}
    assert scored[2].context == pytest.approx(P.context_weight * scored[3].fused)  # not seq 1


def test_context_only_in_hybrid_mode() -> None:
    for mode in ("keyword", "semantic"):
        assert all(s.context == 0.0 for s in fuse(_conversation(), mode, OPEN))
    without = FusionParams(relative_floor=0.0, floor=0.0, context_weight=0.0)
    assert all(s.context == 0.0 for s in fuse(_conversation(), "hybrid", without))


# --- the lifecycle prior --------------------------------------------------------------


def test_prior_is_neutral_for_a_fresh_default_memory() -> None:
    assert lifecycle_prior(1.0, 3, P) == 1.0
    assert lifecycle_prior(1.0, 5, P) > 1.0 > lifecycle_prior(0.1, 1, P)


def test_prior_never_lifts_a_weaker_match_over_a_much_stronger_one() -> None:
    """The prior multiplies the evidence by at most max/min; evidence further apart always
    keeps its order, however close to 1 both scores are."""
    extremes = [lifecycle_prior(r, i, P) for r in (0.0, 1.0) for i in (1, 5)]
    bound = max(extremes) / min(extremes)
    assert bound < 1.3
    rng = random.Random(7)
    for _ in range(500):
        strong_k = rng.uniform(0.3, P.keyword_cap)
        weak_k = strong_k / (bound * rng.uniform(1.0001, 2))
        pair = [
            Candidate(seq=1, keyword=strong_k, coverage=1.0, bm25=1.0, retention=rng.random(),
                      importance=rng.randint(1, 5)),
            Candidate(seq=2, keyword=weak_k, coverage=1.0, bm25=1.0, retention=rng.random(),
                      importance=rng.randint(1, 5)),
        ]  # fmt: skip
        assert _seqs(fuse(pair, "keyword", OPEN)) == [1, 2]


def test_prior_orders_near_ties() -> None:
    fresh = Candidate(seq=1, bm25=5.0, coverage=1.0, keyword=1.0, retention=1.0, importance=4)
    faded = Candidate(seq=2, bm25=5.0, coverage=1.0, keyword=1.0, retention=0.3, importance=3)
    scored = fuse([fresh, faded], "keyword")
    assert _seqs(scored) == [1, 2]
    assert scored[0].prior == pytest.approx(1.03) and scored[1].prior == pytest.approx(0.93)
    assert scored[0].score == pytest.approx(calibrated((1 - P.alpha_min) * 1.03, P))


# --- ordering --------------------------------------------------------------------------


def test_ties_are_broken_by_newer_seq() -> None:
    candidates = [Candidate(seq=s, bm25=2.0, coverage=1.0, keyword=1.0) for s in (5, 9, 1, 7)]
    assert _seqs(fuse(candidates, "keyword")) == [9, 7, 5, 1]


def test_output_is_sorted_by_score_then_seq_for_random_candidates() -> None:
    rng = random.Random(11)
    candidates = [
        Candidate(
            seq=s,
            bm25=rng.choice([None, 0.0, rng.uniform(0, 5)]),
            coverage=rng.random(),
            keyword=rng.choice([0.0, rng.uniform(0, 2)]),
            cosine=rng.choice([None, rng.uniform(-1, 1), 0.5]),
            retention=rng.random(),
            importance=rng.randint(1, 5),
            created=rng.choice([None, rng.uniform(0, 10 * HOUR)]),
        )
        for s in range(1, 200)
    ]
    for mode in ("hybrid", "keyword", "semantic"):
        scored = fuse(candidates, mode)
        keys = [(-s.score, -s.seq) for s in scored]
        assert keys == sorted(keys)
        assert all(s.score >= P.floor for s in scored)
        assert all(s.score >= P.relative_floor * scored[0].score for s in scored)
