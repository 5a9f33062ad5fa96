"""The nightly cost of `memcli consolidate` on a big store, next to the cost of embedding
what the night brought.

A copy of the cached 100k scale store (bench/scale.py builds it) is marked as consolidated
up to its last memory (as if every earlier night had run), then --new new note-like memories
are imported into it: some are near copies or updated values of stored notes, so the run
has real merges and supersessions to find. Then, alternately and --runs times:

  embed        raw fastembed embedding of those --new texts, in this process, model loaded
               beforehand (the time `memcli add` or `import` spent on them)
  consolidate  `memcli --db COPY --json consolidate` in a fresh process, as cron runs it:
               wall time (with Python start and model load) and the run's own time

Each consolidate run starts from the same copy (the store is copied back before each run).

    python bench/consolidate_cost.py [--store bench/.cache/scale-100000.duckdb] [--new 1000]
        [--runs 3] [--no-append]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MODEL = ROOT.parent / "shared" / "models" / "all-MiniLM-L6-v2-onnx"
DEFAULT_STORE = HERE / ".cache" / "scale-100000.duckdb"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE)
    parser.add_argument("--new", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--model-name", default="sentence-transformers/all-MiniLM-L6-v2")
    parser.add_argument("--no-append", action="store_true", help="Do not append to RESULTS.md")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    if not (args.model / "model.onnx").exists():
        sys.exit(f"the model is not at {args.model} (see ../shared/models)")
    if not args.store.exists():
        sys.exit(f"no store at {args.store}: run bench/scale.py --sizes 100000 first")

    os.environ["MEMCLI_MODEL_PATH"] = str(args.model)
    os.environ["MEMCLI_MODEL"] = args.model_name
    work = Path(tempfile.mkdtemp(prefix="memcli-consolidate-bench-"))
    os.environ["MEMCLI_HOME"] = str(work / "home")
    base = work / "base.duckdb"
    shutil.copy(args.store, base)
    stored = _mark_consolidated(base)
    texts = _new_notes(base, args.new)
    feed = work / "new.jsonl"
    feed.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    started = time.monotonic()
    _memcli(base, "import", str(feed))
    import_seconds = time.monotonic() - started

    from memcli.config import load_settings
    from memcli.embed import load_embedder

    embedder = load_embedder(load_settings(base).model, work / "cache")
    embedder.embed_documents(texts[:8])  # warm up

    rows = []
    for run in range(args.runs):
        started = time.monotonic()
        embedder.embed_documents(texts)
        embed_s = time.monotonic() - started
        copy = work / "run.duckdb"
        shutil.copy(base, copy)
        started = time.monotonic()
        report = json.loads(_memcli(copy, "--json", "consolidate"))
        wall_s = time.monotonic() - started
        rows.append((embed_s, wall_s, report["seconds"], report))
        print(
            f"run {run + 1}: embed {embed_s:.2f} s, consolidate {wall_s:.2f} s wall "
            f"({report['seconds']:.2f} s in the run), compared {report['compared']}, "
            f"merged {len(report['merged'])}, superseded {len(report['superseded'])}",
            flush=True,
        )
    shutil.rmtree(work, ignore_errors=True)
    table = _table(stored, args.new, rows, import_seconds)
    print(table)
    if not args.no_append:
        _append(args, table)


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
    sample = [
        r[0] for r in con.execute("SELECT text FROM memories USING SAMPLE 400 ROWS").fetchall()
    ]
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


def _memcli(db: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "memcli", "--db", str(db), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"memcli {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def _table(stored: int, new: int, rows: list, import_seconds: float) -> str:
    embed = [r[0] for r in rows]
    wall = [r[1] for r in rows]
    inner = [r[2] for r in rows]
    last = rows[-1][3]

    def cell(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"

    ratio_wall = [w / e for w, e in zip(wall, embed, strict=True)]
    ratio_inner = [i / e for i, e in zip(inner, embed, strict=True)]
    return (
        f"| store | new | embed {new} (s) | consolidate wall (s) | in the run (s) | "
        "wall / embed | run / embed |\n|---:|---:|---:|---:|---:|---:|---:|\n"
        f"| {stored:,} | {new:,} | {cell(embed)} | {cell(wall)} | {cell(inner)} | "
        f"{statistics.median(ratio_wall):.2f} | {statistics.median(ratio_inner):.2f} |\n\n"
        f"Last run: compared {last['compared']}, merged {len(last['merged'])}, superseded "
        f"{len(last['superseded'])}, archived {len(last['archived'])}. Import of the {new} "
        f"notes (embedding included, one process): {import_seconds:.1f} s."
    )


def _append(args: argparse.Namespace, table: str) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    command = "python bench/consolidate_cost.py " + " ".join(sys.argv[1:])
    section = (
        f"\n## {datetime.now(UTC):%Y-%m-%d} — nightly consolidate at scale\n\n"
        f"Commit {commit}; {os.cpu_count()} cores, {ram:.0f} GiB RAM, "
        f"{platform.python_implementation()} {platform.python_version()}. "
        f"Command: `{command}`\n\n{table}\n"
    )
    text = args.results.read_text() if args.results.exists() else "# Benchmark results\n"
    head, sep, rest = text.partition("\n## ")
    args.results.write_text(head.rstrip("\n") + "\n" + section + (sep + rest if sep else ""))


if __name__ == "__main__":
    main()
