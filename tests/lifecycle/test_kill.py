"""`memcli consolidate` killed with SIGKILL at random moments: the store opens, passes its
checks, and no memory is lost.

CI runs a few moments; MEMCLI_TEST_PROFILE=full runs 20 (see README, Testing)."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from memcli.store.connection import rewrite_leftovers

MOMENTS = 20 if os.environ.get("MEMCLI_TEST_PROFILE") == "full" else 6
AS_OF = "2031-01-01"  # years later: decay archives, so the run has every kind of work


def _memcli(db: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "memcli", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _build(db: Path, tmp: Path) -> set[str]:
    """1,500 memories with 150 duplicated texts, 30 forgotten (so the run also rewrites)."""
    lines = []
    for i in range(1500):
        j = i if i < 1350 else i - 1350  # the last 150 repeat earlier texts
        text = f"note {j} about project {j % 97} on host 10.0.{j % 7}.{j % 250}"
        lines.append(
            {
                "id": f"k{i:07d}",
                "text": text,
                "importance": 1 + i % 3,
                "created_at": "2026-01-01T00:00:00Z",
            }
        )
    source = tmp / "seed.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert _memcli(db, "import", str(source)).returncode == 0
    forgotten = [f"k{i:07d}" for i in range(0, 300, 10)]
    result = _memcli(db, "forget", "-y", *forgotten)
    assert result.returncode == 0, result.stderr
    return {line["id"] for line in lines} - set(forgotten)


def _check(db: Path, expected: set[str]) -> None:
    """The store opens, every table reads, and every memory is there (active or archived)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        ids = {r[0] for r in con.execute("SELECT id FROM memories").fetchall()}
        assert ids == expected
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            con.execute(f'SELECT count(*) FROM "{table}"').fetchall()
        orphans = con.execute(
            "SELECT count(*) FROM postings WHERE seq NOT IN (SELECT seq FROM memories)"
        ).fetchone()
        assert orphans == (0,)
    finally:
        con.close()


def test_killed_consolidate_loses_nothing(tmp_path: Path) -> None:
    pristine = tmp_path / "pristine.duckdb"
    expected = _build(pristine, tmp_path)
    timed = tmp_path / "timed.duckdb"
    shutil.copy(pristine, timed)
    started = time.monotonic()
    full = _memcli(timed, "--json", "consolidate", "--as-of", AS_OF)
    duration = time.monotonic() - started
    assert full.returncode == 0, full.stderr
    report = json.loads(full.stdout)
    assert report["merged"] and report["archived"] and report["erase"]

    rng = random.Random(20261121)
    for moment in range(MOMENTS):
        db = tmp_path / f"kill-{moment}.duckdb"
        shutil.copy(pristine, db)
        process = subprocess.Popen(
            [sys.executable, "-m", "memcli", "--db", str(db), "consolidate", "--as-of", AS_OF],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.2, duration))
        process.send_signal(signal.SIGKILL)
        process.wait()
        _check(db, expected)
        # The next run finishes the work and clears what the killed one left behind.
        again = _memcli(db, "--json", "consolidate", "--as-of", AS_OF)
        assert again.returncode == 0, again.stderr
        _check(db, expected)
        assert rewrite_leftovers(db) == []
        db.unlink()
