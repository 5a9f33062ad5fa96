"""Hybrid recall over an open store: keyword candidates, semantic candidates, fusion."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import duckdb
import numpy as np

from memcli.lifecycle.decay import memory_retention
from memcli.records import Hit, ScoreParts
from memcli.search import bm25
from memcli.search.conflicts import Claim, newer_first
from memcli.search.fusion import DEFAULT_PARAMS, Candidate, FusionParams, fuse
from memcli.search.keyword_index import CACHE, StoreIndex
from memcli.search.semantic import QueryVector, semantic_candidates
from memcli.search.tokenizer import tokenize
from memcli.store import index
from memcli.store import memories as rows
from memcli.store.memories import Filters

CANDIDATES_PER_CHANNEL = 400  # per channel; part of the fusion (memcli.search.fusion)
MODES = ("hybrid", "keyword", "semantic")
__all__ = ["QueryVector", "RecallRequest", "keyword_candidates", "recall", "semantic_candidates"]


@dataclass(frozen=True)
class RecallRequest:
    query: str
    limit: int = 10
    filters: Filters = field(default_factory=Filters)
    mode: str = "hybrid"
    min_score: float | None = None


class KeywordMatch(NamedTuple):
    """What the keyword channel knows of one memory."""

    bm25: float
    coverage: float  # share of the query's idf mass (idf+) the memory holds
    keyword: float  # the same, each term weighted by BM25's saturating tf part


def keyword_candidates(
    con: duckdb.DuckDBPyConnection,
    query: str,
    filters: Filters,
    limit: int,
    stored: index.Corpus | None = None,
    source: StoreIndex | None = None,
) -> dict[int, KeywordMatch]:
    """{seq: match} for the `limit` best BM25 matches passing `filters` (ties: the newer
    memory first), from one scan of the query terms' postings. `source` is where the index
    is read (by default the store, or the in-process copy when it holds); `stored` is
    source.corpus(filters) when the caller has it already."""
    tokens = tokenize(query)
    if not tokens:
        return {}
    source = source if source is not None else CACHE.reader(con)
    stored = stored if stored is not None else source.corpus(filters)
    doc_count = len(stored.seqs)
    if doc_count == 0:
        return {}
    counts = bm25.term_counts(tokens)
    # Grouped by term: every memory's score then sums its terms in the same order, however
    # the postings were read (the same scores to the last bit with or without the copy).
    posting_terms, posting_seqs, tfs = source.postings(list(counts))
    terms, term_of = np.unique(posting_terms, return_inverse=True)
    freqs = dict(
        zip(terms.tolist(), np.bincount(term_of, minlength=len(terms)).tolist(), strict=True)
    )
    average_idf = 0.0
    if bm25.needs_mean_idf(doc_count, freqs):
        average_idf = bm25.mean_idf(doc_count, source.doc_freqs())
    weights = bm25.query_weights(tokens, doc_count, freqs, average_idf)
    where = stored.positions(posting_seqs)
    keep = stored.passes[where]
    if not keep.any():
        return {}
    term_weight = np.array([weights[t] for t in terms.tolist()], dtype=np.float64)[term_of]
    avgdl = float(stored.doc_lens.sum()) / doc_count
    tf_part = bm25.term_scores(tfs, stored.doc_lens[where], avgdl)
    # Coverage: the share of the query's idf mass a memory contains (unknown terms count
    # with the idf of a term found nowhere, so a query of rare words is not "covered").
    idf = {t: bm25.positive_idf(doc_count, freqs.get(t, 0)) for t in counts}
    total_idf = sum(idf.values())
    term_idf = np.array([idf[t] for t in terms.tolist()], dtype=np.float64)[term_of]
    seqs, seq_of = np.unique(posting_seqs[keep], return_inverse=True)
    scores = np.bincount(seq_of, weights=(term_weight * tf_part)[keep], minlength=len(seqs))
    held = np.bincount(seq_of, weights=term_idf[keep], minlength=len(seqs)) / total_idf
    weighted = (
        np.bincount(seq_of, weights=(term_idf * tf_part)[keep], minlength=len(seqs)) / total_idf
    )
    best = np.lexsort((-seqs, -scores))[:limit]
    return {
        int(seq): KeywordMatch(float(score), float(cover), float(evidence))
        for seq, score, cover, evidence in zip(
            seqs[best], scores[best], held[best], weighted[best], strict=True
        )
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
    source = CACHE.reader(con)
    stored = source.corpus(request.filters)
    keyword: dict[int, KeywordMatch] = {}
    if request.mode != "semantic":
        keyword = keyword_candidates(con, request.query, request.filters, pool, stored, source)
    semantic: dict[int, float] = {}
    vectors: dict[int, np.ndarray] = {}
    if request.mode != "keyword" and query_vector is not None:
        allowed = stored.seqs[stored.passes]
        semantic = semantic_candidates(
            con, query_vector, request.filters, pool, set(keyword), allowed, vectors
        )
    query_terms = len(set(tokenize(request.query)))
    facts = source.facts(sorted(set(keyword) | set(semantic)))
    candidates: dict[int, Candidate] = {}
    for seq, (importance, reinforcements, pinned, touched, created) in facts.items():
        match = keyword.get(seq)
        candidates[seq] = Candidate(
            seq=seq,
            bm25=None if match is None else match.bm25,
            coverage=0.0 if match is None else match.coverage,
            keyword=0.0 if match is None else match.keyword,
            cosine=semantic.get(seq),
            retention=memory_retention(importance, reinforcements, pinned, touched, now),
            importance=importance,
            created=created.timestamp(),
        )
    ranked = fuse(
        list(candidates.values()),
        request.mode,
        params,
        query_terms,
        request.min_score,
        meaning=query_vector is not None,
    )
    chosen = ranked[:wanted]
    found = rows.get_by_seqs(con, [scored.seq for scored in chosen])  # only the hits' rows
    claims = [
        Claim(s.seq, s.score, found[s.seq].created_at, found[s.seq].text, vectors.get(s.seq))
        for s in chosen
    ]
    scores, stale = newer_first(claims)
    hits: list[Hit] = []
    for scored in chosen:
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
        newer = found[stale[scored.seq]].id if scored.seq in stale else None
        hits.append(Hit(found[scored.seq], scores[scored.seq], parts, newer))
    # Sorted on the exact scores (strong matches all score close to 1), rounded for display.
    hits.sort(key=lambda hit: (-hit.score, -hit.memory.seq))
    for hit in hits:
        hit.score = _round(hit.score)
    return hits


def _round(value: float) -> float:
    return 0.0 if math.isnan(value) else round(value, 6)
