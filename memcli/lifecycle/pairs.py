"""Finding similar memories without comparing all pairs: what changed since the last run is
compared with the whole store, a block of rows at a time (pure numpy)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

BLOCK_ROWS = 256  # 256 x 100,000 cosines = 100 MB of float32 at a time
NEIGHBOURS = 8  # closest memories examined per changed memory


def memory_vectors(row_seqs: np.ndarray, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One unit vector per memory (the normalised mean of its chunks); rows sorted by seq."""
    if not len(row_seqs):
        return np.zeros(0, dtype=np.int64), np.zeros((0, matrix.shape[1]), dtype=np.float32)
    order = np.argsort(row_seqs, kind="stable")
    seqs, starts = np.unique(row_seqs[order], return_index=True)
    sums = np.add.reduceat(matrix[order].astype(np.float32), starts, axis=0)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return seqs, (sums / np.maximum(norms, 1e-12)).astype(np.float32)


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
    found: dict[tuple[int, int], float] = {}
    for start in range(0, len(rows), BLOCK_ROWS):
        block = rows[start : start + BLOCK_ROWS]
        scores = vectors[block] @ vectors.T
        scores[np.arange(len(block)), block] = -1.0  # a memory is not its own neighbour
        keep = min(NEIGHBOURS, scores.shape[1])
        nearest = np.argpartition(-scores, keep - 1, axis=1)[:, :keep]
        for i, row in enumerate(block.tolist()):
            for j in nearest[i].tolist():
                cosine = float(scores[i, j])
                if cosine >= threshold:
                    a, b = sorted((int(seqs[row]), int(seqs[j])))
                    found[(a, b)] = max(cosine, found.get((a, b), -1.0))
        if progress is not None:
            progress(min(start + BLOCK_ROWS, len(rows)), len(rows))
    return [(a, b, cosine) for (a, b), cosine in sorted(found.items())]
