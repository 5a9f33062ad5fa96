"""Fusion of the keyword and semantic channels into one score (versioned, pure).

hybrid-v1, for a query q and its candidates (the best memories of each channel):

    keyword(d)  = bm25(d) / max bm25 over the candidates         (0 without a query term;
                  coverage(d) instead when no candidate scores above 0, as happens with
                  BM25's negative idfs in a store of one or two memories)
    semantic(d) = (cos(d) - min cos) / (max cos - min cos)       (0 without a vector)
    fused(d)    = ALPHA * semantic(d) + (1 - ALPHA) * keyword(d)
    score(d)    = fused(d) * prior(d)
    prior(d)    = (1 - RETENTION_WEIGHT * (1 - retention(d)))
                  * (1 + IMPORTANCE_WEIGHT * (importance(d) - 3))

A convex combination after min-max normalisation (Bruch et al. 2023, "An Analysis of Fusion
Functions for Hybrid Retrieval", found it more robust than reciprocal-rank fusion); BM25's
minimum is 0 by construction. ALPHA = 0.3 was chosen on the LoCoMo development set, where
MiniLM alone is much weaker than BM25 (bench/RESULTS.md). The lifecycle prior moves a score
by at most ~16%, so it orders near-ties and never hides a strong match.

Relevance floor, in two steps (return nothing rather than noise):
  1. the query gate: unless some candidate is clearly relevant, the answer is empty. Clearly
     relevant means a cosine of at least GATE_COSINE, or containing at least GATE_COVERAGE
     of the query's idf mass (the idf of the query terms it holds over the idf of all of
     the query's terms);
  2. the hit floor: after the gate, each hit still needs some evidence of its own, a cosine
     of at least HIT_COSINE or a coverage of at least HIT_COVERAGE, and a fused score of at
     least RELATIVE_FLOOR times the best one (the long tail of weak matches is noise to a
     person; on LoCoMo this cut costs at most 0.4 points of R@50 and nothing at R@5/R@10).
Coverage weighs terms by Lucene's always-positive idf. In keyword mode any memory holding a
query term is kept; in semantic mode the cosine thresholds apply alone.
"""

from __future__ import annotations

from dataclasses import dataclass

FUSION_VERSION = "hybrid-v1"


@dataclass(frozen=True)
class FusionParams:
    alpha: float = 0.3
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


@dataclass(frozen=True)
class Scored:
    seq: int
    score: float
    keyword: float
    semantic: float
    fused: float
    prior: float


def lifecycle_prior(retention: float, importance: int, params: FusionParams) -> float:
    return (1 - params.retention_weight * (1 - retention)) * (
        1 + params.importance_weight * (importance - 3)
    )


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


def fuse(
    candidates: list[Candidate], mode: str, params: FusionParams = DEFAULT_PARAMS
) -> list[Scored]:
    """Score, floor and sort candidates (best first; ties broken by newer seq)."""
    if not passes_gate(candidates, mode, params):
        return []
    max_bm25 = max((c.bm25 or 0.0 for c in candidates), default=0.0)
    cosines = [c.cosine for c in candidates if c.cosine is not None]
    max_cos, min_cos = max(cosines, default=0.0), min(cosines, default=0.0)
    alpha = {"keyword": 0.0, "semantic": 1.0}.get(mode, params.alpha)
    if not cosines:
        alpha = 0.0  # no semantic evidence at all (no model, or no vectors yet)
    scored: list[Scored] = []
    for c in candidates:
        if not has_evidence(c, mode, params.hit_cosine, params.hit_coverage):
            continue
        keyword = max(c.bm25 or 0.0, 0.0) / max_bm25 if max_bm25 > 0 else c.coverage
        semantic = 0.0
        if c.cosine is not None:
            semantic = (c.cosine - min_cos) / (max_cos - min_cos) if max_cos > min_cos else 1.0
        fused = alpha * semantic + (1 - alpha) * keyword
        prior = lifecycle_prior(c.retention, c.importance, params)
        scored.append(Scored(c.seq, fused * prior, keyword, semantic, fused, prior))
    best = max((s.fused for s in scored), default=0.0)
    scored = [s for s in scored if s.fused >= params.relative_floor * best]
    scored.sort(key=lambda s: (-s.score, -s.seq))
    return scored
