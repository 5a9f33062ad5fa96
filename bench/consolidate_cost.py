"""The nightly cost of `memcli consolidate` on a big store, next to the cost of embedding
what the night brought.

A copy of the cached scale store of --size notes (bench/scale.py builds it, cached in
--cache) is marked as consolidated up to its last memory (as if every earlier night had
run), then --new new note-like memories are imported into it: some are near copies or
updated values of stored notes, so the run has real merges and supersessions to find.
Then, alternately and --runs times:

  embed        raw fastembed embedding of those --new texts, in this process, model loaded
               beforehand (the time `memcli add` or `import` spent on them)
  consolidate  `memcli --db COPY --json consolidate` in a fresh process, as cron runs it:
               wall time (with Python start and model load) and the run's own time

Each consolidate run starts from the same copy (the store is copied back before each run).

    python bench/consolidate_cost.py [--size 100000] [--new 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from common import Bench, add_common_args, md_table  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="notes in the scale store")
    parser.add_argument("--new", type=int, default=1000, help="new notes of the night")
    parser.add_argument("--runs", type=int, default=3, help="alternated runs")
    add_common_args(parser)
    args = parser.parse_args(argv)
    if args.size < 1 or args.new < 1 or args.runs < 1:
        parser.error("--size, --new and --runs must be at least 1")
    from common import record, setup
    from scale import build

    bench = setup(args, __file__, argv)
    started = time.time()
    source = build(bench, args.size)
    with tempfile.TemporaryDirectory(prefix="memcli-consolidate-bench-") as folder:
        work = Path(folder)
        base = work / "base.duckdb"
        shutil.copyfile(source, base)
        stored = _mark_consolidated(base)
        texts = _new_notes(base, args.new)
        feed = work / "new.jsonl"
        feed.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
        began = time.monotonic()
        _memcli(bench, base, "import", str(feed))
        import_seconds = time.monotonic() - began

        from memcli.config import load_settings
        from memcli.embed import load_embedder

        embedder = load_embedder(load_settings(base).model, work / "models")
        embedder.embed_documents(texts[:8])  # warm up

        runs = []
        for run in range(args.runs):
            began = time.monotonic()
            embedder.embed_documents(texts)
            embed_s = time.monotonic() - began
            copy = work / "run.duckdb"
            shutil.copyfile(base, copy)
            began = time.monotonic()
            report = json.loads(_memcli(bench, copy, "--json", "consolidate"))
            wall_s = time.monotonic() - began
            runs.append((embed_s, wall_s, float(report["seconds"]), report))
            print(
                f"run {run + 1}: embed {embed_s:.2f} s, consolidate {wall_s:.2f} s wall "
                f"({report['seconds']:.2f} s in the run), compared {report['compared']}, "
                f"merged {len(report['merged'])}, superseded {len(report['superseded'])}",
                file=sys.stderr,
                flush=True,
            )
    record(
        bench,
        "nightly consolidate at scale",
        _table(stored, args.new, runs, import_seconds),
        started,
    )


def _mark_consolidated(path: Path) -> int:
    """Record a run that compared every stored memory (earlier nights did the work)."""
    from memcli.store import consolidation as runs
    from memcli.store.connection import open_store

    now = datetime.now(UTC)
    with open_store(path, write=True) as store, store.transaction() as con:
        top = runs.max_seq(con)
        runs.record_run(con, now, now, 0.0, top, False, {"bench": "baseline"})
        row = con.execute("SELECT count(*) FROM memories").fetchone()
    assert row is not None
    return int(row[0])


def _new_notes(path: Path, count: int) -> list[str]:
    """New notes: one in ten changes a value of a stored note (an update), one in twenty
    repeats one with other spacing and case (a near duplicate), the rest are new."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET threads = 1")  # a seeded sample is the same only on one thread
    query = "SELECT text FROM memories USING SAMPLE reservoir(400 ROWS) REPEATABLE (11)"
    sample = sorted(r[0] for r in con.execute(query).fetchall())
    con.close()
    rng = random.Random(11)
    out = []
    for i in range(count):
        if i % 10 == 0:
            text = rng.choice(sample)
            digits = [c for c in text if c.isdigit()]
            out.append(
                text.replace(digits[0], str((int(digits[0]) + 1) % 10), 1) + " now"
                if digits
                else text + " (updated)"
            )
        elif i % 20 == 5:
            out.append(rng.choice(sample).upper() + " ")
        else:
            out.append(
                f"night note {i}: call {rng.choice(['Alice', 'Bob', 'Priya', 'Hiro'])} about "
                f"ticket OPS-{rng.randint(1000, 9999)} on host 10.{rng.randint(0, 255)}."
                f"{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            )
    return out


def _memcli(bench: Bench, db: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "memcli", "--db", str(db), *args],
        capture_output=True,
        text=True,
        check=False,
        env=bench.env(),
    )
    if result.returncode != 0:
        sys.exit(f"memcli {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def _table(
    stored: int, new: int, runs: list[tuple[float, float, float, dict[str, Any]]], imported: float
) -> str:
    embed = [r[0] for r in runs]
    wall = [r[1] for r in runs]
    inner = [r[2] for r in runs]
    last = runs[-1][3]

    def cell(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"

    ratio_wall = [w / e for w, e in zip(wall, embed, strict=True)]
    ratio_inner = [i / e for i, e in zip(inner, embed, strict=True)]
    table = md_table(
        [
            "store",
            "new",
            f"embed {new} (s)",
            "consolidate wall (s)",
            "in the run (s)",
            "wall / embed",
            "run / embed",
        ],
        [
            [
                f"{stored:,}",
                f"{new:,}",
                cell(embed),
                cell(wall),
                cell(inner),
                f"{statistics.median(ratio_wall):.2f}",
                f"{statistics.median(ratio_inner):.2f}",
            ]
        ],
    )
    return (
        f"Medians of {len(runs)} alternated runs (min-max).\n\n{table}\n\n"
        f"Last run: compared {last['compared']}, merged {len(last['merged'])}, superseded "
        f"{len(last['superseded'])}, archived {len(last['archived'])}. Import of the {new} "
        f"notes (embedding included, one process): {imported:.1f} s."
    )


if __name__ == "__main__":
    main()
