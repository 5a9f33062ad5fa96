"""Fusion of the keyword and semantic channels into one calibrated score (versioned, pure).

hybrid-v4 scores every candidate (the best memcli.search.recall.CANDIDATES_PER_CHANNEL
memories of each channel) from absolute evidence only, so that a score means the same for
every query and a store that holds nothing relevant yields nothing:

    s(d)      = max(cos(d), 0)                     the raw cosine of its best chunk
    k(d)      = min(sum over the query terms t in d of idf+(t) * tf_part(t, d)
                    / sum over every query term t of idf+(t), KEYWORD_CAP)
    alpha(q)  = clamp(ALPHA_BASE + ALPHA_PER_TERM * n, ALPHA_MIN, ALPHA_MAX)
    own(d)    = alpha(q) * s(d) + (1 - alpha(q)) * k(d) + AGREEMENT * s(d) * k(d)
    context(d)= CONTEXT_WEIGHT * max own(e) over the neighbours e of d (hybrid only; both
                d and e need own >= CONTEXT_FLOOR)
    evidence  = own(d) + context(d)
    score(d)  = 1 - exp(-evidence(d) * prior(d) / SCALE)
    prior(d)  = (1 - RETENTION_WEIGHT * (1 - retention(d)))
                * (1 + IMPORTANCE_WEIGHT * (importance(d) - 3))

k(d) is how much of the query a memory holds: idf+ is Lucene's always-positive idf, tf_part
BM25's saturating term frequency (k1 and b of memcli.search.bm25), and a query term that no
memory holds counts in the denominator with the idf of a term found nowhere. A memory
holding every query word once, at an average length, has k = 1; one sharing only a common
verb with the query has a small k however few other memories share anything. n is the
number of distinct query terms: a few words are typed by someone who remembers the words, a
sentence is better matched by meaning. The agreement term rewards a memory that both
channels point at. Neither channel is scaled by the best candidate of the query, so a weak
best candidate stays weak.

Context: memories written in one sitting explain each other ("Sarah recommended a book" /
"it was Piranesi"; a question, its answer and the follow-up in a conversation). Two
candidates are neighbours when their seqs are at most CONTEXT_WINDOW apart (stored one after
the other, or with one memory between them) and they were created at most
SITTING_GAP_SECONDS apart, in a chain of such memories (a sitting) of at most MAX_SITTING
candidates (more is a bulk import stamped with one time, not something written together).
Only a memory with evidence of its own gives or gets context, so a note that merely sits
next to a hit never becomes one.

The lifecycle prior moves the evidence by at most about 16%, to order near-ties without
hiding a strong match, and the score maps it onto 0..1 (SCALE sets where it bends). The
prior applies to the evidence, not to the score: strong matches all score near 1, where a
prior on the score would decide between them alone.

In keyword mode own(d) is (1 - ALPHA_MIN) * k(d), in semantic mode ALPHA_MAX * s(d): each
channel alone counts as much as it ever does in hybrid mode, so that a score and the floor
mean about the same in every mode and for every query.

Relevance floor: a hit needs a score of at least FLOOR (or the caller's min_score), and at
least RELATIVE_FLOOR times the best hit's score, so that an answer does not trail a long
tail of weak matches. A query that nothing in the store matches returns nothing.

The formula and its constants are tuned on the three development sets (LoCoMo, SciFact,
LongMemEval_S dev) with bench/tune.py; the measurements are in bench/RESULTS.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

FUSION_VERSION = "hybrid-v4"


@dataclass(frozen=True)
class FusionParams:
    alpha_base: float = 0.3
    alpha_per_term: float = 0.03
    alpha_min: float = 0.4
    alpha_max: float = 0.7
    keyword_cap: float = 1.5
    agreement: float = 1.5
    context_weight: float = 0.7
    context_floor: float = 0.1  # own evidence a memory needs to give or get context
    context_window: int = 2
    sitting_gap_seconds: float = 1800.0
    max_sitting: int = 100
    scale: float = 0.5
    floor: float = 0.2
    relative_floor: float = 0.4
    retention_weight: float = 0.10
    importance_weight: float = 0.03


DEFAULT_PARAMS = FusionParams()


@dataclass
class Candidate:
    """What the channels found about one memory."""

    seq: int
    bm25: float | None = None  # shown by --explain; the score uses `keyword`
    coverage: float = 0.0  # share of the query's idf mass the memory holds
    keyword: float = 0.0  # k(d) before the cap: coverage weighted by BM25's tf part
    cosine: float | None = None
    retention: float = 1.0
    importance: int = 3
    created: float | None = None  # created_at in seconds (None: no context)


@dataclass(frozen=True)
class Scored:
    seq: int
    score: float
    keyword: float  # k(d), capped
    semantic: float  # s(d)
    fused: float  # own(d)
    prior: float
    context: float = 0.0

    @property
    def evidence(self) -> float:
        return self.fused + self.context


def lifecycle_prior(retention: float, importance: int, params: FusionParams) -> float:
    return (1 - params.retention_weight * (1 - retention)) * (
        1 + params.importance_weight * (importance - 3)
    )


def query_alpha(query_terms: int, params: FusionParams) -> float:
    """The weight of the semantic channel for a query of `query_terms` distinct terms."""
    alpha = params.alpha_base + params.alpha_per_term * query_terms
    return min(params.alpha_max, max(params.alpha_min, alpha))


def calibrated(evidence: float, params: FusionParams) -> float:
    """Evidence (0 and up) as a score in 0..1, the same for every query."""
    return 1.0 - math.exp(-max(evidence, 0.0) / params.scale)


def own_evidence(
    candidate: Candidate, mode: str, alpha: float, params: FusionParams
) -> tuple[float, float, float]:
    """(k, s, own) of a candidate in this mode."""
    s = max(candidate.cosine, 0.0) if candidate.cosine is not None else 0.0
    k = min(max(candidate.keyword, 0.0), params.keyword_cap)
    if mode == "keyword":
        return k, s, (1 - params.alpha_min) * k
    if mode == "semantic":
        return k, s, params.alpha_max * s
    return k, s, alpha * s + (1 - alpha) * k + params.agreement * s * k


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


def neighbours(candidates: list[Candidate], params: FusionParams) -> dict[int, list[int]]:
    """{seq: seqs of its neighbouring candidates}: seqs at most context_window apart,
    created within one sitting gap, in a sitting of at most max_sitting candidates."""
    sitting = sittings(candidates, params)
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


def fuse(
    candidates: list[Candidate],
    mode: str,
    params: FusionParams = DEFAULT_PARAMS,
    query_terms: int = 0,
    floor: float | None = None,
    meaning: bool = True,
) -> list[Scored]:
    """Score, floor and sort candidates (best first; ties broken by newer seq). `floor` is
    the lowest score kept (params.floor unless given). `meaning` is false when the semantic
    channel could not run (no model): the words then count as in keyword mode."""
    alpha = query_alpha(query_terms, params) if meaning else params.alpha_min
    parts = {c.seq: own_evidence(c, mode, alpha, params) for c in candidates}
    context_of: dict[int, float] = {}
    if mode == "hybrid" and params.context_weight:
        links = neighbours(candidates, params)
        for seq, others in links.items():
            if parts[seq][2] < params.context_floor:
                continue
            giving = [parts[o][2] for o in others if parts[o][2] >= params.context_floor]
            if giving:
                context_of[seq] = params.context_weight * max(giving)
    lowest = params.floor if floor is None else floor
    scored: list[Scored] = []
    for c in candidates:
        keyword, semantic, own = parts[c.seq]
        context = context_of.get(c.seq, 0.0)
        prior = lifecycle_prior(c.retention, c.importance, params)
        score = calibrated((own + context) * prior, params)
        if score >= lowest and own + context > 0:
            scored.append(Scored(c.seq, score, keyword, semantic, own, prior, context))
    best = max((s.score for s in scored), default=0.0)
    scored = [s for s in scored if s.score >= params.relative_floor * best]
    scored.sort(key=lambda s: (-s.score, -s.seq))
    return scored
