"""Offline tuning of the fusion formula on the development sets (LoCoMo, SciFact).

Caches, once per store, what memcli's two channels know about every (query, memory) pair:
the BM25 parts (each query term's weight, and the term frequency and length of every memory
holding it), the keyword coverage, the exact cosine (best chunk) and the memory's session
date and position, read from the memcli stores that bench/dev_eval.py builds. A fusion
variant is then a function of these arrays, so a sweep of hundreds of variants takes
seconds instead of a dev_eval run each. The default formula reproduces, on the cached
scores, the ranking `memcli recall` makes (checked by `--check`, which also runs the real
recall on a sample of queries); the published numbers still come from bench/dev_eval.py.

    python bench/tune.py                    # memcli's formula and its ablations
    python bench/tune.py --check 50         # also compare with the real recall on 50 queries
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import data  # noqa: E402
from common import Bench, add_common_args, md_table, memcli_context  # noqa: E402


@dataclass
class QueryScores:
    """One query's channel scores over every memory of its store (memory order = `ids`)."""

    terms: list[tuple[float, float, np.ndarray, np.ndarray]]  # (bm25 weight, positive idf,
    # memories holding the term, their term frequencies), one per distinct known term
    total_idf: float  # positive idf of all distinct query terms (unknown ones included)
    cosine: np.ndarray  # best chunk cosine per memory (nan without a vector)
    text: str = ""
    relevant: dict[str, int] = field(default_factory=dict)
    category: str = ""


@dataclass
class StoreScores:
    name: str
    ids: list[str]
    seqs: np.ndarray
    doc_len: np.ndarray
    session: np.ndarray  # created_at as an integer (memories of one LoCoMo session share it)
    queries: list[QueryScores]

    def bm25(self, q: QueryScores, k1: float | None = None, b: float | None = None) -> np.ndarray:
        """BM25 of every memory for q (memcli's k1 and b unless given)."""
        from memcli.search import bm25

        k1 = bm25.K1 if k1 is None else k1
        b = bm25.B if b is None else b
        out = np.zeros(len(self.ids))
        avgdl = self.doc_len.mean()
        for weight, _, docs, tf in q.terms:
            out[docs] += (
                weight * tf * (k1 + 1) / (tf + k1 * (1 - b + b * self.doc_len[docs] / avgdl))
            )
        return out

    def coverage(self, q: QueryScores) -> np.ndarray:
        out = np.zeros(len(self.ids))
        for _, idf, docs, _ in q.terms:
            out[docs] += idf
        return out / q.total_idf if q.total_idf else out


def cache_scores(bench: Bench, corpus: data.Corpus) -> StoreScores:
    """The channel scores of a corpus's store, computed once and pickled in the cache."""
    from memcli.search.tokenizer import TOKENIZER_VERSION

    db = data.store(bench.cache, corpus)
    path = bench.cache / f"tune3-{corpus.name}-v{TOKENIZER_VERSION}.pkl"
    if path.exists() and path.stat().st_mtime >= db.stat().st_mtime:
        with path.open("rb") as handle:
            fields, queries = pickle.load(handle)  # plain data: this module may be __main__
        return StoreScores(**fields, queries=[QueryScores(**q) for q in queries])
    scores = _compute(bench, db, corpus)
    with path.open("wb") as handle:
        plain = {k: v for k, v in vars(scores).items() if k != "queries"}
        pickle.dump((plain, [vars(q) for q in scores.queries]), handle)
    return scores


def _compute(bench: Bench, db: Path, corpus: data.Corpus) -> StoreScores:
    import duckdb

    from memcli.search import bm25, quant, semantic
    from memcli.search.tokenizer import tokenize
    from memcli.store import index

    ctx = memcli_context(db)
    embedder = ctx.embedder()
    assert embedder is not None, ctx.model_error
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT seq, id, doc_len, epoch(created_at) FROM memories ORDER BY seq"
        ).fetchall()
        seqs = np.array([r[0] for r in rows], dtype=np.int64)
        position = {int(s): i for i, s in enumerate(seqs)}
        doc_count, _ = index.corpus_stats(con)
        vec_seqs, matrix = index.exact_vectors(con, embedder.name, embedder.dim)
        extent = index.vector_extent(con, embedder.name)
        int8 = index.quantised_vectors(
            con, embedder.name, embedder.dim, extent.low, extent.high + 1, extent.alone
        )
        postings = con.execute("SELECT term, seq, tf FROM postings").fetchnumpy()
        all_freqs = index.all_doc_freqs(con)
    finally:
        con.close()
    by_term: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    order = np.argsort(postings["term"], kind="stable")
    terms, starts = np.unique(postings["term"][order], return_index=True)
    ends = np.append(starts[1:], len(order))
    for term, start, end in zip(terms.tolist(), starts, ends, strict=True):
        rows_of = order[start:end]
        docs = np.array([position[int(s)] for s in postings["seq"][rows_of]])
        by_term[term] = (docs, postings["tf"][rows_of].astype(np.float64))
    query_vectors = np.array([embedder.embed_query(q.text) for q in corpus.queries])
    if len(vec_seqs) <= semantic.SMALL_ROWS:
        cosines = matrix @ query_vectors.T
    else:  # what memcli computes for a large store: scores from the int8 copy
        vec_seqs, q8, scales = int8
        cosines = np.array([quant.approx_scores(q8, scales, x) for x in query_vectors]).T
    vec_rows = np.array([position[int(s)] for s in vec_seqs])
    mean_idf = bm25.mean_idf(doc_count, all_freqs)
    out = []
    for i, query in enumerate(corpus.queries):
        counts = bm25.term_counts(tokenize(query.text))
        freqs = {t: len(by_term[t][0]) for t in counts if t in by_term}
        weights = bm25.query_weights(tokenize(query.text), doc_count, freqs, mean_idf)
        known = [(weights[t], bm25.positive_idf(doc_count, freqs[t]), *by_term[t]) for t in weights]
        total = sum(bm25.positive_idf(doc_count, freqs.get(t, 0)) for t in counts)
        best = np.full(len(seqs), np.nan)
        np.fmax.at(best, vec_rows, cosines[:, i])
        out.append(QueryScores(known, total, best, query.text, query.relevant, query.category))
    return StoreScores(
        corpus.name,
        [r[1] for r in rows],
        seqs,
        np.array([r[2] for r in rows], dtype=np.float64),
        np.array([r[3] for r in rows], dtype=np.float64),
        out,
    )


# --- fusion variants ------------------------------------------------------------------------

Fusion = Callable[[StoreScores, QueryScores, int], list[int]]


def memcli_default(
    params: Any = None, k1: float | None = None, b: float | None = None, per_channel: int = 0
) -> Fusion:
    """memcli's own fuse() on the cached channel scores, with recall's candidate pools
    (FusionParams, BM25's k1 and b, and the candidates per channel as memcli has them
    unless given)."""
    from memcli.search.fusion import DEFAULT_PARAMS, Candidate, fuse
    from memcli.search.recall import CANDIDATES_PER_CHANNEL
    from memcli.search.tokenizer import tokenize

    chosen = params or DEFAULT_PARAMS
    per_channel = per_channel or CANDIDATES_PER_CHANNEL

    def run(store: StoreScores, q: QueryScores, k: int) -> list[int]:
        keyword = store.bm25(q, k1, b)
        coverage = store.coverage(q)
        pool = max(per_channel, 2 * k)
        # ties as recall's SQL breaks them: the higher seq first
        kw = [i for i in np.lexsort((-store.seqs, -keyword))[:pool] if keyword[i] > 0]
        cos = np.nan_to_num(q.cosine, nan=-np.inf)
        sem = [i for i in np.argsort(-cos, kind="stable")[:pool] if np.isfinite(cos[i])]
        in_kw = set(kw)
        candidates = [
            Candidate(
                seq=int(store.seqs[i]),
                bm25=float(keyword[i]) if i in in_kw else None,
                coverage=float(coverage[i]) if i in in_kw else 0.0,
                cosine=None if np.isnan(q.cosine[i]) else float(q.cosine[i]),
                created=float(store.session[i]),
            )
            for i in sorted(set(kw) | set(sem))
        ]
        index_of = {int(s): i for i, s in enumerate(store.seqs)}
        terms = len(set(tokenize(q.text)))
        return [index_of[s.seq] for s in fuse(candidates, "hybrid", chosen, terms)[:k]]

    return run


def reciprocal_rank(k_rrf: int = 60) -> Fusion:
    """Reciprocal-rank fusion (Cormack et al. 2009) of the same candidates, behind memcli's
    query gate and hit floor, without context: 1/(k + keyword rank) + 1/(k + cosine rank)."""
    from memcli.search.fusion import DEFAULT_PARAMS, Candidate, has_evidence, passes_gate
    from memcli.search.recall import CANDIDATES_PER_CHANNEL

    p = DEFAULT_PARAMS

    def run(store: StoreScores, q: QueryScores, k: int) -> list[int]:
        keyword, coverage = store.bm25(q), store.coverage(q)
        pool = max(CANDIDATES_PER_CHANNEL, 2 * k)
        kw = [i for i in np.lexsort((-store.seqs, -keyword))[:pool] if keyword[i] > 0]
        cos = np.nan_to_num(q.cosine, nan=-np.inf)
        sem = [i for i in np.argsort(-cos, kind="stable")[:pool] if np.isfinite(cos[i])]
        found = {i: Candidate(seq=int(store.seqs[i]), cosine=float(cos[i])) for i in sem}
        for i in kw:
            found.setdefault(i, Candidate(seq=int(store.seqs[i])))
            found[i].bm25, found[i].coverage = float(keyword[i]), float(coverage[i])
            found[i].cosine = None if np.isnan(q.cosine[i]) else float(q.cosine[i])
        if not passes_gate(list(found.values()), "hybrid", p):
            return []
        score = dict.fromkeys(found, 0.0)
        for ranked in (kw, sorted(found, key=lambda i: -(found[i].cosine or -2.0))):
            for rank, i in enumerate(ranked):
                score[i] += 1 / (k_rrf + rank + 1)
        kept = [i for i in found if has_evidence(found[i], "hybrid", p.hit_cosine, p.hit_coverage)]
        return sorted(kept, key=lambda i: (-score[i], -store.seqs[i]))[:k]

    return run


def evaluate(stores: Sequence[StoreScores], fusion: Fusion, metric: str) -> dict[str, float]:
    """Mean LoCoMo recall per k (metric 'recall') or SciFact nDCG@10 (metric 'ndcg')."""
    totals: dict[str, list[float]] = {}
    for store in stores:
        for q in store.queries:
            k = 50 if metric == "recall" else 10
            got = [store.ids[i] for i in fusion(store, q, k)]
            if metric == "recall":
                for kk in data.LOCOMO_KS:
                    totals.setdefault(f"R@{kk}", []).append(data.recall_at(got, q.relevant, kk))
            else:
                totals.setdefault("nDCG@10", []).append(data.ndcg_at(got, q.relevant))
    return {key: sum(v) / len(v) for key, v in totals.items()}


def check(bench: Bench, corpora: list[data.Corpus], stores: list[StoreScores], count: int) -> int:
    """How many of `count` sampled queries rank differently offline than in memcli recall."""
    from memcli.search.recall import RecallRequest
    from memcli.service.reading import recall_memories

    fusion = memcli_default()
    differ = 0
    rng = np.random.default_rng(0)
    for _ in range(count):
        c = int(rng.integers(len(corpora)))
        qi = int(rng.integers(len(corpora[c].queries)))
        ctx = memcli_context(data.store(bench.cache, corpora[c]))
        request = RecallRequest(corpora[c].queries[qi].text, limit=10)
        real = [h.memory.id for h in recall_memories(ctx, request, reinforce=False)]
        offline = [stores[c].ids[i] for i in fusion(stores[c], stores[c].queries[qi], 10)]
        differ += real != offline
    return differ


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locomo-file", type=Path, default=data.LOCOMO_FILE)
    parser.add_argument("--scifact-dir", type=Path, default=data.SCIFACT_DIR)
    parser.add_argument("--conversations", type=int)
    parser.add_argument("--check", type=int, default=0, metavar="N")
    add_common_args(parser)
    args = parser.parse_args(argv)
    from common import record, setup

    bench = setup(args, __file__, argv)
    started = time.time()
    locomo = data.locomo(args.locomo_file, args.conversations)
    scifact = [data.scifact(args.scifact_dir)]
    sets = {
        "LoCoMo": ([cache_scores(bench, c) for c in locomo], "recall", locomo),
        "SciFact": ([cache_scores(bench, c) for c in scifact], "ndcg", scifact),
    }
    head = ["formula", *(f"LoCoMo R@{k}" for k in data.LOCOMO_KS), "SciFact nDCG@10"]
    rows = []
    for name, fusion in variants().items():
        locomo_result = evaluate(sets["LoCoMo"][0], fusion, "recall")
        scifact_result = evaluate(sets["SciFact"][0], fusion, "ndcg")
        rows.append(
            [
                name,
                *(f"{100 * locomo_result[f'R@{k}']:.1f}" for k in data.LOCOMO_KS),
                f"{scifact_result['nDCG@10']:.4f}",
            ]
        )
        print(" | ".join(rows[-1]), file=sys.stderr)
    body = "Ablations of the fusion formula on the cached channel scores.\n\n" + md_table(
        head, rows
    )
    if args.check:
        differ = [
            f"{name} {check(bench, corpora, stores, args.check)}/{args.check}"
            for name, (stores, _, corpora) in sets.items()
        ]
        body += (
            "\n\nQueries (sampled) whose top 10 offline differs from memcli recall's: "
            + ", ".join(differ)
            + "."
        )
    record(bench, "fusion ablations, offline (bench/tune.py)", body, started)


def variants() -> dict[str, Fusion]:
    """memcli's formula, each of its changes since hybrid-v1 taken out, the sitting term
    (off in memcli), hybrid-v2, hybrid-v1, and RRF."""
    from dataclasses import replace

    from memcli.search.fusion import DEFAULT_PARAMS, FUSION_VERSION

    v1 = replace(DEFAULT_PARAMS, alpha_min=0.3, alpha_max=0.3, context_weight=0.0)
    return {
        f"{FUSION_VERSION} (memcli's)": memcli_default(),
        "without context": memcli_default(replace(DEFAULT_PARAMS, context_weight=0.0)),
        "context from adjacent memories only": memcli_default(
            replace(DEFAULT_PARAMS, context_window=1)
        ),
        "alpha 0.4 for every query": memcli_default(
            replace(DEFAULT_PARAMS, alpha_min=0.4, alpha_max=0.4)
        ),
        "BM25 k1 1.5, b 0.75": memcli_default(k1=1.5, b=0.75),
        "with a sitting term of 0.25 (off in memcli)": memcli_default(
            replace(DEFAULT_PARAMS, sitting_weight=0.25)
        ),
        "hybrid-v2: 200 candidates per channel": memcli_default(per_channel=200),
        "hybrid-v1: alpha 0.3, no context, k1 1.5, b 0.75, 200 candidates": memcli_default(
            v1, 1.5, 0.75, 200
        ),
        "reciprocal-rank fusion, k 60, no context": reciprocal_rank(60),
    }


if __name__ == "__main__":
    main()
