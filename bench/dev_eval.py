"""Recall quality on the development sets, memcli next to the baselines, same data, same run.

memcli goes through its public code path: one memcli store per LoCoMo conversation, one for
SciFact and one per LongMemEval question, built with memcli's import (cached in --cache),
searched with memcli.service.reading.recall_memories (the function `memcli recall` calls;
reinforce=False so that the run does not change the stores) in its three modes, with its
defaults. The baselines (bench/baselines.py): rank-bm25 over memcli's tokenizer and over a
plain lowercase split, brute-force numpy cosine over fastembed's embeddings of the same
model, grep-like substring matching, and reciprocal-rank fusion of rank-bm25 and the vectors.

    python bench/dev_eval.py                       # LoCoMo, SciFact and LongMemEval
    python bench/dev_eval.py --longmemeval --questions 30 --no-record
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import baselines  # noqa: E402
import data  # noqa: E402
from common import Bench, add_common_args, fastembed_model, md_table, memcli_context  # noqa: E402

MEMCLI_MODES = ("hybrid", "keyword", "semantic")
CHANNELS = ("memcli keyword", "memcli semantic")
GAP = "hybrid - better channel"
SYSTEMS = (
    "memcli hybrid",
    "memcli keyword",
    "memcli semantic",
    "rank-bm25, memcli tokenizer",
    "rank-bm25, lowercase split",
    "vectors, numpy + fastembed",
    "grep, substrings",
    "RRF, rank-bm25 + vectors",
)
Ranked = list[tuple[str, float]]  # (memory id, score), best first
Ranker = Callable[[int, data.Query], Ranked]


def rankers(bench: Bench, corpus: data.Corpus, k: int) -> dict[str, Ranker]:
    """Every system's search over one corpus: (query number, query) -> (memory id, score),
    best first, at most k."""
    from memcli.search.recall import RecallRequest
    from memcli.search.tokenizer import tokenize
    from memcli.service.reading import recall_memories
    from memcli.timeparse import parse_iso_utc

    ctx = memcli_context(data.store(bench.cache, corpus))
    default_clock = ctx.clock

    def memcli(mode: str) -> Ranker:
        def run(_: int, query: data.Query) -> Ranked:
            asked = _moment(parse_iso_utc, query.asked_at)
            ctx.clock = default_clock if asked is None else (lambda: asked)
            request = RecallRequest(query.text, limit=k, mode=mode)
            hits = recall_memories(ctx, request, reinforce=False)
            return [(hit.memory.id, hit.score) for hit in hits]

        return run

    model = fastembed_model(bench)
    label = f"{bench.model_name}:{bench.model_path}"
    doc_vectors = baselines.embeddings(model, corpus.texts, bench.cache, label)
    query_vectors = baselines.embeddings(
        model, [q.text for q in corpus.queries], bench.cache, label
    )
    vectors = baselines.Vectors(doc_vectors)
    bm25 = baselines.BM25(corpus.texts, tokenize)
    plain = baselines.BM25(corpus.texts, baselines.plain_split)
    grep = baselines.Grep(corpus.texts)
    scorers: dict[str, tuple[Callable[[int, data.Query], np.ndarray], bool]] = {
        "rank-bm25, memcli tokenizer": (lambda _, q: bm25.scores(q.text), True),
        "rank-bm25, lowercase split": (lambda _, q: plain.scores(q.text), True),
        "vectors, numpy + fastembed": (lambda i, _: vectors.scores(query_vectors[i]), False),
        "grep, substrings": (lambda _, q: grep.scores(q.text), True),
        "RRF, rank-bm25 + vectors": (
            lambda i, q: baselines.reciprocal_rank_fusion(
                [bm25.scores(q.text), vectors.scores(query_vectors[i])], 100
            ),
            True,
        ),
    }
    out: dict[str, Ranker] = {f"memcli {mode}": memcli(mode) for mode in MEMCLI_MODES}
    for name, (scores, positive_only) in scorers.items():
        out[name] = _ranker(corpus.ids, scores, k, positive_only)
    return out


def _moment(parse: Callable[[str], datetime], text: str | None) -> datetime | None:
    return None if text is None else parse(text)


def _ranker(
    ids: Sequence[str],
    scores: Callable[[int, data.Query], np.ndarray],
    k: int,
    positive_only: bool,
) -> Ranker:
    def run(i: int, query: data.Query) -> Ranked:
        values = scores(i, query)
        return [(ids[j], float(values[j])) for j in baselines.ranked(values, k, positive_only)]

    return run


def _ids(found: Ranked) -> list[str]:
    return [memory_id for memory_id, _ in found]


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def _gap_row(
    label: str, columns: Sequence[str], value: Callable[[str, str], float], scale: float = 1.0
) -> list[str]:
    """hybrid minus the better of memcli's two channels, per column."""
    row = [label]
    for column in columns:
        best = max(value(channel, column) for channel in CHANNELS)
        row.append(f"{scale * (value('memcli hybrid', column) - best):+.3f}")
    return row


# --- LoCoMo ---------------------------------------------------------------------------------


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
                got = _ids(rank(i, query))
                for k in ks:
                    r = data.recall_at(got, query.relevant, k)
                    scores[name][f"all@{k}"].append(r)
                    scores[name][f"{query.category}@{k}"].append(r)
            seconds[name] += time.perf_counter() - started
    count = sum(len(c.queries) for c in corpora)

    def value(name: str, key: str) -> float:
        return 100 * _mean(scores[name].get(key, []))

    def pct(name: str, key: str) -> str:
        return f"{value(name, key):.1f}" if scores[name].get(key) else "-"

    body = [
        f"LoCoMo turn-level evidence recall (%), {count} questions with evidence, "
        f"{len(corpora)} conversation(s). Time = all queries of the system, in this process.",
        "",
        md_table(
            ["system", *(f"R@{k}" for k in ks), "time (s)"],
            [[n, *(pct(n, f"all@{k}") for k in ks), f"{seconds[n]:.1f}"] for n in SYSTEMS]
            + [[*_gap_row(GAP, [f"all@{k}" for k in ks], value), ""]],
        ),
    ]
    categories = sorted({q.category for c in corpora for q in c.queries})
    for k in ks:
        heads = [f"{c} {data.LOCOMO_CATEGORIES.get(c, '')} ({_n(corpora, c)})" for c in categories]
        keys = [f"{c}@{k}" for c in categories]
        body += ["", f"R@{k} per category (category, name, questions):", ""]
        body.append(
            md_table(
                ["system", *heads],
                [[n, *(pct(n, key) for key in keys)] for n in SYSTEMS]
                + [_gap_row(GAP, keys, value)],
            )
        )
    lines = [
        f"LoCoMo {name:<28} " + " ".join(f"{pct(name, f'all@{k}'):>5}" for k in ks)
        for name in SYSTEMS
    ]
    return "\n".join(body), lines


def _n(corpora: list[data.Corpus], category: str) -> int:
    return sum(q.category == category for c in corpora for q in c.queries)


# --- SciFact --------------------------------------------------------------------------------


def run_scifact(bench: Bench, folder: Path) -> tuple[str, list[str]]:
    corpus = data.scifact(folder)
    results = {}
    for name, rank in rankers(bench, corpus, 10).items():
        started = time.perf_counter()
        values = [data.ndcg_at(_ids(rank(i, q)), q.relevant) for i, q in enumerate(corpus.queries)]
        results[name] = (_mean(values), time.perf_counter() - started)
    rows = [[n, f"{results[n][0]:.4f}", f"{results[n][1]:.1f}"] for n in SYSTEMS]
    rows.append([*_gap_row(GAP, ["nDCG"], lambda n, _: results[n][0]), ""])
    body = (
        f"SciFact nDCG@10, {len(corpus.queries)} test queries, {len(corpus.ids)} abstracts.\n\n"
        + md_table(["system", "nDCG@10", "time (s)"], rows)
    )
    return body, [f"SciFact {n:<28} {results[n][0]:.4f}" for n in SYSTEMS]


# --- LongMemEval ----------------------------------------------------------------------------

LME_TURNS = 50  # turns asked of every system; sessions are ranked by their best turn
LME_METRICS = ("recall_all@5", "recall_all@10", "recall_any@5", "ndcg_any@10")


def _session_metrics(sessions: Sequence[str], relevant: dict[str, int]) -> dict[str, float]:
    return {
        "recall_all@5": data.recall_all_at(sessions, relevant, 5),
        "recall_all@10": data.recall_all_at(sessions, relevant, 10),
        "recall_any@5": data.recall_any_at(sessions, relevant, 5),
        "ndcg_any@10": data.ndcg_at(sessions, relevant, 10),
    }


def newest_first(sessions: Sequence[str], relevant: dict[str, int], dates: dict[str, str]) -> float:
    """1 when the newest gold session ranks above every older gold session (a session not
    ranked at all counts as below), else 0."""
    newest = max(relevant, key=lambda s: dates[s])
    if newest not in sessions:
        return 0.0
    place = sessions.index(newest)
    return float(all(s not in sessions[:place] for s in relevant if s != newest))


def run_longmemeval(bench: Bench, path: Path, questions: int | None) -> tuple[str, list[str]]:
    """LongMemEval_S dev, session level, per question type; abstention from the top score."""
    metrics: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    top: dict[str, dict[bool, list[float]]] = defaultdict(lambda: defaultdict(list))
    empty: dict[str, dict[bool, list[float]]] = defaultdict(lambda: defaultdict(list))
    seconds: dict[str, float] = defaultdict(float)
    corpora = data.longmemeval(path, questions)
    types: dict[str, int] = defaultdict(int)
    for n, corpus in enumerate(corpora):
        query = corpus.queries[0]
        dates = dict(zip(corpus.groups.values(), corpus.created, strict=True))
        judged = query.answerable and bool(query.relevant)
        types[query.category] += judged
        for name, rank in rankers(bench, corpus, LME_TURNS).items():
            started = time.perf_counter()
            found = rank(0, query)
            seconds[name] += time.perf_counter() - started
            top[name][query.answerable].append(found[0][1] if found else float("-inf"))
            empty[name][query.answerable].append(float(not found))
            if not judged:
                continue
            sessions = data.sessions_ranked(_ids(found), corpus.groups)
            for metric, value in _session_metrics(sessions, query.relevant).items():
                metrics[name][f"all/{metric}"].append(value)
                metrics[name][f"{query.category}/{metric}"].append(value)
            if query.category == "knowledge-update" and len(query.relevant) > 1:
                metrics[name]["ku/newest_first"].append(
                    newest_first(sessions, query.relevant, dates)
                )
        if (n + 1) % 50 == 0:
            print(f"  longmemeval: {n + 1}/{len(corpora)} questions", file=sys.stderr)

    def value(name: str, key: str) -> float:
        return _mean(metrics[name].get(key, []))

    def fmt(name: str, key: str) -> str:
        return f"{value(name, key):.3f}" if metrics[name].get(key) else "-"

    judged_count = len(metrics["memcli hybrid"]["all/recall_all@5"])
    abstain = sum(not c.queries[0].answerable for c in corpora)
    keys = [f"all/{m}" for m in LME_METRICS]
    body = [
        f"LongMemEval_S dev, session level: {len(corpora)} questions, {judged_count} answerable "
        f"with gold sessions, {abstain} abstention (`_abs`). Every system returns its best "
        f"{LME_TURNS} turns; a session ranks by its best turn. Time = all queries, this process.",
        "",
        md_table(
            ["system", *LME_METRICS, "time (s)"],
            [[n, *(fmt(n, key) for key in keys), f"{seconds[n]:.1f}"] for n in SYSTEMS]
            + [[*_gap_row(GAP, keys, value), ""]],
        ),
    ]
    ordered = sorted(types)
    for metric in ("recall_all@5", "ndcg_any@10"):
        columns = [f"{t}/{metric}" for t in ordered]
        body += ["", f"{metric} per question type (questions):", ""]
        body.append(
            md_table(
                ["system", *(f"{t} ({types[t]})" for t in ordered)],
                [[n, *(fmt(n, c) for c in columns)] for n in SYSTEMS]
                + [_gap_row(GAP, columns, value)],
            )
        )
    ku = len(metrics["memcli hybrid"]["ku/newest_first"])
    body += [
        "",
        f"Abstention and updates. AUROC: the top hit's score, answerable ({len(corpora) - abstain})"
        f" against abstention ({abstain}) questions (an empty answer scores lowest). Empty: "
        f"how often the answer is empty. Newest first: knowledge-update questions with two or "
        f"more gold sessions ({ku}) whose newest gold session ranks above the older ones.",
        "",
        md_table(
            ["system", "AUROC", "empty (abstention)", "empty (answerable)", "newest first"],
            [
                [
                    n,
                    f"{data.auroc(top[n][True], top[n][False]):.3f}",
                    f"{_mean(empty[n][False]):.3f}",
                    f"{_mean(empty[n][True]):.3f}",
                    fmt(n, "ku/newest_first"),
                ]
                for n in SYSTEMS
            ],
        ),
    ]
    lines = [
        f"LongMemEval {name:<28} "
        + " ".join(f"{fmt(name, key):>6}" for key in keys)
        + f"  AUROC {data.auroc(top[name][True], top[name][False]):.3f}"
        for name in SYSTEMS
    ]
    return "\n".join(body), lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locomo", action="store_true", help="run LoCoMo (default: every set)")
    parser.add_argument("--scifact", action="store_true", help="run SciFact (default: every set)")
    parser.add_argument(
        "--longmemeval", action="store_true", help="run LongMemEval (default: every set)"
    )
    parser.add_argument("--locomo-file", type=Path, default=data.LOCOMO_FILE)
    parser.add_argument("--scifact-dir", type=Path, default=data.SCIFACT_DIR)
    parser.add_argument("--longmemeval-file", type=Path, default=data.LONGMEMEVAL_FILE)
    parser.add_argument("--conversations", type=int, help="only the first N LoCoMo conversations")
    parser.add_argument("--questions", type=int, help="only the first N LongMemEval questions")
    add_common_args(parser)
    args = parser.parse_args(argv)
    from common import record, setup

    bench = setup(args, __file__, argv)
    started = time.time()
    every = not (args.locomo or args.scifact or args.longmemeval)
    from memcli.search.fusion import FUSION_VERSION
    from memcli.search.tokenizer import TOKENIZER_VERSION

    parts = []
    if args.locomo or every:
        body, lines = run_locomo(bench, args.locomo_file, args.conversations)
        parts.append(body)
        print("\n".join(lines), file=sys.stderr)
    if args.scifact or every:
        body, lines = run_scifact(bench, args.scifact_dir)
        parts.append(body)
        print("\n".join(lines), file=sys.stderr)
    if args.longmemeval or every:
        body, lines = run_longmemeval(bench, args.longmemeval_file, args.questions)
        parts.append(body)
        print("\n".join(lines), file=sys.stderr)
    title = (
        f"recall quality, memcli ({FUSION_VERSION}, tokenizer v{TOKENIZER_VERSION}) and baselines"
    )
    record(bench, title, "\n\n".join(parts), started)


if __name__ == "__main__":
    main()
