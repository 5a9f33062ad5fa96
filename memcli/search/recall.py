"""Hybrid recall over an open store: keyword candidates, semantic candidates, fusion."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from memcli.lifecycle.decay import memory_retention
from memcli.records import Hit, ScoreParts
from memcli.search import bm25
from memcli.search.fusion import DEFAULT_PARAMS, Candidate, FusionParams, fuse
from memcli.search.semantic import QueryVector, semantic_candidates
from memcli.search.tokenizer import tokenize
from memcli.store import index
from memcli.store import memories as rows
from memcli.store.memories import Filters

CANDIDATES_PER_CHANNEL = 200
MODES = ("hybrid", "keyword", "semantic")
__all__ = ["QueryVector", "RecallRequest", "keyword_candidates", "recall", "semantic_candidates"]


@dataclass(frozen=True)
class RecallRequest:
    query: str
    limit: int = 10
    filters: Filters = field(default_factory=Filters)
    mode: str = "hybrid"
    min_score: float | None = None


def keyword_candidates(
    con: duckdb.DuckDBPyConnection, query: str, filters: Filters, limit: int
) -> dict[int, tuple[float, float]]:
    """{seq: (bm25, coverage)} for the best keyword matches."""
    tokens = tokenize(query)
    if not tokens:
        return {}
    doc_count, total_len = index.corpus_stats(con)
    if doc_count == 0:
        return {}
    distinct = list(bm25.term_counts(tokens))
    freqs = index.doc_freqs(con, distinct)
    average_idf = 0.0
    if bm25.needs_mean_idf(doc_count, freqs):
        average_idf = bm25.mean_idf(doc_count, index.all_doc_freqs(con))
    weights = bm25.query_weights(tokens, doc_count, freqs, average_idf)
    top = index.bm25_top(con, weights, bm25.K1, bm25.B, total_len / doc_count, filters, limit)
    if not top:
        return {}
    # Coverage: the share of the query's idf mass a memory contains (unknown terms count
    # with the idf of a term found nowhere, so a query of rare words is not "covered").
    idf = {t: bm25.positive_idf(doc_count, freqs.get(t, 0)) for t in distinct}
    total_idf = sum(idf.values())
    matched = index.matched_terms(con, [seq for seq, _ in top], list(freqs))
    return {
        seq: (score, sum(idf[t] for t in matched.get(seq, ())) / total_idf) for seq, score in top
    }


def recall(
    con: duckdb.DuckDBPyConnection,
    request: RecallRequest,
    query_vector: QueryVector | None,
    now: datetime,
    params: FusionParams = DEFAULT_PARAMS,
) -> list[Hit]:
    """The best memories for the request, best first, after the relevance floor."""
    wanted = max(request.limit, 1)
    pool = max(CANDIDATES_PER_CHANNEL, wanted * 2)
    keyword: dict[int, tuple[float, float]] = {}
    if request.mode != "semantic":
        keyword = keyword_candidates(con, request.query, request.filters, pool)
    semantic: dict[int, float] = {}
    if request.mode != "keyword" and query_vector is not None:
        semantic = semantic_candidates(con, query_vector, request.filters, pool, also=set(keyword))
    query_terms = len(set(tokenize(request.query)))
    seqs = sorted(set(keyword) | set(semantic))
    found = rows.get_by_seqs(con, seqs)
    candidates: dict[int, Candidate] = {}
    for seq in seqs:
        memory = found[seq]
        touched = memory.reinforced_at or memory.added_at
        bm25_score, coverage = keyword.get(seq, (None, 0.0))
        candidates[seq] = Candidate(
            seq=seq,
            bm25=bm25_score,
            coverage=coverage,
            cosine=semantic.get(seq),
            retention=memory_retention(
                memory.importance, memory.reinforcements, memory.pinned, touched, now
            ),
            importance=memory.importance,
            created=memory.created_at.timestamp(),
        )
    hits: list[Hit] = []
    for scored in fuse(list(candidates.values()), request.mode, params, query_terms):
        if request.min_score is not None and scored.score < request.min_score:
            continue
        candidate = candidates[scored.seq]
        parts = ScoreParts(
            bm25=candidate.bm25,
            keyword=scored.keyword,
            cosine=candidate.cosine,
            semantic=scored.semantic,
            fused=scored.fused,
            retention=candidate.retention,
            prior=scored.prior,
            coverage=candidate.coverage,
            context=scored.context,
        )
        hits.append(Hit(found[scored.seq], _round(scored.score), parts))
        if len(hits) >= wanted:
            break
    return hits


def _round(value: float) -> float:
    return 0.0 if math.isnan(value) else round(value, 6)
