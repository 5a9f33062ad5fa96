"""Int8 vectors for the semantic channel of large stores, and how far they can be off.

A vector v is stored as q = round(v / s * 127) with its own scale s = max |v|, so every
component of s * q / 127 is within s / 254 of v's, and its dot product with a query x is
within s / 254 * sum |x| of v . x (plus float32 rounding, covered by ROUNDING). For a unit
vector of 384 dimensions that bound is about 0.01; the rounding errors of the components
mostly cancel, and the typical error is about 5e-4.
"""

from __future__ import annotations

import numpy as np

LEVELS = 127
# Rows multiplied by the query at a time. Small blocks keep OpenBLAS on one thread: over
# blocks of 4096 rows its threads wait for each other whenever the machine is busy (on the
# shared 2-core host: 550 ms instead of 30 ms for 100,000 int8 rows), and one thread is
# as fast when it is not (the work is bound by memory).
BLOCK_ROWS = 512
# Relative error of a float32 dot product of n terms is at most about n * 2**-24; twice
# that covers both the approximate and the exact computation.
ROUNDING = 2 * 2.0**-24


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int8 matrix, float32 scale per row) for a float32 matrix; a zero row has scale 0."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if not vectors.size:
        return np.zeros(vectors.shape, dtype=np.int8), np.zeros(len(vectors), dtype=np.float32)
    scales = np.abs(vectors).max(axis=1)
    safe = np.where(scales > 0, scales, np.float32(1))
    q = np.rint(vectors / safe[:, None] * LEVELS).astype(np.int8)
    return q, scales.astype(np.float32)


def dot_rows(matrix: np.ndarray, x: np.ndarray) -> np.ndarray:
    """matrix @ x in float32, BLOCK_ROWS rows at a time (int8 rows converted on the way)."""
    count = len(matrix)
    out = np.empty(count, dtype=np.float32)
    if not count:
        return out
    x = np.asarray(x, dtype=np.float32)
    buffer = np.empty((min(count, BLOCK_ROWS), matrix.shape[1]), dtype=np.float32)
    for start in range(0, count, BLOCK_ROWS):
        block = matrix[start : start + BLOCK_ROWS]
        if block.dtype != np.float32:
            np.copyto(buffer[: len(block)], block)
            block = buffer[: len(block)]
        np.matmul(block, x, out=out[start : start + len(block)])
    return out


def approx_scores(q: np.ndarray, scales: np.ndarray, x: np.ndarray) -> np.ndarray:
    """s * (q . x) / 127 for every row of an int8 matrix."""
    out = dot_rows(q, x)
    out *= scales / np.float32(LEVELS)
    return out


def error_bounds(scales: np.ndarray, x: np.ndarray) -> np.ndarray:
    """For each row, how far its approximate score may be from its exact cosine."""
    l1 = float(np.abs(x).sum())
    per_unit = 1 / (2 * LEVELS) + len(x) * ROUNDING
    return (scales * np.float32(l1 * per_unit)).astype(np.float32)


def dequantize(row: np.ndarray, scale: float) -> np.ndarray:
    """The float32 vector an int8 row stands for."""
    vector: np.ndarray = row.astype(np.float32) * np.float32(scale / LEVELS)
    return vector


def best_per_seq(seqs: np.ndarray, cosines: np.ndarray, limit: int) -> dict[int, float]:
    """{seq: best cosine over its rows} for the `limit` seqs with the best cosines (ties:
    the earlier row first)."""
    chosen = best_rows_per_seq(seqs, cosines, limit)
    return dict(zip(seqs[chosen].tolist(), cosines[chosen].tolist(), strict=True))


def best_rows_per_seq(seqs: np.ndarray, cosines: np.ndarray, limit: int) -> np.ndarray:
    """The row number of the best row of each of the `limit` seqs with the best cosines
    (ties: the earlier row first). Sorts only the best rows, more of them while too few
    distinct seqs are among them (a memory has one row per chunk)."""
    count = len(cosines)
    if limit <= 0 or not count:
        return np.zeros(0, dtype=np.int64)
    taken = min(count, 2 * limit)
    while True:
        if taken >= count:
            order = np.argsort(-cosines, kind="stable")
        else:
            part = np.sort(np.argpartition(-cosines, taken - 1)[:taken])
            order = part[np.argsort(-cosines[part], kind="stable")]
        _, first = np.unique(seqs[order], return_index=True)
        if len(first) >= limit or taken >= count:
            break
        taken *= 4
    chosen: np.ndarray = order[np.sort(first)[:limit]]
    return chosen


def best_of(seqs: np.ndarray, cosines: np.ndarray, wanted: np.ndarray) -> dict[int, float]:
    """{seq: best cosine over its rows} for the seqs in `wanted`."""
    rows = np.isin(seqs, wanted)
    best: dict[int, float] = {}
    for seq, cosine in zip(seqs[rows].tolist(), cosines[rows].tolist(), strict=True):
        if cosine > best.get(seq, -2.0):
            best[seq] = cosine
    return best
