"""Offline tuning of the fusion formula on the three development sets.

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
    path = db.with_name(f"tune3-{db.stem}-v{TOKENIZER_VERSION}.pkl")
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


def keyword_evidence(store: StoreScores, q: QueryScores) -> np.ndarray:
    """k(d) before the cap, as memcli.search.recall.keyword_candidates computes it."""
    from memcli.search import bm25

    out = np.zeros(len(store.ids))
    avgdl = store.doc_len.mean()
    for _, idf, docs, tf in q.terms:
        out[docs] += idf * bm25.term_scores(tf, store.doc_len[docs], avgdl)
    return out / q.total_idf if q.total_idf else out


def memcli_default(params: Any = None, per_channel: int = 0) -> Fusion:
    """memcli's own fuse() on the cached channel scores, with recall's candidate pools
    (FusionParams and the candidates per channel as memcli has them unless given). The
    newer-first check of the top hits (memcli.search.conflicts) needs the texts and vectors
    of the hits and is left out: it only reorders the first few."""
    from memcli.search.fusion import DEFAULT_PARAMS, Candidate, fuse
    from memcli.search.recall import CANDIDATES_PER_CHANNEL
    from memcli.search.tokenizer import tokenize

    chosen = params or DEFAULT_PARAMS
    per_channel = per_channel or CANDIDATES_PER_CHANNEL

    def run(store: StoreScores, q: QueryScores, k: int) -> list[int]:
        keyword, coverage, evidence = store.bm25(q), store.coverage(q), keyword_evidence(store, q)
        pool = max(per_channel, 2 * k)
        # every memory holding a query term, as recall's index scan finds them (BM25 may be
        # 0 for a term in half of them); ties as it breaks them: the higher seq first
        holding = np.flatnonzero(coverage > 0)
        kw = holding[np.lexsort((-store.seqs[holding], -keyword[holding]))][:pool].tolist()
        cos = np.nan_to_num(q.cosine, nan=-np.inf)
        sem = [i for i in np.argsort(-cos, kind="stable")[:pool] if np.isfinite(cos[i])]
        in_kw = set(kw)
        candidates = [
            Candidate(
                seq=int(store.seqs[i]),
                bm25=float(keyword[i]) if i in in_kw else None,
                coverage=float(coverage[i]) if i in in_kw else 0.0,
                keyword=float(evidence[i]) if i in in_kw else 0.0,
                cosine=None if np.isnan(q.cosine[i]) else float(q.cosine[i]),
                created=float(store.session[i]),
            )
            for i in sorted(set(kw) | set(sem))
        ]
        index_of = {int(s): i for i, s in enumerate(store.seqs)}
        terms = len(set(tokenize(q.text)))
        return [index_of[s.seq] for s in fuse(candidates, "hybrid", chosen, terms)[:k]]

    return run


def hybrid_v3() -> Fusion:
    """The formula before hybrid-v4, for comparison: over the same pools, BM25 divided by
    the best candidate's and the min-max normalised cosine, alpha 0.3 + 0.02 per term
    within 0.35..0.55, half the best neighbour's fused score as context (neighbours: two
    seqs apart at most, within 30 minutes, in a sitting of at most 100), a gate (some
    candidate with cosine >= 0.30 or half the query's idf mass), a hit floor (cosine >=
    0.10 or a fifth of the idf mass) and a fifth of the best as the tail's floor."""
    from memcli.search.recall import CANDIDATES_PER_CHANNEL
    from memcli.search.tokenizer import tokenize

    def run(store: StoreScores, q: QueryScores, k: int) -> list[int]:
        keyword, coverage = store.bm25(q), store.coverage(q)
        pool = max(CANDIDATES_PER_CHANNEL, 2 * k)
        kw = [i for i in np.lexsort((-store.seqs, -keyword))[:pool] if keyword[i] > 0]
        cos = np.nan_to_num(q.cosine, nan=-np.inf)
        sem = [i for i in np.argsort(-cos, kind="stable")[:pool] if np.isfinite(cos[i])]
        found = np.array(sorted(set(kw) | set(sem)), dtype=np.int64)
        if not len(found):
            return []
        c = np.where(np.isfinite(cos[found]), cos[found], np.nan)
        cover = np.where(np.isin(found, kw), coverage[found], 0.0)
        if not ((np.nan_to_num(c, nan=-1) >= 0.30) | (cover >= 0.5)).any():
            return []
        evidence = (np.nan_to_num(c, nan=-1) >= 0.10) | (cover >= 0.2)
        best_kw = max(float(keyword[kw].max()) if kw else 0.0, 0.0)
        norm_kw = np.where(np.isin(found, kw), keyword[found], 0.0)
        norm_kw = norm_kw / best_kw if best_kw > 0 else cover
        lo, hi = np.nanmin(c), np.nanmax(c)
        norm_cos = np.nan_to_num((c - lo) / (hi - lo) if hi > lo else np.ones_like(c), nan=0.0)
        alpha = min(0.55, max(0.35, 0.3 + 0.02 * len(set(tokenize(q.text)))))
        fused = np.where(evidence, alpha * norm_cos + (1 - alpha) * norm_kw, 0.0)
        position = {int(store.seqs[i]): j for j, i in enumerate(found)}
        created = store.session[found]
        # sittings: candidates chained within 1800 s; one of more than 100 gives no context
        order = np.argsort(created, kind="stable")
        sitting = np.cumsum(np.r_[0, np.diff(created[order]) > 1800])
        size = np.bincount(sitting)[sitting]
        small = np.zeros(len(found), dtype=bool)
        small[order] = size <= 100
        context = np.zeros(len(found))
        for j, i in enumerate(found):
            for d in (-2, -1, 1, 2):
                n = position.get(int(store.seqs[i]) + d)
                if (
                    n is not None
                    and small[j]
                    and small[n]
                    and evidence[j]
                    and evidence[n]
                    and abs(created[n] - created[j]) <= 1800
                ):
                    context[j] = max(context[j], 0.5 * fused[n])
        total = np.where(evidence, fused + context, -np.inf)
        keep = total >= 0.2 * total.max()
        order = np.lexsort((-store.seqs[found], -total))
        return [int(found[j]) for j in order if keep[j]][:k]

    return run


def reciprocal_rank(k_rrf: int = 60) -> Fusion:
    """Reciprocal-rank fusion (Cormack et al. 2009) of the same candidate pools, without
    context or floor: 1/(k + keyword rank) + 1/(k + cosine rank)."""
    from memcli.search.recall import CANDIDATES_PER_CHANNEL

    def run(store: StoreScores, q: QueryScores, k: int) -> list[int]:
        keyword = store.bm25(q)
        pool = max(CANDIDATES_PER_CHANNEL, 2 * k)
        kw = [i for i in np.lexsort((-store.seqs, -keyword))[:pool] if keyword[i] > 0]
        cos = np.nan_to_num(q.cosine, nan=-np.inf)
        sem = [i for i in np.argsort(-cos, kind="stable")[:pool] if np.isfinite(cos[i])]
        score: dict[int, float] = {}
        for ranked in (kw, sem):
            for rank, i in enumerate(ranked):
                score[int(i)] = score.get(int(i), 0.0) + 1 / (k_rrf + rank + 1)
        return sorted(score, key=lambda i: (-score[i], -store.seqs[i]))[:k]

    return run


METRICS = {"LoCoMo": "recall", "SciFact": "ndcg", "LongMemEval": "session"}


def evaluate(
    stores: Sequence[StoreScores], fusion: Fusion, metric: str, corpora: Sequence[data.Corpus]
) -> dict[str, float]:
    """Mean LoCoMo recall per k (metric 'recall'), SciFact nDCG@10 ('ndcg'), or
    LongMemEval's recall_all@5 and ndcg_any@10 over sessions ('session')."""
    totals: dict[str, list[float]] = {}
    for store, corpus in zip(stores, corpora, strict=True):
        for q, query in zip(store.queries, corpus.queries, strict=True):
            k = {"recall": 50, "ndcg": 10, "session": 50}[metric]
            got = [store.ids[i] for i in fusion(store, q, k)]
            if metric == "recall":
                for kk in data.LOCOMO_KS:
                    totals.setdefault(f"R@{kk}", []).append(data.recall_at(got, q.relevant, kk))
            elif metric == "ndcg":
                totals.setdefault("nDCG@10", []).append(data.ndcg_at(got, q.relevant))
            elif query.answerable and query.relevant:
                sessions = data.sessions_ranked(got, corpus.groups)
                totals.setdefault("recall_all@5", []).append(
                    data.recall_all_at(sessions, query.relevant, 5)
                )
                totals.setdefault("ndcg_any@10", []).append(
                    data.ndcg_at(sessions, query.relevant, 10)
                )
    return {key: sum(v) / len(v) for key, v in totals.items()}


def check(bench: Bench, corpora: list[data.Corpus], stores: list[StoreScores], count: int) -> int:
    """How many of `count` sampled queries rank differently offline than in memcli recall
    (memcli's order before its newer-first check, which the offline formula leaves out)."""
    from memcli.search.fusion import DEFAULT_PARAMS, calibrated
    from memcli.search.recall import RecallRequest
    from memcli.service.reading import recall_memories
    from memcli.timeparse import parse_iso_utc

    fusion = memcli_default()
    differ = 0
    rng = np.random.default_rng(0)
    for _ in range(count):
        c = int(rng.integers(len(corpora)))
        qi = int(rng.integers(len(corpora[c].queries)))
        query = corpora[c].queries[qi]
        ctx = memcli_context(data.store(bench.cache, corpora[c]))
        if query.asked_at is not None:
            asked = parse_iso_utc(query.asked_at)
            ctx.clock = lambda asked=asked: asked
        hits = recall_memories(ctx, RecallRequest(query.text, limit=10), reinforce=False)
        before = sorted(
            hits,
            key=lambda h: (
                -calibrated((h.parts.fused + h.parts.context) * h.parts.prior, DEFAULT_PARAMS),
                -h.memory.seq,
            ),
        )
        real = [h.memory.id for h in before]
        offline = [stores[c].ids[i] for i in fusion(stores[c], stores[c].queries[qi], 10)]
        differ += real != offline
    return differ


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locomo-file", type=Path, default=data.LOCOMO_FILE)
    parser.add_argument("--scifact-dir", type=Path, default=data.SCIFACT_DIR)
    parser.add_argument("--longmemeval-file", type=Path, default=data.LONGMEMEVAL_FILE)
    parser.add_argument("--conversations", type=int)
    parser.add_argument("--questions", type=int, help="only the first N LongMemEval questions")
    parser.add_argument("--check", type=int, default=0, metavar="N")
    add_common_args(parser)
    args = parser.parse_args(argv)
    from common import record, setup

    bench = setup(args, __file__, argv)
    started = time.time()
    corpora = {
        "LoCoMo": data.locomo(args.locomo_file, args.conversations),
        "SciFact": [data.scifact(args.scifact_dir)],
        "LongMemEval": data.longmemeval(args.longmemeval_file, args.questions),
    }
    stores = {name: [cache_scores(bench, c) for c in found] for name, found in corpora.items()}
    head = [
        "formula",
        *(f"LoCoMo R@{k}" for k in data.LOCOMO_KS[:2]),
        "SciFact nDCG@10",
        "LongMemEval recall_all@5",
        "LongMemEval ndcg_any@10",
    ]
    rows = []
    for name, fusion in variants().items():
        found = {
            set_name: evaluate(stores[set_name], fusion, metric, corpora[set_name])
            for set_name, metric in METRICS.items()
        }
        rows.append(
            [
                name,
                *(f"{100 * found['LoCoMo'][f'R@{k}']:.1f}" for k in data.LOCOMO_KS[:2]),
                f"{found['SciFact']['nDCG@10']:.4f}",
                f"{found['LongMemEval'].get('recall_all@5', float('nan')):.3f}",
                f"{found['LongMemEval'].get('ndcg_any@10', float('nan')):.3f}",
            ]
        )
        print(" | ".join(rows[-1]), file=sys.stderr)
    body = "Ablations of the fusion formula on the cached channel scores.\n\n" + md_table(
        head, rows
    )
    if args.check:
        differ = [
            f"{name} {check(bench, corpora[name], stores[name], args.check)}/{args.check}"
            for name in METRICS
        ]
        body += (
            "\n\nQueries (sampled) whose top 10 offline differs from memcli recall's: "
            + ", ".join(differ)
            + "."
        )
    record(bench, "fusion ablations, offline (bench/tune.py)", body, started)


def variants() -> dict[str, Fusion]:
    """memcli's formula, each of its parts taken out or changed, hybrid-v3 and RRF."""
    from dataclasses import replace

    from memcli.search.fusion import DEFAULT_PARAMS, FUSION_VERSION

    p = DEFAULT_PARAMS
    return {
        f"{FUSION_VERSION} (memcli's)": memcli_default(),
        "without the agreement term": memcli_default(replace(p, agreement=0.0)),
        "without context": memcli_default(replace(p, context_weight=0.0)),
        "alpha 0.5 for every query": memcli_default(replace(p, alpha_min=0.5, alpha_max=0.5)),
        "keyword evidence capped at 1": memcli_default(replace(p, keyword_cap=1.0)),
        "no relative floor": memcli_default(replace(p, relative_floor=0.0)),
        "200 candidates per channel": memcli_default(per_channel=200),
        "hybrid-v3 (min-max, relative BM25)": hybrid_v3(),
        "reciprocal-rank fusion, k 60": reciprocal_rank(60),
    }


if __name__ == "__main__":
    main()
