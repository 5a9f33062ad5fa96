"""Finding similar memories without comparing all pairs: what changed since the last run is
compared with the whole store, a block of rows at a time (pure numpy)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

BLOCK_ROWS = 128  # 128 x 100,000 cosines = 50 MB of float32 at a time
NEIGHBOURS = 8  # closest memories examined per changed memory


def memory_vectors(row_seqs: np.ndarray, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One unit vector per memory (the normalised mean of its chunks); rows sorted by seq.

    Most memories have one chunk, already a unit vector: those rows are used as they are,
    without copying the matrix when it comes sorted (as the store returns it)."""
    if not len(row_seqs):
        return np.zeros(0, dtype=np.int64), np.zeros((0, matrix.shape[1]), dtype=np.float32)
    if np.any(row_seqs[1:] < row_seqs[:-1]):
        order = np.argsort(row_seqs, kind="stable")
        row_seqs, matrix = row_seqs[order], matrix[order]
    seqs, starts = np.unique(row_seqs, return_index=True)
    matrix = np.asarray(matrix, dtype=np.float32)
    if len(seqs) != len(row_seqs):
        matrix = np.add.reduceat(matrix, starts, axis=0)
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))  # no matrix-sized temporary
    off = np.abs(norms - 1.0) > 1e-4  # chunk means, or a model that does not normalise
    if off.any():
        matrix = matrix.copy() if len(seqs) == len(row_seqs) else matrix
        matrix[off] /= np.maximum(norms[off], 1e-12)[:, None]
    return seqs, matrix


def similar_pairs(
    changed: np.ndarray,
    seqs: np.ndarray,
    vectors: np.ndarray,
    threshold: float,
    progress: Callable[[int, int], None] | None = None,
) -> list[tuple[int, int, float]]:
    """(seq, seq, cosine) for every changed memory and each of its NEIGHBOURS nearest other
    memories at or above `threshold`; each pair once, the lower seq first.

    `seqs`/`vectors` are every comparable memory (unit vectors, from memory_vectors);
    `changed` the seqs to compare against them."""
    rows = np.flatnonzero(np.isin(seqs, changed))
    # When everything changed (a store's first run), each pair is met from its first row:
    # a block is compared with itself and the rows after it only, half the work.
    forward = len(rows) == len(seqs)
    found: dict[tuple[int, int], float] = {}
    for start in range(0, len(rows), BLOCK_ROWS):
        block = rows[start : start + BLOCK_ROWS]
        first = int(block[0]) if forward else 0
        scores = vectors[block] @ vectors[first:].T
        scores[np.arange(len(block)), block - first] = -1.0  # not its own neighbour
        if forward:
            scores[np.tril_indices(len(block), -1)] = -1.0  # met from the earlier row
        # Each row's best few, then those at or above the threshold: a low threshold (the
        # lexical rules look at pairs whose vectors barely agree) costs no more than a high one.
        few = min(NEIGHBOURS, scores.shape[1])
        best = np.argpartition(-scores, few - 1, axis=1)[:, :few]
        best_scores = np.take_along_axis(scores, best, axis=1)
        hit_rows, hit_at = np.nonzero(best_scores >= threshold)
        for i, j, cosine in zip(
            hit_rows.tolist(),
            (best[hit_rows, hit_at] + first).tolist(),
            best_scores[hit_rows, hit_at].tolist(),
            strict=True,
        ):
            a, b = sorted((int(seqs[block[i]]), int(seqs[j])))
            found[(a, b)] = max(float(cosine), found.get((a, b), -1.0))
        if progress is not None:
            progress(min(start + BLOCK_ROWS, len(rows)), len(rows))
    return [(a, b, cosine) for (a, b), cosine in sorted(found.items())]
