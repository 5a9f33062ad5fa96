"""Recall quality on the development sets, memcli next to the baselines, same data, same run.

memcli goes through its public code path: one memcli store per LoCoMo conversation and one
for SciFact, built with memcli's import (cached in --cache), searched with
memcli.service.reading.recall_memories (the function `memcli recall` calls; reinforce=False
so that the run does not change the stores) in its three modes. The baselines
(bench/baselines.py): rank-bm25 over memcli's tokenizer and over a plain lowercase split,
brute-force numpy cosine over fastembed's embeddings of the same model, and grep-like
substring matching.

    python bench/dev_eval.py                       # LoCoMo and SciFact
    python bench/dev_eval.py --locomo --conversations 2 --no-record
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import baselines  # noqa: E402
import data  # noqa: E402
from common import Bench, add_common_args, fastembed_model, md_table, memcli_context  # noqa: E402

MEMCLI_MODES = ("hybrid", "keyword", "semantic")
SYSTEMS = (
    "memcli hybrid",
    "memcli keyword",
    "memcli semantic",
    "rank-bm25, memcli tokenizer",
    "rank-bm25, lowercase split",
    "vectors, numpy + fastembed",
    "grep, substrings",
)
Ranker = Callable[[int, data.Query], list[str]]


def rankers(bench: Bench, corpus: data.Corpus, k: int) -> dict[str, Ranker]:
    """Every system's search over one corpus: (query number, query) -> memory ids, best first."""
    from memcli.search.recall import RecallRequest
    from memcli.search.tokenizer import tokenize
    from memcli.service.reading import recall_memories

    ctx = memcli_context(data.store(bench.cache, corpus))

    def memcli(mode: str) -> Ranker:
        def run(_: int, query: data.Query) -> list[str]:
            request = RecallRequest(query.text, limit=k, mode=mode)
            return [hit.memory.id for hit in recall_memories(ctx, request, reinforce=False)]

        return run

    model = fastembed_model(bench)
    label = f"{bench.model_name}:{bench.model_path}"
    doc_vectors = baselines.embeddings(model, corpus.texts, bench.cache, label)
    query_vectors = baselines.embeddings(
        model, [q.text for q in corpus.queries], bench.cache, label
    )
    vectors = baselines.Vectors(doc_vectors)
    searchers: dict[str, Callable[[int, data.Query], list[int]]] = {
        "rank-bm25, memcli tokenizer": _by_text(baselines.BM25(corpus.texts, tokenize), k),
        "rank-bm25, lowercase split": _by_text(
            baselines.BM25(corpus.texts, baselines.plain_split), k
        ),
        "vectors, numpy + fastembed": lambda i, _: vectors.search(query_vectors[i], k),
        "grep, substrings": _by_text(baselines.Grep(corpus.texts), k),
    }
    out: dict[str, Ranker] = {f"memcli {mode}": memcli(mode) for mode in MEMCLI_MODES}
    for name, search in searchers.items():
        out[name] = _ids(corpus.ids, search)
    return out


def _by_text(
    searcher: baselines.BM25 | baselines.Grep, k: int
) -> Callable[[int, data.Query], list[int]]:
    return lambda _, query: searcher.search(query.text, k)


def _ids(ids: Sequence[str], search: Callable[[int, data.Query], list[int]]) -> Ranker:
    return lambda i, query: [ids[j] for j in search(i, query)]


def run_locomo(bench: Bench, path: Path, conversations: int | None) -> tuple[str, list[str]]:
    """LoCoMo evidence recall per system: (Markdown body, one summary line per system)."""
    ks = data.LOCOMO_KS
    scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    seconds: dict[str, float] = defaultdict(float)
    corpora = data.locomo(path, conversations)
    for corpus in corpora:
        for name, rank in rankers(bench, corpus, max(ks)).items():
            started = time.perf_counter()
            for i, query in enumerate(corpus.queries):
                got = rank(i, query)
                for k in ks:
                    r = data.recall_at(got, query.relevant, k)
                    scores[name][f"all@{k}"].append(r)
                    scores[name][f"{query.category}@{k}"].append(r)
            seconds[name] += time.perf_counter() - started
    count = sum(len(c.queries) for c in corpora)

    def pct(name: str, key: str) -> str:
        values = scores[name].get(key, [])
        return f"{100 * sum(values) / len(values):.1f}" if values else "-"

    body = [
        f"LoCoMo turn-level evidence recall (%), {count} questions with evidence, "
        f"{len(corpora)} conversation(s). Time = all queries of the system, in this process.",
        "",
        md_table(
            ["system", *(f"R@{k}" for k in ks), "time (s)"],
            [[n, *(pct(n, f"all@{k}") for k in ks), f"{seconds[n]:.1f}"] for n in SYSTEMS],
        ),
    ]
    categories = sorted({q.category for c in corpora for q in c.queries})
    for k in ks:
        heads = [f"{c} {data.LOCOMO_CATEGORIES.get(c, '')} ({_n(corpora, c)})" for c in categories]
        body += ["", f"R@{k} per category (category, name, questions):", ""]
        body.append(
            md_table(
                ["system", *heads],
                [[n, *(pct(n, f"{c}@{k}") for c in categories)] for n in SYSTEMS],
            )
        )
    lines = [
        f"LoCoMo {name:<28} " + " ".join(f"{pct(name, f'all@{k}'):>5}" for k in ks)
        for name in SYSTEMS
    ]
    return "\n".join(body), lines


def _n(corpora: list[data.Corpus], category: str) -> int:
    return sum(q.category == category for c in corpora for q in c.queries)


def run_scifact(bench: Bench, folder: Path) -> tuple[str, list[str]]:
    corpus = data.scifact(folder)
    results = {}
    for name, rank in rankers(bench, corpus, 10).items():
        started = time.perf_counter()
        values = [data.ndcg_at(rank(i, q), q.relevant) for i, q in enumerate(corpus.queries)]
        results[name] = (sum(values) / len(values), time.perf_counter() - started)
    body = (
        f"SciFact nDCG@10, {len(corpus.queries)} test queries, {len(corpus.ids)} abstracts.\n\n"
        + md_table(
            ["system", "nDCG@10", "time (s)"],
            [[n, f"{results[n][0]:.4f}", f"{results[n][1]:.1f}"] for n in SYSTEMS],
        )
    )
    return body, [f"SciFact {n:<28} {results[n][0]:.4f}" for n in SYSTEMS]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locomo", action="store_true", help="only LoCoMo (default: both)")
    parser.add_argument("--scifact", action="store_true", help="only SciFact (default: both)")
    parser.add_argument("--locomo-file", type=Path, default=data.LOCOMO_FILE)
    parser.add_argument("--scifact-dir", type=Path, default=data.SCIFACT_DIR)
    parser.add_argument("--conversations", type=int, help="only the first N LoCoMo conversations")
    add_common_args(parser)
    args = parser.parse_args(argv)
    from common import record, setup

    bench = setup(args, __file__, argv)
    started = time.time()
    both = not (args.locomo or args.scifact)
    from memcli.search.fusion import FUSION_VERSION
    from memcli.search.tokenizer import TOKENIZER_VERSION

    parts = []
    if args.locomo or both:
        body, lines = run_locomo(bench, args.locomo_file, args.conversations)
        parts.append(body)
        print("\n".join(lines), file=sys.stderr)
    if args.scifact or both:
        body, lines = run_scifact(bench, args.scifact_dir)
        parts.append(body)
        print("\n".join(lines), file=sys.stderr)
    title = (
        f"recall quality, memcli ({FUSION_VERSION}, tokenizer v{TOKENIZER_VERSION}) and baselines"
    )
    record(bench, title, "\n\n".join(parts), started)


if __name__ == "__main__":
    main()
