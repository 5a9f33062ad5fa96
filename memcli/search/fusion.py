"""Fusion of the keyword and semantic channels into one score (versioned, pure).

hybrid-v3, for a query q of n distinct terms and its candidates (the best
memcli.search.recall.CANDIDATES_PER_CHANNEL memories of each channel):

    keyword(d)  = bm25(d) / max bm25 over the candidates         (0 without a query term;
                  coverage(d) instead when no candidate scores above 0, as happens with
                  BM25's negative idfs in a store of one or two memories)
    semantic(d) = (cos(d) - min cos) / (max cos - min cos)       (0 without a vector)
    alpha(q)    = clamp(ALPHA_BASE + ALPHA_PER_TERM * n, ALPHA_MIN, ALPHA_MAX)
    fused(d)    = alpha(q) * semantic(d) + (1 - alpha(q)) * keyword(d)
    context(d)  = CONTEXT_WEIGHT * max fused(e) over the neighbours e of d
                  + SITTING_WEIGHT * max fused(e) over the other memories e of d's sitting
                  (hybrid only; SITTING_WEIGHT is 0 in hybrid-v3, see below)
    score(d)    = (fused(d) + context(d)) / (1 + CONTEXT_WEIGHT + SITTING_WEIGHT) * prior(d)
                  (hybrid; fused(d) * prior(d) in the other modes: scores stay within 0..1)
    prior(d)    = (1 - RETENTION_WEIGHT * (1 - retention(d)))
                  * (1 + IMPORTANCE_WEIGHT * (importance(d) - 3))

BM25 itself runs with k1 = 1.2 and b = 0.3 (memcli.search.bm25): notes and chat turns are
short, and full length normalisation (b = 0.75) punished the longer ones that hold the
answer.

A convex combination after min-max normalisation (Bruch et al. 2023, "An Analysis of Fusion
Functions for Hybrid Retrieval", found it more robust than reciprocal-rank fusion; on the
same candidates RRF with k = 60 gives LoCoMo R@5 45.5 and SciFact nDCG@10 0.699, against
58.9 and 0.733 for this combination without context (200 candidates per channel): bench/tune.py).
The weight of meaning grows with the query's length: two or three words are what people
type when they remember the words (0.35), a sentence or a claim is better matched by
meaning (0.55 from 13 terms on).

Context: memories written in one sitting explain each other ("Sarah recommended a book" /
"it was Piranesi"; a question, its answer and the asker's follow-up in a conversation).
Candidates stamped within SITTING_GAP_SECONDS of each other (in a chain) form a sitting.
Two candidates of a sitting are neighbours when their seqs are at most CONTEXT_WINDOW apart
(stored one after the other, or with one memory between them) and they were created at
most SITTING_GAP_SECONDS apart. A memory gets half the fused score of its best neighbour.
Only memories with evidence of their own (the hit floor below) give or get context. A
sitting of more than MAX_SITTING candidates is a bulk import (one timestamp for everything)
rather than something written together: it gives no context.

hybrid-v3 is hybrid-v2 over 400 candidates per channel instead of 200: a memory outside
both pools cannot get the context of its neighbours, and in a conversation the answer often
shares neither words nor meaning with the question. On the cached scores (bench/tune.py)
LoCoMo R@5 / R@10 66.2 / 74.4 -> 66.9 / 75.2 (R@10 up in 9 of the 10 conversations) and
SciFact 0.733 -> 0.735; a warm recall at 100k costs about 3 ms more (fusion and the
candidates' facts).

The sitting term (SITTING_WEIGHT, off): a memory also gets a share of the best fused score
among the other memories of its sitting ("this conversation is about the question"). At
0.25 it takes LoCoMo R@10 to 76.4 (bench/tune.py's ablations), but it lifts every memory
written in the same sitting as the best hit towards it, and a selection by score relative
to the best (bench/forgeteval.py's `relevant` policy: every hit of at least half the best,
as an agent takes "everything about X" to forget it) then also takes the unrelated facts
noted alongside: ForgetEval-Adv 71.2 % -> 65.2 % (shared_attribute cases 56
-> 6 %). Recall that chooses for forgetting should not pull in what was merely written
nearby, so it stays off.

The lifecycle prior moves a score by at most ~16%, so it orders near-ties and never hides a
strong match.

Relevance floor, in two steps (return nothing rather than noise):
  1. the query gate: unless some candidate is clearly relevant, the answer is empty. Clearly
     relevant means a cosine of at least GATE_COSINE, or containing at least GATE_COVERAGE
     of the query's idf mass (the idf of the query terms it holds over the idf of all of
     the query's terms);
  2. the hit floor: after the gate, each hit still needs some evidence of its own, a cosine
     of at least HIT_COSINE or a coverage of at least HIT_COVERAGE, and a score before the
     prior of at least RELATIVE_FLOOR times the best one (the long tail of weak matches is
     noise to a person).
Coverage weighs terms by Lucene's always-positive idf. In keyword mode any memory holding a
query term is kept; in semantic mode the cosine thresholds apply alone.

Tuned on LoCoMo and SciFact only (bench/tune.py caches each query's channel scores; the
sweep and the results are in bench/RESULTS.md). hybrid-v1 was alpha 0.3 for every query,
no context and BM25 with k1 1.5, b 0.75; hybrid-v2 took 200 candidates per channel.
"""

from __future__ import annotations

from dataclasses import dataclass

FUSION_VERSION = "hybrid-v3"


@dataclass(frozen=True)
class FusionParams:
    alpha_base: float = 0.3
    alpha_per_term: float = 0.02
    alpha_min: float = 0.35
    alpha_max: float = 0.55
    context_weight: float = 0.5
    sitting_weight: float = 0.0  # off: see the module's docstring
    context_window: int = 2
    sitting_gap_seconds: float = 1800.0
    max_sitting: int = 100
    gate_cosine: float = 0.30
    gate_coverage: float = 0.5
    hit_cosine: float = 0.10
    hit_coverage: float = 0.2
    relative_floor: float = 0.2
    retention_weight: float = 0.10
    importance_weight: float = 0.03


DEFAULT_PARAMS = FusionParams()


@dataclass
class Candidate:
    """What the channels found about one memory."""

    seq: int
    bm25: float | None = None
    coverage: float = 0.0
    cosine: float | None = None
    retention: float = 1.0
    importance: int = 3
    created: float | None = None  # created_at in seconds (None: no context)


@dataclass(frozen=True)
class Scored:
    seq: int
    score: float
    keyword: float
    semantic: float
    fused: float
    prior: float
    context: float = 0.0


def lifecycle_prior(retention: float, importance: int, params: FusionParams) -> float:
    return (1 - params.retention_weight * (1 - retention)) * (
        1 + params.importance_weight * (importance - 3)
    )


def query_alpha(query_terms: int, params: FusionParams) -> float:
    """The weight of the semantic channel for a query of `query_terms` distinct terms."""
    alpha = params.alpha_base + params.alpha_per_term * query_terms
    return min(params.alpha_max, max(params.alpha_min, alpha))


def has_evidence(candidate: Candidate, mode: str, cosine: float, coverage: float) -> bool:
    """Whether a candidate reaches the given cosine or coverage threshold in this mode."""
    cosine_ok = candidate.cosine is not None and candidate.cosine >= cosine
    if mode == "semantic":
        return cosine_ok
    if mode == "keyword":
        return candidate.coverage > 0  # holds at least one query term
    return cosine_ok or candidate.coverage >= coverage


def passes_gate(candidates: list[Candidate], mode: str, params: FusionParams) -> bool:
    return any(has_evidence(c, mode, params.gate_cosine, params.gate_coverage) for c in candidates)


def sittings(candidates: list[Candidate], params: FusionParams) -> dict[int, int]:
    """{seq: number of its sitting} for the candidates that can get context: stamped within
    sitting_gap_seconds of the previous one (in time order), in a sitting of at most
    max_sitting candidates."""
    timed = sorted((c.created, c.seq) for c in candidates if c.created is not None)
    sitting: dict[int, int] = {}
    sizes: list[int] = []
    previous: float | None = None
    for created, seq in timed:
        if previous is None or created - previous > params.sitting_gap_seconds:
            sizes.append(0)
        sizes[-1] += 1
        sitting[seq] = len(sizes) - 1
        previous = created
    return {seq: n for seq, n in sitting.items() if sizes[n] <= params.max_sitting}


def neighbours(
    candidates: list[Candidate], params: FusionParams, sitting: dict[int, int] | None = None
) -> dict[int, list[int]]:
    """{seq: seqs of its neighbouring candidates}: seqs at most context_window apart,
    created within one sitting gap, in a sitting of at most max_sitting candidates
    (`sitting` is sittings(candidates, params) when the caller has it already)."""
    sitting = sittings(candidates, params) if sitting is None else sitting
    created_of = {c.seq: c.created for c in candidates if c.seq in sitting}
    links: dict[int, list[int]] = {}
    for seq, created in created_of.items():
        assert created is not None  # only timed candidates have a sitting
        for other in range(seq + 1, seq + params.context_window + 1):
            after = created_of.get(other)
            if after is not None and abs(after - created) <= params.sitting_gap_seconds:
                links.setdefault(seq, []).append(other)
                links.setdefault(other, []).append(seq)
    return links


def best_in_sitting(fused: dict[int, float], sitting: dict[int, int]) -> dict[int, float]:
    """{seq: the best fused score among the other memories of its sitting} for the seqs of
    `fused` (those with evidence) that have a sitting; 0 when a memory is alone in it."""
    best: dict[int, tuple[float, int]] = {}  # sitting -> (best score, its seq)
    second: dict[int, float] = {}
    for seq, score in fused.items():
        n = sitting.get(seq)
        if n is None:
            continue
        top, _ = best.get(n, (-1.0, 0))
        if score > top:
            second[n] = max(top, 0.0)
            best[n] = (score, seq)
        else:
            second[n] = max(second.get(n, 0.0), score)
    out: dict[int, float] = {}
    for seq in fused:
        n = sitting.get(seq)
        if n is not None:
            top, top_seq = best[n]
            out[seq] = second[n] if seq == top_seq else top
    return out


def fuse(
    candidates: list[Candidate],
    mode: str,
    params: FusionParams = DEFAULT_PARAMS,
    query_terms: int = 0,
) -> list[Scored]:
    """Score, floor and sort candidates (best first; ties broken by newer seq)."""
    if not passes_gate(candidates, mode, params):
        return []
    max_bm25 = max((c.bm25 or 0.0 for c in candidates), default=0.0)
    cosines = [c.cosine for c in candidates if c.cosine is not None]
    max_cos, min_cos = max(cosines, default=0.0), min(cosines, default=0.0)
    alpha = {"keyword": 0.0, "semantic": 1.0}.get(mode, query_alpha(query_terms, params))
    if not cosines:
        alpha = 0.0  # no semantic evidence at all (no model, or no vectors yet)
    parts: dict[int, tuple[float, float, float]] = {}  # seq -> (keyword, semantic, fused)
    for c in candidates:
        if not has_evidence(c, mode, params.hit_cosine, params.hit_coverage):
            continue
        keyword = max(c.bm25 or 0.0, 0.0) / max_bm25 if max_bm25 > 0 else c.coverage
        semantic = 0.0
        if c.cosine is not None:
            semantic = (c.cosine - min_cos) / (max_cos - min_cos) if max_cos > min_cos else 1.0
        parts[c.seq] = (keyword, semantic, alpha * semantic + (1 - alpha) * keyword)
    hybrid = mode == "hybrid"
    sitting = sittings(candidates, params) if hybrid else {}
    links = neighbours(candidates, params, sitting) if params.context_weight else {}
    mates: dict[int, float] = {}
    if params.sitting_weight:
        mates = best_in_sitting({seq: part[2] for seq, part in parts.items()}, sitting)
    scale = 1 + params.context_weight + params.sitting_weight if hybrid else 1.0
    scored: list[Scored] = []
    for c in candidates:
        if c.seq not in parts:
            continue
        keyword, semantic, fused = parts[c.seq]
        around = [parts[n][2] for n in links.get(c.seq, ()) if n in parts]
        context = params.context_weight * max(around, default=0.0)
        context += params.sitting_weight * mates.get(c.seq, 0.0)
        prior = lifecycle_prior(c.retention, c.importance, params)
        scored.append(
            Scored(
                c.seq, (fused + context) / scale * prior, keyword, semantic, fused, prior, context
            )
        )
    best = max((s.fused + s.context for s in scored), default=0.0)
    scored = [s for s in scored if s.fused + s.context >= params.relative_floor * best]
    scored.sort(key=lambda s: (-s.score, -s.seq))
    return scored
