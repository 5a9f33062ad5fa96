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

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import duckdb
import numpy as np

from memcli.search import quant
from memcli.store import index
from memcli.store import memories as rows
from memcli.store import meta as store_meta
from memcli.store.memories import Filters

VECTOR_HITS = 20  # the closest memories whose vectors a search hands back (vectors=...)
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

    def vectors(self, rows: np.ndarray) -> list[np.ndarray | None]:
        if self.scales is None:
            return list(self.matrix[rows])
        return [quant.dequantize(self.matrix[r], float(self.scales[r])) for r in rows.tolist()]


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
    vectors: dict[int, np.ndarray] | None = None,
) -> dict[int, float]:
    """{seq: best cosine over the memory's chunks} for the `limit` closest memories passing
    `filters`, plus the cosine of every memory in `also` (the keyword candidates) that
    passes them and has a vector. Exact in a store of up to SMALL_ROWS vectors; beyond,
    from the int8 copy (within quant.error_bounds of exact). `allowed` is the seqs passing
    the filters when the caller has them already. `vectors`, when given, receives the
    vector of the best chunk of each of the VECTOR_HITS closest memories (from the int8 copy
    in a large store), for comparing hits with each other."""
    x = np.asarray(query.vector, dtype=np.float32)
    if allowed is None:
        allowed = rows.matching_seqs(con, filters)
    if not len(allowed):
        return {}
    found = Found(limit, also, vectors)
    try:
        return _search(con, query.model, x, allowed, found, bounded=True)
    except duckdb.OutOfMemoryException:  # the buffer cap was too small for a query
        return _search(con, query.model, x, allowed, found, bounded=False)


@dataclass
class Found:
    """What a search keeps: the `limit` best memories, the cosines of those in `also`, and
    (when `vectors` is a dict) the best chunk's vector of each of the best memories."""

    limit: int
    also: set[int] | frozenset[int]
    vectors: dict[int, np.ndarray] | None

    def best(
        self,
        seqs: np.ndarray,
        cosines: np.ndarray,
        rows: Callable[[np.ndarray], list[np.ndarray | None]],
    ) -> dict[int, float]:
        """From per-row cosines (rows by seq): the best memories, their vectors read with
        `rows(row numbers)`, and the cosines of `also`."""
        chosen = quant.best_rows_per_seq(seqs, cosines, self.limit)  # best first
        best = dict(zip(seqs[chosen].tolist(), cosines[chosen].tolist(), strict=True))
        if self.vectors is not None and len(chosen):
            closest = chosen[:VECTOR_HITS]
            for seq, vector in zip(seqs[closest].tolist(), rows(closest), strict=True):
                if vector is not None:
                    self.vectors[seq] = vector
        wanted = np.fromiter(self.also, dtype=np.int64, count=len(self.also))
        best.update(quant.best_of(seqs, cosines, wanted))
        return best


def _search(
    con: duckdb.DuckDBPyConnection,
    model: str,
    x: np.ndarray,
    allowed: np.ndarray,
    found: Found,
    bounded: bool,
) -> dict[int, float]:
    """semantic_candidates over the memories in `allowed`."""
    path = index.database_path(con)
    version = store_meta.vectors_version(con) if path is not None else None
    key = (path or "", model, len(x))
    cached = CACHE.get(key, version) if version is not None else None
    if cached is not None:
        keep = np.flatnonzero(_isin(cached.seqs, allowed))
        return found.best(
            cached.seqs[keep], cached.scores(x)[keep], lambda r: cached.vectors(keep[r])
        )
    keeping = version is not None and CACHE.wants(key)
    extent = index.vector_extent(con, model)
    if extent.rows <= SMALL_ROWS:  # few enough to read in float32: exact
        seqs, matrix = index.exact_vectors(con, model, len(x))
        if keeping and version is not None:
            CACHE.put(key, version, Cached(seqs, matrix, None))
        keep = np.flatnonzero(_isin(seqs, allowed))
        return found.best(
            seqs[keep], quant.dot_rows(matrix[keep], x), lambda r: list(matrix[keep[r]])
        )
    capped = bounded and extent.rows * len(x) * 4 > CAP_ABOVE_BYTES
    retain = VECTOR_HITS if found.vectors is not None else 0
    scan = _int8_pass(con, model, x, extent, capped, keeping, retain)
    if scan.kept is not None and version is not None:
        CACHE.put(key, version, scan.kept)
    keep = np.flatnonzero(_isin(scan.seqs, allowed))
    return found.best(scan.seqs[keep], scan.approx[keep], lambda r: scan.vectors(keep[r]))


@dataclass
class Scan:
    """One pass over the int8 vectors: (seq, approximate cosine) per row, the whole copy
    when it is kept, and the rows retained for their vectors (the best of each batch)."""

    seqs: np.ndarray
    approx: np.ndarray
    kept: Cached | None
    retained: dict[int, tuple[np.ndarray, float]]  # row number -> (int8 row, its scale)

    def vectors(self, rows: np.ndarray) -> list[np.ndarray | None]:
        found = (self.retained.get(row) for row in rows.tolist())
        return [None if kept is None else quant.dequantize(*kept) for kept in found]


def _int8_pass(
    con: duckdb.DuckDBPyConnection,
    model: str,
    x: np.ndarray,
    extent: index.Extent,
    capped: bool,
    keeping: bool,
    retain: int = 0,
) -> Scan:
    """Every int8 vector of `model` with x's dimension scored against x; the vectors
    themselves when `keeping`, and the `retain` best rows of each batch (every row among
    the `retain` best of the whole store is among them)."""
    seqs, approx, scales, kept = [], [], [], []
    retained: dict[int, tuple[np.ndarray, float]] = {}
    start = 0
    with index.bounded_buffers(con, enabled=capped):
        for batch_seqs, q, batch_scales in _batches(con, model, len(x), extent):
            scores = quant.approx_scores(q, batch_scales, x)
            seqs.append(batch_seqs)
            scales.append(batch_scales)
            approx.append(scores)
            if keeping:
                kept.append(q)
            if retain and len(scores):
                top = np.argpartition(-scores, min(retain, len(scores)) - 1)[:retain]
                for row in top.tolist():
                    retained[start + row] = (q[row].copy(), float(batch_scales[row]))
            start += len(batch_seqs)
    all_seqs = np.concatenate(seqs) if seqs else np.zeros(0, dtype=np.int64)
    all_approx = np.concatenate(approx) if approx else np.zeros(0, dtype=np.float32)
    cached = None
    if keeping:
        matrix = np.concatenate(kept) if kept else np.zeros((0, len(x)), dtype=np.int8)
        all_scales = np.concatenate(scales) if scales else np.zeros(0, dtype=np.float32)
        cached = Cached(all_seqs, matrix, all_scales)
    return Scan(all_seqs, all_approx, cached, retained)


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
