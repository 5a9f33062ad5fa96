"""Fusion of the keyword and semantic channels into one score (versioned, pure).

hybrid-v1, for a query q and a candidate memory d:

    keyword(d)  = bm25(d) / max over candidates of bm25          (0 when d has no query term)
    semantic(d) = max(cos(d), 0) / max over candidates of cos    (0 when d has no vector)
    fused(d)    = ALPHA * semantic(d) + (1 - ALPHA) * keyword(d)
    score(d)    = fused(d) * prior(d)
    prior(d)    = (1 - RETENTION_WEIGHT * (1 - retention(d)))
                  * (1 + IMPORTANCE_WEIGHT * (importance(d) - 3))

This is a convex combination after "theoretical" min-max normalisation (the minimum of
both raw scores is 0, the maximum the best candidate's), which Bruch et al. (2023, "An
Analysis of Fusion Functions for Hybrid Retrieval") found more robust than reciprocal-rank
fusion. The lifecycle prior moves a score by at most ~16%, so it orders near-ties and never
hides a strong match.

Relevance floor (return nothing rather than noise): a candidate is kept when its cosine is
at least COSINE_FLOOR, or when it matches at least COVERAGE_FLOOR of the query's idf mass
(the idf of the query terms it contains over the idf of all query terms). In keyword mode
any memory that contains a query term is kept; in semantic mode the cosine floor applies.
"""

from __future__ import annotations

from dataclasses import dataclass

FUSION_VERSION = "hybrid-v1"


@dataclass(frozen=True)
class FusionParams:
    alpha: float = 0.5
    cosine_floor: float = 0.30
    coverage_floor: float = 0.5
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


def passes_floor(candidate: Candidate, mode: str, params: FusionParams) -> bool:
    cosine_ok = candidate.cosine is not None and candidate.cosine >= params.cosine_floor
    if mode == "semantic":
        return cosine_ok
    if mode == "keyword":
        return candidate.bm25 is not None and candidate.bm25 > 0
    return cosine_ok or candidate.coverage >= params.coverage_floor


def fuse(
    candidates: list[Candidate], mode: str, params: FusionParams = DEFAULT_PARAMS
) -> list[Scored]:
    """Score, floor and sort candidates (best first; ties broken by newer seq)."""
    max_bm25 = max((c.bm25 or 0.0 for c in candidates), default=0.0)
    max_cos = max((max(c.cosine or 0.0, 0.0) for c in candidates), default=0.0)
    alpha = {"keyword": 0.0, "semantic": 1.0}.get(mode, params.alpha)
    if max_cos <= 0:
        alpha = 0.0  # no semantic evidence at all (no model, or no vectors yet)
    scored: list[Scored] = []
    for c in candidates:
        if not passes_floor(c, mode, params):
            continue
        keyword = (c.bm25 or 0.0) / max_bm25 if max_bm25 > 0 else 0.0
        semantic = max(c.cosine or 0.0, 0.0) / max_cos if max_cos > 0 else 0.0
        fused = alpha * semantic + (1 - alpha) * keyword
        prior = lifecycle_prior(c.retention, c.importance, params)
        scored.append(Scored(c.seq, fused * prior, keyword, semantic, fused, prior))
    scored.sort(key=lambda s: (-s.score, -s.seq))
    return scored
