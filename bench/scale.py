"""Cold recall at scale, next to the floor set by the work itself.

Builds deterministic synthetic stores of note-like memories (cached under bench/.cache),
then times, alternately and in fresh processes:
  floor   python starts, imports fastembed and duckdb, loads the same model, embeds one
          query and opens the store read-only (bench/floor.py)
  recall  `memcli recall QUERY` as a user types it
Needs the real all-MiniLM-L6-v2 in ../shared/models.

    python bench/scale.py --sizes 10000 100000 --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
MODEL = HERE.parent.parent / "shared" / "models" / "all-MiniLM-L6-v2-onnx"

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


def build(size: int) -> Path:
    db = CACHE / f"scale-{size}.duckdb"
    if db.exists():
        return db
    rng = random.Random(size)
    lines = [json.dumps({"text": f"{note(rng)} (#{i})"}) for i in range(size)]
    source = CACHE / f"scale-{size}.jsonl"
    source.write_text("\n".join(lines) + "\n")
    started = time.time()
    tmp = db.with_name(db.name + ".building")
    tmp.unlink(missing_ok=True)
    _memcli("--db", str(tmp), "import", str(source))
    tmp.rename(db)
    print(f"built {db.name} in {time.time() - started:.0f}s", file=sys.stderr)
    return db


def _memcli(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "memcli", *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _floor(db: Path, query: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(HERE / "floor.py"), str(db), query],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not (MODEL / "model.onnx").exists():
        sys.exit(f"skipped: the real model is not at {MODEL}")
    CACHE.mkdir(parents=True, exist_ok=True)
    os.environ["MEMCLI_HOME"] = str(CACHE / "home")
    os.environ["MEMCLI_MODEL_PATH"] = str(MODEL)
    print("| memories | floor (s, median) | cold recall (s, median) | ratio |")
    print("|---:|---:|---:|---:|")
    for size in args.sizes:
        db = build(size)
        floors, recalls = [], []
        for run in range(args.runs):
            query = QUERIES[run % len(QUERIES)]
            floors.append(_floor(db, query))
            # --json so the timing does not depend on the terminal; the store is reinforced
            # by each recall, as for a user.
            recalls.append(_memcli("--db", str(db), "--json", "recall", query))
        f, r = statistics.median(floors), statistics.median(recalls)
        print(f"| {size:,} | {f:.3f} | {r:.3f} | {r / f:.2f} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
