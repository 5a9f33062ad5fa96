"""The semantic channel: brute-force cosine over every vector of the store.

A store of up to SMALL_ROWS vectors is read at once in float32: exact cosines. A larger one
is scanned through its int8 copy (memcli.search.quant): a quarter of the bytes, and cosines
within quant.error_bounds of the exact ones (about 5e-4 typically; the bound is about 0.01), so
two memories can swap places only when their cosines are that close. Exact rescoring of
the best rows was dropped: their float32 vectors lie scattered over the table, and fetching
even a few dozen of them reads most of the float32 column (as long as the int8 scan itself
in a cold process). The vectors read (float32 for a small store, int8 for a large one) are
kept in memory for the next recall of a long-lived process (the TUI) while the store's
vectors do not change."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import numpy as np

from memcli.search import quant
from memcli.store import index
from memcli.store import memories as rows
from memcli.store import meta as store_meta
from memcli.store.memories import Filters

SMALL_ROWS = 4096  # up to this many vectors, one exact pass in float32 (no int8 pass)
BATCH_ROWS = 4096  # int8 rows fetched per query: 1.5 MB, and about 4 MB of Python bytes objects
CAP_ABOVE_BYTES = 32 * 2**20  # cap DuckDB's buffers over more float32 vectors than this


@dataclass(frozen=True)
class QueryVector:
    """The embedded query and the model that made it."""

    model: str
    vector: np.ndarray


@dataclass(frozen=True)
class Cached:
    """Every vector of one model in one store, row i a chunk of memory seqs[i]: float32
    (a small store, exact) or int8 with a scale per row (a large one)."""

    seqs: np.ndarray  # int64
    matrix: np.ndarray  # float32 or int8, one row per vector
    scales: np.ndarray | None  # float32 for an int8 matrix

    def scores(self, x: np.ndarray) -> np.ndarray:
        if self.scales is None:
            return quant.dot_rows(self.matrix, x)
        return quant.approx_scores(self.matrix, self.scales, x)


class VectorCache:
    """The vectors of the store searched last, valid while its vectors_version holds.

    Kept from the second search of a store in this process on, so that a one-shot command
    (every CLI recall) never holds the whole matrix: it scans batch by batch instead. For
    one thread at a time, like the connections it is used with."""

    def __init__(self) -> None:
        self._key: tuple[str, str, int] | None = None
        self._version: str | None = None
        self._vectors: Cached | None = None
        self._searched: set[tuple[str, str, int]] = set()

    def get(self, key: tuple[str, str, int], version: str) -> Cached | None:
        if key == self._key and version == self._version:
            return self._vectors
        return None

    def wants(self, key: tuple[str, str, int]) -> bool:
        """Whether to keep what a scan of this store reads (it was searched before)."""
        wanted = key in self._searched
        self._searched.add(key)
        return wanted

    def put(self, key: tuple[str, str, int], version: str, vectors: Cached) -> None:
        self._key, self._version, self._vectors = key, version, vectors

    def clear(self) -> None:
        self._key = self._version = self._vectors = None
        self._searched.clear()


CACHE = VectorCache()


def semantic_candidates(
    con: duckdb.DuckDBPyConnection,
    query: QueryVector,
    filters: Filters,
    limit: int,
    also: set[int] | frozenset[int] = frozenset(),
    allowed: np.ndarray | None = None,
) -> dict[int, float]:
    """{seq: best cosine over the memory's chunks} for the `limit` closest memories passing
    `filters`, plus the cosine of every memory in `also` (the keyword candidates) that
    passes them and has a vector. Exact in a store of up to SMALL_ROWS vectors; beyond,
    from the int8 copy (within quant.error_bounds of exact). `allowed` is the seqs passing
    the filters when the caller has them already."""
    x = np.asarray(query.vector, dtype=np.float32)
    if allowed is None:
        allowed = rows.matching_seqs(con, filters)
    if not len(allowed):
        return {}
    try:
        return _search(con, query.model, x, allowed, limit, also, bounded=True)
    except duckdb.OutOfMemoryException:  # the buffer cap was too small for a query
        return _search(con, query.model, x, allowed, limit, also, bounded=False)


def _search(
    con: duckdb.DuckDBPyConnection,
    model: str,
    x: np.ndarray,
    allowed: np.ndarray,
    limit: int,
    also: set[int] | frozenset[int],
    bounded: bool,
) -> dict[int, float]:
    """semantic_candidates over the memories in `allowed`."""
    path = index.database_path(con)
    version = store_meta.vectors_version(con) if path is not None else None
    key = (path or "", model, len(x))
    cached = CACHE.get(key, version) if version is not None else None
    if cached is not None:
        keep = _isin(cached.seqs, allowed)
        return _best(cached.seqs[keep], cached.scores(x)[keep], limit, also)
    keeping = version is not None and CACHE.wants(key)
    extent = index.vector_extent(con, model)
    if extent.rows <= SMALL_ROWS:  # few enough to read in float32: exact
        found, matrix = index.exact_vectors(con, model, len(x))
        if keeping and version is not None:
            CACHE.put(key, version, Cached(found, matrix, None))
        keep = _isin(found, allowed)
        return _best(found[keep], quant.dot_rows(matrix[keep], x), limit, also)
    capped = bounded and extent.rows * len(x) * 4 > CAP_ABOVE_BYTES
    seqs, approx, kept = _int8_pass(con, model, x, extent, capped, keeping)
    if kept is not None and version is not None:
        CACHE.put(key, version, kept)
    keep = _isin(seqs, allowed)
    return _best(seqs[keep], approx[keep], limit, also)


def _best(
    seqs: np.ndarray, cosines: np.ndarray, limit: int, also: set[int] | frozenset[int]
) -> dict[int, float]:
    """The `limit` best memories and those in `also`, from per-row cosines (rows by seq)."""
    best = quant.best_per_seq(seqs, cosines, limit)
    best.update(quant.best_of(seqs, cosines, np.fromiter(also, dtype=np.int64, count=len(also))))
    return best


def _int8_pass(
    con: duckdb.DuckDBPyConnection,
    model: str,
    x: np.ndarray,
    extent: index.Extent,
    capped: bool,
    keeping: bool,
) -> tuple[np.ndarray, np.ndarray, Cached | None]:
    """(seq, approximate cosine) of every vector of `model` with x's dimension, and the
    int8 vectors themselves when `keeping`."""
    seqs, approx, scales, kept = [], [], [], []
    with index.bounded_buffers(con, enabled=capped):
        for batch_seqs, q, batch_scales in _batches(con, model, len(x), extent):
            seqs.append(batch_seqs)
            scales.append(batch_scales)
            approx.append(quant.approx_scores(q, batch_scales, x))
            if keeping:
                kept.append(q)
    all_seqs = np.concatenate(seqs) if seqs else np.zeros(0, dtype=np.int64)
    all_approx = np.concatenate(approx) if approx else np.zeros(0, dtype=np.float32)
    if not keeping:
        return all_seqs, all_approx, None
    matrix = np.concatenate(kept) if kept else np.zeros((0, len(x)), dtype=np.int8)
    all_scales = np.concatenate(scales) if scales else np.zeros(0, dtype=np.float32)
    return all_seqs, all_approx, Cached(all_seqs, matrix, all_scales)


def _batches(
    con: duckdb.DuckDBPyConnection, model: str, dim: int, extent: index.Extent
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The int8 vectors in about BATCH_ROWS rows at a time, by ranges of seq."""
    low, high, count = extent.low, extent.high, extent.rows
    if not count:
        return
    width = -(-(high - low + 1) * BATCH_ROWS // count)  # seqs per batch, rounded up
    for start in range(low, high + 1, width):
        yield index.quantised_vectors(con, model, dim, start, start + width, extent.alone)


def _isin(values: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """np.isin for positive ids, through a lookup table when the ids are dense enough."""
    if not len(values) or not len(allowed):
        return np.zeros(len(values), dtype=bool)
    top = int(max(values.max(), allowed.max()))
    if min(int(values.min()), int(allowed.min())) < 0 or top > 8 * (len(values) + len(allowed)):
        return np.isin(values, allowed)
    table = np.zeros(top + 1, dtype=bool)
    table[allowed] = True
    found: np.ndarray = table[values]
    return found
