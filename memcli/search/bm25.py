"""BM25 (Okapi) arithmetic for the keyword channel, the same as rank_bm25.BM25Okapi(k1=K1, b=B).

The index itself is the `postings` table (term hash, memory, term frequency), kept up to date
in the same transaction as each add, edit and forget; these functions are the pure parts.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Mapping

import numpy as np

# Tuned on the development sets (memcli.search.fusion): rank_bm25's defaults are 1.5 and 0.75.
K1 = 1.2
B = 0.3
EPSILON = 0.25  # rank_bm25's floor for negative idfs, as a fraction of the mean idf


def term_hash(term: str) -> int:
    """A stable signed 64-bit id for a term (the store never keeps terms as text)."""
    digest = hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def term_counts(tokens: Iterable[str]) -> dict[int, int]:
    """Term frequencies of a document, keyed by term hash."""
    return {term_hash(t): n for t, n in Counter(tokens).items()}


def raw_idf(doc_count: int, doc_freq: int) -> float:
    """rank_bm25's idf before the epsilon floor: log((N - n + 0.5) / (n + 0.5))."""
    return math.log(doc_count - doc_freq + 0.5) - math.log(doc_freq + 0.5)


def positive_idf(doc_count: int, doc_freq: int) -> float:
    """Lucene's idf, log(1 + (N - n + 0.5) / (n + 0.5)): like raw_idf but never <= 0, so it
    can weigh how much of a query a memory covers even in a store of one or two notes."""
    return math.log1p((doc_count - doc_freq + 0.5) / (doc_freq + 0.5))


def mean_idf(doc_count: int, all_doc_freqs: np.ndarray) -> float:
    """Average raw idf over every indexed term (rank_bm25's `average_idf`)."""
    if not len(all_doc_freqs):
        return 0.0
    values = np.log(doc_count - all_doc_freqs + 0.5) - np.log(all_doc_freqs + 0.5)
    return float(values.mean())


def needs_mean_idf(doc_count: int, query_doc_freqs: Mapping[int, int]) -> bool:
    """True when some query term's idf is negative, so the corpus-wide mean is needed."""
    return any(raw_idf(doc_count, n) < 0 for n in query_doc_freqs.values())


def query_weights(
    query_tokens: Iterable[str],
    doc_count: int,
    doc_freqs: Mapping[int, int],
    average_idf: float = 0.0,
) -> dict[int, float]:
    """idf x (times the term occurs in the query), for terms present in the index.

    Terms in more than half of the documents have a negative raw idf; like rank_bm25 they
    get EPSILON x the average idf instead.
    """
    weights: dict[int, float] = {}
    for term, count in term_counts(query_tokens).items():
        n = doc_freqs.get(term, 0)
        if n == 0:
            continue
        idf = raw_idf(doc_count, n)
        if idf < 0:
            idf = EPSILON * average_idf
        weights[term] = idf * count
    return weights


def term_scores(
    tfs: np.ndarray, doc_lens: np.ndarray, avgdl: float, k1: float = K1, b: float = B
) -> np.ndarray:
    """The saturating term-frequency part of BM25 (multiplied by the idf weight), for
    postings with these term frequencies in memories of these lengths."""
    scores: np.ndarray = tfs * (k1 + 1) / (tfs + k1 * (1 - b + b * doc_lens / avgdl))
    return scores
