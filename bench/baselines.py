"""The systems memcli is measured against, on the same data in the same run.

- rank-bm25: `rank_bm25.BM25Okapi` (k1 1.5, b 0.75) rebuilt over the corpus, with memcli's
  own tokenizer (memcli.search.tokenizer.tokenize) or with a plain `text.lower().split()`.
  Memories scoring 0 are not returned.
- vectors: brute-force cosine in numpy over the same model's embeddings, made by fastembed
  directly (no memcli code: no chunking, fastembed's own truncation).
- grep: the query's words (lowercased runs of letters and digits, minus the short list of
  question and function words below, as a person would pick what to grep for) found as
  case-insensitive substrings; a memory scores the number of distinct words it contains, and
  memories containing none are not returned.
All rank ties go to the newer memory (later in the corpus), as memcli breaks its ties.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

_GREP_SKIP_TEXT = """
    a an the and or but of to in on at by for with from as is are was were be been do does
    did has have had what which who whom whose when where why how this that these those it
    its i you he she we they me him her us them my your his our their there any some"""
GREP_SKIP = frozenset(_GREP_SKIP_TEXT.split())


def ranked(scores: np.ndarray, k: int, positive_only: bool) -> list[int]:
    """Indices of the k best scores, best first, ties to the higher index (the newer)."""
    candidates = np.flatnonzero(scores > 0) if positive_only else np.arange(len(scores))
    if not len(candidates):
        return []
    order = np.lexsort((-candidates, -scores[candidates]))
    return [int(i) for i in candidates[order[:k]]]


def plain_split(text: str) -> list[str]:
    return text.lower().split()


class BM25:
    def __init__(self, texts: Sequence[str], tokenize: Callable[[str], list[str]]) -> None:
        from rank_bm25 import BM25Okapi

        self._tokenize = tokenize
        # rank_bm25 divides by the average length: an empty corpus or document breaks it.
        self._bm25 = BM25Okapi([tokenize(t) or ["\x00"] for t in texts])

    def scores(self, query: str) -> np.ndarray:
        return np.asarray(self._bm25.get_scores(self._tokenize(query)), dtype=np.float64)

    def search(self, query: str, k: int) -> list[int]:
        return ranked(self.scores(query), k, True)


class Vectors:
    def __init__(self, matrix: np.ndarray) -> None:
        self._matrix = np.asarray(matrix, dtype=np.float32)

    def scores(self, query_vector: np.ndarray) -> np.ndarray:
        return np.asarray(self._matrix @ np.asarray(query_vector, dtype=np.float32), np.float64)

    def search(self, query_vector: np.ndarray, k: int) -> list[int]:
        return ranked(self.scores(query_vector), k, False)


class Grep:
    def __init__(self, texts: Sequence[str]) -> None:
        self._texts = [t.casefold() for t in texts]

    @staticmethod
    def words(query: str) -> list[str]:
        found = re.findall(r"[^\W_]+", query.casefold())
        return list(dict.fromkeys(w for w in found if w not in GREP_SKIP))

    def scores(self, query: str) -> np.ndarray:
        words = self.words(query)
        return np.array([sum(w in t for w in words) for t in self._texts], dtype=np.float64)

    def search(self, query: str, k: int) -> list[int]:
        return ranked(self.scores(query), k, True)


def reciprocal_rank_fusion(runs: Sequence[np.ndarray], k: int, k_rrf: int = 60) -> np.ndarray:
    """RRF scores (Cormack et al. 2009) of every document over the top k of each run's
    scores: sum of 1 / (k_rrf + rank); documents a run does not rank get nothing from it."""
    fused = np.zeros(len(runs[0]))
    for scores in runs:
        for rank, i in enumerate(ranked(scores, k, False)):
            fused[i] += 1 / (k_rrf + rank + 1)
    return fused


_SEEN: dict[tuple[str, str], np.ndarray] = {}


def embeddings(model: Any, texts: Sequence[str], cache: Path, label: str) -> np.ndarray:
    """fastembed vectors of `texts` (one per text), cached under `cache` by content."""
    digest = hashlib.sha256(label.encode())
    for text in texts:
        digest.update(text.encode() + b"\x00")
    path = cache / f"embeddings-{digest.hexdigest()[:16]}.npy"
    if path.exists():
        return np.load(path)
    # Each distinct text once per process (LongMemEval's haystacks share most turns), in
    # length order so that a batch pads little. Batches of 16: fastembed pads a batch to its
    # longest text (up to 512 word pieces here), and its default of 256 abstracts takes over
    # 20 GB of attention buffers.
    missing = sorted({t for t in texts if (label, t) not in _SEEN}, key=len)
    vectors = model.embed(missing, batch_size=16)
    _SEEN.update(zip(((label, t) for t in missing), vectors, strict=True))
    matrix = np.array([_SEEN[label, t] for t in texts], dtype=np.float32)
    matrix = matrix.reshape(len(texts), -1)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, matrix)
    return matrix
