"""Warm recall: many recalls in one process (as the TUI makes them), after the first.

Opens a Context on a store (default: the cached 100k scale store, see bench/scale.py), makes
one untimed recall (loads the model and, with the vector cache, the vectors), then times
`--runs` recalls of different queries through memcli.service.reading.recall_memories with
reinforce=False (each opens the store, embeds the query, searches, reads the hits).
Needs the real all-MiniLM-L6-v2 in ../shared/models.

    python bench/warm.py [--db bench/.cache/scale-100000.duckdb] [--runs 50]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from scale import BOOKS, CACHE, CITIES, FOODS, MODEL, MONTHS, PEOPLE, QUERIES, THINGS  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=CACHE / "scale-100000.duckdb")
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    if not (MODEL / "model.onnx").exists():
        sys.exit(f"skipped: the real model is not at {MODEL}")
    if not args.db.exists():
        sys.exit(f"no store at {args.db} (python bench/scale.py builds it)")
    os.environ["MEMCLI_HOME"] = str(CACHE / "home")
    os.environ["MEMCLI_MODEL_PATH"] = str(MODEL)
    os.environ.pop("MEMCLI_MODEL", None)

    from memcli.config import load_settings
    from memcli.search.recall import RecallRequest
    from memcli.service.context import Context
    from memcli.service.reading import recall_memories

    ctx = Context(load_settings(args.db))
    asked = queries(args.runs + 1)
    started = time.perf_counter()
    recall_memories(ctx, RecallRequest(asked[0]), reinforce=False)
    first = time.perf_counter() - started
    times = []
    for query in asked[1:]:
        started = time.perf_counter()
        hits = recall_memories(ctx, RecallRequest(query), reinforce=False)
        times.append(time.perf_counter() - started)
        assert hits, query
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(
        f"{args.db.name}: first recall {first * 1000:.0f} ms (model load included); "
        f"then {len(times)} recalls: p50 {statistics.median(times) * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
