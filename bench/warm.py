"""Warm recall: many recalls in one process, as the TUI makes them, after the first.

For each synthetic store of bench/scale.py (built there, cached in --cache): a Context on
the store, one untimed recall (loads the model and fills the in-process vector cache), then
`--runs` recalls of different queries through memcli.service.reading.recall_memories with
reinforce=False (each opens the store, embeds the query, searches and reads the hits).

    python bench/warm.py --sizes 1000 10000 100000 --runs 100 [--breakdown]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from common import Bench, add_common_args, md_table, memcli_context, percentile  # noqa: E402
from scale import BOOKS, CITIES, FOODS, MONTHS, PEOPLE, QUERIES, THINGS, build  # noqa: E402

SHAPES = [
    "{person} phone number",
    "{thing} port and user",
    "who is allergic to {food}",
    "OPS-{num4}",
    "when does the {thing} certificate expire",
    "book recommendation from {person}",
    "where does {person} live now",
    "{thing} ip address",
    "dentist in {month}",
    "gift for {person}",
    "{book}",
    "trip to {city}",
]


def queries(count: int) -> list[str]:
    """`count` different queries: the scale bench's, then ones shaped like its notes."""
    rng = random.Random(7)
    out = list(QUERIES)
    while len(out) < count:
        query = rng.choice(SHAPES).format(
            person=rng.choice(PEOPLE),
            thing=rng.choice(THINGS),
            food=rng.choice(FOODS),
            num4=rng.randint(1000, 9999),
            month=rng.choice(MONTHS),
            book=rng.choice(BOOKS),
            city=rng.choice(CITIES),
        )
        if query not in out:
            out.append(query)
    return out[:count]


def measure(bench: Bench, size: int, runs: int) -> list[str]:
    from memcli.search.recall import RecallRequest
    from memcli.service.reading import recall_memories

    ctx = memcli_context(build(bench, size))
    asked = queries(runs + 1)
    started = time.perf_counter()
    recall_memories(ctx, RecallRequest(asked[0]), reinforce=False)
    first = time.perf_counter() - started
    times, empty = [], 0
    for query in asked[1:]:
        started = time.perf_counter()
        hits = recall_memories(ctx, RecallRequest(query), reinforce=False)
        times.append(time.perf_counter() - started)
        empty += not hits
    return [
        f"{size:,}",
        f"{first * 1000:.0f}",
        f"{statistics.median(times) * 1000:.1f}",
        f"{percentile(times, 0.95) * 1000:.1f}",
        f"{max(times) * 1000:.1f}",
        str(empty),
    ]


STEPS = ("embed query", "open store", "filters + keyword", "semantic", "candidates' rows", "close")


def breakdown(bench: Bench, size: int, runs: int) -> list[str]:
    """p50 of each step of a warm recall, through the functions memcli.search.recall runs
    (the fusion itself and reading the hits' rows take the rest)."""
    from memcli.search.keyword_index import CACHE
    from memcli.search.recall import keyword_candidates
    from memcli.search.semantic import QueryVector, semantic_candidates
    from memcli.store.memories import Filters

    ctx = memcli_context(build(bench, size))
    embedder = ctx.embedder()
    assert embedder is not None, ctx.model_error
    times: dict[str, list[float]] = {step: [] for step in STEPS}
    for n, query in enumerate(queries(runs + 2)):
        marks = [time.perf_counter()]
        vector = QueryVector(embedder.name, embedder.embed_query(query))
        marks.append(time.perf_counter())
        with ctx.store(write=False) as store:
            marks.append(time.perf_counter())
            filters = Filters()
            source = CACHE.reader(store.con)  # the in-process copy of the keyword index
            stored = source.corpus(filters)
            keyword = keyword_candidates(store.con, query, filters, 200, stored, source)
            marks.append(time.perf_counter())
            allowed = stored.seqs[stored.passes]
            semantic = semantic_candidates(store.con, vector, filters, 200, set(keyword), allowed)
            marks.append(time.perf_counter())
            source.facts(sorted(set(keyword) | set(semantic)))
            marks.append(time.perf_counter())
        marks.append(time.perf_counter())
        if n >= 2:  # the first two fill the caches
            for step, start, end in zip(STEPS, marks[:-1], marks[1:], strict=True):
                times[step].append(end - start)
    return [f"{size:,}", *(f"{statistics.median(times[s]) * 1000:.1f}" for s in STEPS)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument(
        "--breakdown", action="store_true", help="also time each step of a warm recall"
    )
    add_common_args(parser)
    args = parser.parse_args(argv)
    from common import record, setup

    bench = setup(args, __file__, argv)
    started = time.time()
    rows = [measure(bench, size, args.runs) for size in args.sizes]
    body = f"{args.runs} different queries per store after one untimed recall.\n\n" + md_table(
        ["memories", "first recall (ms)", "p50 (ms)", "p95 (ms)", "max (ms)", "empty answers"],
        rows,
    )
    if args.breakdown:
        steps = [breakdown(bench, size, args.runs) for size in args.sizes]
        body += (
            "\n\nWhere a warm recall's time goes (p50 per step, ms; the same queries):\n\n"
            + md_table(["memories", *STEPS], steps)
        )
    record(bench, "warm recall in one process", body, started)


if __name__ == "__main__":
    main()
