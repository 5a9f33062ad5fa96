"""What-if: the ranking cost of an approximate semantic channel, on SciFact.

memcli's semantic channel scans every vector (SPEC §3: exact, brute-force cosine search), and
at 100,000 memories that scan is most of what a cold recall spends over its floor. The lever
left is an inverted-file index: the vectors grouped in k-means clusters, a query reading only
the clusters nearest to it. This script measures what that would cost in ranking before
anything is built: memcli's own recall (recall_memories, as in dev_eval.py) with its semantic
channel replaced by a probe of the nearest clusters covering a share of the rows. A keyword
candidate outside them gets no cosine, except the best N of them (--keyword-exact), whose
cosines an index would have to fetch from their rows. The exact channel is the reference,
measured in the same run. Nothing here changes memcli.

    python bench/ann_probe.py
    python bench/ann_probe.py --clusters 64 128 --shares 0.1 0.2 --keyword-exact 0 100 all
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import data  # noqa: E402
from common import add_common_args, md_table, memcli_context  # noqa: E402

ALL = -1  # --keyword-exact all: every keyword candidate gets its cosine


def spherical_kmeans(
    vectors: np.ndarray, clusters: int, iterations: int = 12, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(unit centroids, cluster of each row) for unit row vectors; deterministic."""
    clusters = max(1, min(clusters, len(vectors)))
    rng = np.random.default_rng(seed)
    centroids = vectors[rng.choice(len(vectors), clusters, replace=False)].copy()
    for _ in range(iterations):
        assign = np.argmax(vectors @ centroids.T, axis=1)
        for c in range(clusters):
            members = vectors[assign == c]
            if len(members):
                total = members.sum(axis=0)
                centroids[c] = total / max(float(np.linalg.norm(total)), 1e-12)
    return centroids, np.argmax(vectors @ centroids.T, axis=1)


@dataclass
class Probe:
    """An inverted-file semantic channel over every vector of one store, held in memory."""

    seqs: np.ndarray
    vectors: np.ndarray  # float32, one unit row per chunk
    centroids: np.ndarray
    assign: np.ndarray
    share: float  # of the rows to read, the nearest clusters first
    keyword_exact: int  # keyword candidates (best first) given their cosine; ALL: every one

    def __post_init__(self) -> None:
        self.keyword_order: list[int] = []
        self.overlaps: list[float] = []

    def rows(self, x: np.ndarray) -> np.ndarray:
        """Which rows the probe reads for query x."""
        order = np.argsort(-(self.centroids @ x), kind="stable")
        sizes = np.bincount(self.assign, minlength=len(self.centroids))[order]
        taken = int(np.searchsorted(np.cumsum(sizes), self.share * len(self.seqs))) + 1
        probed = np.zeros(len(self.centroids), dtype=bool)
        probed[order[:taken]] = True
        read: np.ndarray = probed[self.assign]
        return read

    def semantic(
        self,
        con: Any,
        query: Any,
        filters: Any,
        limit: int,
        also: set[int] | frozenset[int] = frozenset(),
        allowed: np.ndarray | None = None,
        vectors: dict[int, np.ndarray] | None = None,
    ) -> dict[int, float]:
        """memcli.search.semantic.semantic_candidates, from the probed rows only."""
        from memcli.search import quant
        from memcli.search.semantic import Found, _isin
        from memcli.store import memories as rows

        x = np.asarray(query.vector, dtype=np.float32)
        if allowed is None:
            allowed = rows.matching_seqs(con, filters)
        passing = _isin(self.seqs, allowed)
        exact = self.vectors @ x
        read = np.flatnonzero(self.rows(x) & passing)
        found = Found(limit, also, vectors).best(
            self.seqs[read], exact[read], lambda r: list(self.vectors[read[r]])
        )
        wanted = (
            self.keyword_order
            if self.keyword_exact == ALL
            else self.keyword_order[: self.keyword_exact]
        )
        fetched = np.array([s for s in wanted if s in also], dtype=np.int64)
        for seq, cosine in quant.best_of(self.seqs[passing], exact[passing], fetched).items():
            found.setdefault(seq, cosine)
        reference = set(quant.best_per_seq(self.seqs[passing], exact[passing], limit))
        self.overlaps.append(len(reference & set(found)) / max(len(reference), 1))
        return found


@contextmanager
def probing(probe: Probe | None) -> Iterator[None]:
    """memcli's recall with its semantic channel replaced by `probe` (None: as it is)."""
    from memcli.search import recall

    if probe is None:
        yield
        return
    keyword, semantic = recall.keyword_candidates, recall.semantic_candidates

    def ranked_keyword(*args: Any, **kwargs: Any) -> dict[int, Any]:
        found = keyword(*args, **kwargs)
        probe.keyword_order = list(found)  # best first
        return found

    recall.keyword_candidates = ranked_keyword
    recall.semantic_candidates = probe.semantic
    try:
        yield
    finally:
        recall.keyword_candidates, recall.semantic_candidates = keyword, semantic


def run(
    db: Path, corpus: data.Corpus, model: str, dim: int, args: argparse.Namespace
) -> tuple[str, list[str]]:
    from memcli.search.recall import RecallRequest
    from memcli.service.reading import recall_memories
    from memcli.store import index

    ctx = memcli_context(db)
    with ctx.store(write=False) as store:
        seqs, vectors = index.exact_vectors(store.con, model, dim)
    vectors = np.array(vectors, dtype=np.float32)

    def ndcg(probe: Probe | None) -> float:
        values = []
        with probing(probe):
            for query in corpus.queries:
                request = RecallRequest(query.text, limit=10, mode="hybrid")
                hits = recall_memories(ctx, request, reinforce=False)
                values.append(data.ndcg_at([h.memory.id for h in hits], query.relevant))
        return sum(values) / len(values)

    reference = ndcg(None)
    table = [["exact (memcli)", "—", "100%", "all", f"{reference:.4f}", "—", "1.000"]]
    lines = [f"exact (memcli)                    nDCG@10 {reference:.4f}"]
    for clusters in args.clusters:
        centroids, assign = spherical_kmeans(vectors, clusters)
        for share in args.shares:
            for exact in args.keyword_exact:
                probe = Probe(seqs, vectors, centroids, assign, share, exact)
                value = ndcg(probe)
                overlap = float(np.mean(probe.overlaps)) if probe.overlaps else 1.0
                named = "all" if exact == ALL else str(exact)
                table.append(
                    [
                        "probe",
                        str(len(centroids)),
                        f"{share:.0%}",
                        named,
                        f"{value:.4f}",
                        f"{value - reference:+.4f}",
                        f"{overlap:.3f}",
                    ]
                )
                lines.append(
                    f"{len(centroids):>4} clusters, {share:>4.0%} rows, "
                    f"keyword cosines {named:>4}: nDCG@10 {value:.4f} ({value - reference:+.4f})"
                )
    body = (
        f"SciFact nDCG@10 of memcli's hybrid recall, {len(corpus.queries)} test queries, "
        f"{len(seqs):,} vectors ({len(corpus.ids):,} abstracts), with its semantic channel "
        "reading only the nearest clusters that cover the share of rows given (spherical "
        "k-means, 12 iterations, seed 0); the best N keyword candidates outside them get "
        "their exact cosine, the others none. Overlap: the share of the exact channel's "
        "candidates the probe also finds.\n\n"
        + md_table(
            [
                "semantic channel",
                "clusters",
                "rows read",
                "keyword candidates with a cosine",
                "nDCG@10",
                "vs exact",
                "overlap",
            ],
            table,
        )
    )
    return body, lines


def _count(value: str) -> int:
    """A --keyword-exact value: a count of candidates, or 'all'."""
    if value == "all":
        return ALL
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"expected a count or 'all', got {value!r}")
    return int(value)


def _share(value: str) -> float:
    """A --shares value: a share of the rows, in (0, 1]."""
    try:
        share = float(value)
    except ValueError:
        share = -1.0
    if not 0 < share <= 1:
        raise argparse.ArgumentTypeError(f"expected a share in (0, 1], got {value!r}")
    return share


def _positive(value: str) -> int:
    """A --clusters value: at least 1."""
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a count of at least 1, got {value!r}")
    return int(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scifact-dir", type=Path, default=data.SCIFACT_DIR, help="SciFact (BEIR)")
    parser.add_argument(
        "--clusters", type=_positive, nargs="+", default=[128], help="k-means clusters"
    )
    parser.add_argument(
        "--shares",
        type=_share,
        nargs="+",
        default=[0.1, 0.2, 0.3],
        help="share of the rows the probe reads, nearest clusters first (0 < share <= 1)",
    )
    parser.add_argument(
        "--keyword-exact",
        type=_count,
        nargs="+",
        default=[0, 25, 100, ALL],
        help="how many keyword candidates outside the probe (best first) get their exact "
        "cosine, or 'all'",
    )
    add_common_args(parser)
    args = parser.parse_args(argv)
    from common import record, setup

    bench = setup(args, __file__, argv)
    started = time.time()
    corpus = data.scifact(args.scifact_dir)
    db = data.store(bench.cache, corpus)
    body, lines = run(db, corpus, bench.model_name, bench.dim, args)
    print("\n".join(lines), file=sys.stderr)
    record(bench, "what-if: an approximate semantic channel (SciFact)", body, started)


if __name__ == "__main__":
    main()
