"""Speed and size at scale: cold commands next to their floor, import next to raw fastembed.

Deterministic synthetic stores of note-like memories (templates with names, ports, IPs,
ticket ids; built once through memcli's import, cached in --cache), then, alternately and in
fresh processes, so that the noise of a shared machine hits both sides alike:

  floor        python starts, imports fastembed and duckdb, loads the same model, embeds one
               text and opens the store read-only (bench/floor.py)
  cold recall  `memcli --db STORE --json recall QUERY`, as a user types it, a query asked
               earlier the same day (its hits were reinforced then: it only reads)
  first recall the same on a copy in which every memory is due for reinforcement, as a
  of the day   user's first recall of its hits in a day (it also writes: due_copy)
  cold add     `memcli --db COPY --json add TEXT` (a copy of the store, a new text each run)
  import       `memcli --db NEW --json import FILE` of --import-count new notes into a new
               store, next to bench/floor.py --embed-file FILE (raw fastembed on the same
               texts, process start and model load included on both sides)

Ratios are per run (each command over the floor measured just before it), reported as the
median with the range. Peak RSS is the process's maximum resident set (wait4's ru_maxrss).
Warm recall is bench/warm.py.

    python bench/scale.py --sizes 1000 10000 100000 --runs 7
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from common import Bench, add_common_args, md_table  # noqa: E402

PEOPLE = [
    "Alice",
    "Bob",
    "Carol",
    "Dmitri",
    "Eun-ji",
    "Farah",
    "Gustavo",
    "Hiro",
    "Ines",
    "Jamal",
    "Kai",
    "Lena",
    "Mateo",
    "Noor",
    "Olga",
    "Priya",
    "Quinn",
    "Rafael",
    "Sofia",
    "Tomás",
]
THINGS = [
    "staging db",
    "prod cluster",
    "VPN",
    "wifi",
    "build server",
    "backup disk",
    "router",
    "grafana dashboard",
    "CI runner",
    "S3 bucket",
    "DNS zone",
    "k8s namespace",
    "redis cache",
]
TEMPLATES = [
    "{thing} is on port {port}, user {user}",
    "{person}'s phone number is +1 555 {num4} {num4b}",
    "ticket OPS-{num4} : {thing} failed with ERR_{err} after the {month} deploy",
    "{person} recommended the book {book}; read it before {month}",
    "dentist appointment with Dr. {person} on {month} {day} at {hour}pm",
    "the {thing} password rotates every {days} days, next rotation {month} {day}",
    "{person} moved to {city}; new address {num3} {street} Street",
    "remember to renew the {thing} certificate (expires {month} {day})",
    "{thing} lives at 10.{a}.{b}.{c}, ssh with --no-verify only from the bastion",
    "meeting notes: {person} and {person2} agreed to migrate the {thing} by {month}",
    "{person} is allergic to {food}; bring something else to the {month} dinner",
    "gift idea for {person}: {book}, or tickets to {city}",
]
BOOKS = [
    "Dune",
    "The Pragmatic Programmer",
    "Designing Data-Intensive Applications",
    "Piranesi",
    "The Left Hand of Darkness",
    "Thinking, Fast and Slow",
    "The Rust Book",
    "Middlemarch",
]
CITIES = ["Lisbon", "Osaka", "Montréal", "Nairobi", "Berlin", "Austin", "Porto", "Seoul"]
FOODS = ["peanuts", "shellfish", "gluten", "lactose", "sesame", "kiwi"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
ERRS = ["SSL_PROTOCOL_ERROR", "CONNECTION_RESET", "TIMEOUT", "DISK_FULL", "OOM_KILLED"]
QUERIES = [
    "staging database port",
    "Priya phone number",
    "who is allergic to peanuts",
    "OPS-4821",
    "when does the wifi certificate expire",
    "book recommendation from Hiro",
]


def note(rng: random.Random) -> str:
    values = dict(
        thing=rng.choice(THINGS),
        port=rng.randint(1024, 65535),
        user=f"u{rng.randint(1, 999)}",
        person=rng.choice(PEOPLE),
        person2=rng.choice(PEOPLE),
        num4=rng.randint(1000, 9999),
        num4b=rng.randint(1000, 9999),
        num3=rng.randint(1, 999),
        err=rng.choice(ERRS),
        month=rng.choice(MONTHS),
        day=rng.randint(1, 28),
        hour=rng.randint(1, 6),
        book=rng.choice(BOOKS),
        days=rng.choice([30, 60, 90]),
        city=rng.choice(CITIES),
        street=rng.choice(["Oak", "Maple", "Harbour", "Station", "Rua Nova"]),
        a=rng.randint(0, 255),
        b=rng.randint(0, 255),
        c=rng.randint(1, 254),
        food=rng.choice(FOODS),
    )
    return rng.choice(TEMPLATES).format(**values)


def notes(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"{note(rng)} (#{i})" for i in range(count)]


def write_jsonl(path: Path, texts: list[str]) -> None:
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))


def build(bench: Bench, size: int) -> Path:
    """The cached store of `size` synthetic notes (rebuilt for another tokenizer)."""
    from data import build_store, store_is_current

    from memcli.store.connection import open_store

    db = bench.cache / f"scale-{size}.duckdb"
    if not (db.exists() and store_is_current(db, size)):
        build_store(db, [{"text": text} for text in notes(size, size)])
    # A store cached by an older memcli is migrated here, untimed, and not by the first
    # timed recall (nor the first add on its copy): m004 takes about 0.6 s at 100,000.
    with open_store(db, write=True):
        pass
    return db


@dataclass(frozen=True)
class Run:
    seconds: float
    rss_mb: float


def memcli(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "memcli", "--db", str(db), "--json", *args]


def floor(bench: Bench, *args: str) -> list[str]:
    model = [str(bench.model_path), str(bench.dim), bench.pooling]
    return [sys.executable, str(HERE / "floor.py"), *model, *args]


def timed(bench: Bench, command: list[str]) -> Run:
    """Wall time and peak RSS of one fresh process (which must succeed)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, env=bench.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert proc.stderr is not None
    errors = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.exit(f"{' '.join(command)} failed ({proc.returncode}): {errors.decode()[-2000:]}")
    return Run(seconds, usage.ru_maxrss / 1024)


def ratio(parts: list[Run], floors: list[Run]) -> str:
    values = [p.seconds / f.seconds for p, f in zip(parts, floors, strict=True)]
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def med(runs: list[Run], attribute: str = "seconds") -> float:
    return statistics.median(getattr(r, attribute) for r in runs)


def due_copy(db: Path, target: Path) -> None:
    """A copy of `db` in which every memory is due for reinforcement: its reinforcements are
    moved two days back, so the hits of a recall are reinforced as on a user's first recall
    of them in a day (an UPDATE, their events, and the checkpoint of both at close)."""
    import duckdb

    shutil.copyfile(db, target)
    # A recall leaves its reinforcements in the write-ahead log (memcli.store.connection,
    # brief writes): the copy takes it too, and folds it in below.
    wal = db.with_name(db.name + ".wal")
    target_wal = target.with_name(target.name + ".wal")
    target_wal.unlink(missing_ok=True)
    if wal.exists():
        shutil.copyfile(wal, target_wal)
    con = duckdb.connect(str(target))
    try:
        con.execute(
            "UPDATE memories SET reinforced_at = reinforced_at - INTERVAL 2 DAY "
            "WHERE reinforced_at IS NOT NULL"
        )
        con.execute("CHECKPOINT")
    finally:
        con.close()


def measure_size(bench: Bench, size: int, runs: int) -> list[str]:
    db = build(bench, size)
    # Every query once, untimed: the timed recalls of `db` repeat a query of the same day,
    # whose hits are reinforced already (a read only). The first recall of the day is
    # measured on a fresh copy in which every memory is due (due_copy) at each run.
    for query in QUERIES:
        subprocess.run(
            memcli(db, "recall", query), env=bench.env(), check=True, capture_output=True
        )
    copy = bench.cache / f"scale-{size}-add.duckdb"
    due = bench.cache / f"scale-{size}-due.duckdb"
    fresh = bench.cache / f"scale-{size}-fresh.duckdb"
    shutil.copyfile(db, copy)
    due_copy(db, due)
    os.sync()
    try:
        floors, recalls, due_floors, dues, add_floors, adds = [], [], [], [], [], []
        for run in range(runs):
            query = QUERIES[run % len(QUERIES)]
            floors.append(timed(bench, floor(bench, str(db), query)))
            recalls.append(timed(bench, memcli(db, "recall", query)))
            shutil.copyfile(due, fresh)
            # the last run's recall left its reinforcements in the copy's write-ahead log
            fresh.with_name(fresh.name + ".wal").unlink(missing_ok=True)
            os.sync()  # the copy's writeback must not run during the timed commands
            due_floors.append(timed(bench, floor(bench, str(fresh), query)))
            dues.append(timed(bench, memcli(fresh, "recall", query)))
            text = f"bench add {time.time_ns()}: {note(random.Random(run))}"
            add_floors.append(timed(bench, floor(bench, str(copy), text)))
            adds.append(timed(bench, memcli(copy, "add", text)))
    finally:
        for path in (copy, due, fresh):
            path.unlink(missing_ok=True)
            path.with_name(path.name + ".wal").unlink(missing_ok=True)
    size_bytes = db.stat().st_size
    return [
        f"{size:,}",
        f"{med(floors):.3f}",
        f"{med(recalls):.3f}",
        ratio(recalls, floors),
        f"{med(dues):.3f}",
        ratio(dues, due_floors),
        f"{med(adds):.3f}",
        ratio(adds, add_floors),
        f"{med(floors, 'rss_mb'):.0f} / {med(recalls, 'rss_mb'):.0f} / {med(adds, 'rss_mb'):.0f}",
        f"{size_bytes / 2**20:.1f}",
        f"{size_bytes / size:,.0f}",
    ]


def measure_import(bench: Bench, count: int, runs: int) -> list[str]:
    source = bench.cache / f"import-{count}.jsonl"
    write_jsonl(source, notes(count, 7 * count + 1))
    target = bench.cache / f"import-{count}.duckdb"
    raws, imports = [], []
    try:
        for _ in range(runs):
            raws.append(timed(bench, floor(bench, "--embed-file", str(source))))
            target.unlink(missing_ok=True)
            imports.append(timed(bench, memcli(target, "import", str(source))))
    finally:
        target.unlink(missing_ok=True)
    speed = [r.seconds / i.seconds for r, i in zip(raws, imports, strict=True)]
    return [
        f"{count:,}",
        f"{med(raws):.2f} ({count / med(raws):.0f}/s)",
        f"{med(imports):.2f} ({count / med(imports):.0f}/s)",
        f"{statistics.median(speed):.2f} ({min(speed):.2f}-{max(speed):.2f})",
        f"{med(raws, 'rss_mb'):.0f} / {med(imports, 'rss_mb'):.0f}",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--import-count", type=int, default=5000)
    add_common_args(parser)
    args = parser.parse_args(argv)
    from common import record, setup

    bench = setup(args, __file__, argv)
    started = time.time()
    rows = [measure_size(bench, size, args.runs) for size in args.sizes]
    imported = measure_import(bench, args.import_count, max(1, args.runs // 2))
    body = "\n".join(
        [
            f"Medians of {args.runs} alternating runs; ratios per run, median (min-max).",
            "",
            md_table(
                [
                    "memories",
                    "floor (s)",
                    "cold recall (s)",
                    "recall ÷ floor",
                    "first recall of the day (s)",
                    "÷ floor",
                    "cold add (s)",
                    "add ÷ floor",
                    "peak RSS floor / recall / add (MB)",
                    "store (MiB)",
                    "bytes per memory",
                ],
                rows,
            ),
            "",
            f"Import of new notes into a new store, {max(1, args.runs // 2)} alternating runs "
            "(wall time of the whole process on both sides):",
            "",
            md_table(
                [
                    "notes",
                    "raw fastembed (s)",
                    "memcli import (s)",
                    "import ÷ raw throughput",
                    "peak RSS raw / import (MB)",
                ],
                [imported],
            ),
        ]
    )
    record(bench, "speed and size at scale (cold commands, import)", body, started)


if __name__ == "__main__":
    main()
