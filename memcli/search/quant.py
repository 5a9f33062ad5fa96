"""Int8 vectors for the semantic channel's first pass, and the bound that keeps it exact.

A vector v is stored as q = round(v / s * 127) with its own scale s = max |v|, so every
component of s * q / 127 is within s / 254 of v's, and its dot product with a query x is
within s / 254 * sum |x| of v . x (plus float32 rounding, covered by ROUNDING). Recall
scores every stored vector through q, then rescores with the float32 vectors every row
that this bound cannot rule out of the top: the cosines it returns are the exact ones.
"""

from __future__ import annotations

import numpy as np

LEVELS = 127
BLOCK_ROWS = 4096  # int8 rows converted to float32 at a time (6 MB at 384 dimensions)
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


def approx_scores(q: np.ndarray, scales: np.ndarray, x: np.ndarray) -> np.ndarray:
    """s * (q . x) / 127 for every row, converting a block of rows to float32 at a time."""
    count = len(q)
    out = np.empty(count, dtype=np.float32)
    if not count:
        return out
    buffer = np.empty((min(count, BLOCK_ROWS), q.shape[1]), dtype=np.float32)
    for start in range(0, count, BLOCK_ROWS):
        block = q[start : start + BLOCK_ROWS]
        converted = buffer[: len(block)]
        np.copyto(converted, block)
        np.matmul(converted, x, out=out[start : start + len(block)])
    out *= scales / np.float32(LEVELS)
    return out


def error_bounds(scales: np.ndarray, x: np.ndarray) -> np.ndarray:
    """For each row, how far its approximate score may be from its exact cosine."""
    l1 = float(np.abs(x).sum())
    per_unit = 1 / (2 * LEVELS) + len(x) * ROUNDING
    return (scales * np.float32(l1 * per_unit)).astype(np.float32)


def rows_to_rescore(
    seqs: np.ndarray, approx: np.ndarray, bounds: np.ndarray, limit: int, at_least: int
) -> np.ndarray:
    """Which rows to rescore exactly so that the `limit` memories with the best exact
    cosine (a memory's best over its rows) are sure to be among them: every row whose upper
    bound reaches the `limit`-th best lower bound of a memory, and the `at_least` rows with
    the best approximate scores. Returns a boolean mask over the rows."""
    count = len(approx)
    wanted = np.zeros(count, dtype=bool)
    if not count:
        return wanted
    top = min(at_least, count)
    wanted[np.argpartition(-approx, top - 1)[:top]] = True
    threshold = kth_best_distinct(seqs, approx - bounds, limit)
    wanted |= approx + bounds >= threshold
    return wanted


def kth_best_distinct(seqs: np.ndarray, values: np.ndarray, k: int) -> float:
    """The k-th largest of each seq's best value (-inf when there are fewer than k seqs)."""
    count = len(values)
    taken = min(count, 2 * k)
    while True:
        if taken >= count:
            order = np.argsort(-values, kind="stable")
        else:
            part = np.argpartition(-values, taken - 1)[:taken]
            order = part[np.argsort(-values[part], kind="stable")]
        _, first = np.unique(seqs[order], return_index=True)
        if len(first) >= k:
            return float(values[order[np.sort(first)[k - 1]]])
        if taken >= count:
            return float("-inf")
        taken *= 4


def best_per_seq(seqs: np.ndarray, cosines: np.ndarray, limit: int) -> dict[int, float]:
    """{seq: best cosine over its rows} for the `limit` seqs with the best cosines (ties:
    the earlier row first)."""
    order = np.argsort(-cosines, kind="stable")
    _, first = np.unique(seqs[order], return_index=True)
    chosen = order[np.sort(first)[:limit]]
    return dict(zip(seqs[chosen].tolist(), cosines[chosen].tolist(), strict=True))


def best_of(seqs: np.ndarray, cosines: np.ndarray, wanted: np.ndarray) -> dict[int, float]:
    """{seq: best cosine over its rows} for the seqs in `wanted`."""
    rows = np.isin(seqs, wanted)
    best: dict[int, float] = {}
    for seq, cosine in zip(seqs[rows].tolist(), cosines[rows].tolist(), strict=True):
        if cosine > best.get(seq, -2.0):
            best[seq] = cosine
    return best
