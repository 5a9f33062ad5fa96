"""Warm recall: many recalls in one process, as the TUI makes them, after the first.

For each synthetic store of bench/scale.py (built there, cached in --cache): a Context on
the store, one untimed recall (loads the model and fills the in-process vector cache), then
`--runs` recalls of different queries through memcli.service.reading.recall_memories with
reinforce=False (each opens the store, embeds the query, searches and reads the hits).

    python bench/warm.py --sizes 1000 10000 100000 --runs 100
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--runs", type=int, default=100)
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
    record(bench, "warm recall in one process", body, started)


if __name__ == "__main__":
    main()
