"""consolidate (with its file rewrite) while `memcli add` and `memcli recall` run: no lost
write, no crash; the others wait or retry."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import duckdb


def _memcli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "memcli", *args], capture_output=True, text=True, timeout=120
    )


def test_adds_and_recalls_survive_consolidation_rewrites(store_path: Path) -> None:
    assert _memcli("add", "the first note, so the store exists").returncode == 0
    failures: list[str] = []

    def nightly() -> None:
        for cycle in range(3):
            added = _memcli("-q", "add", f"a throwaway secret number {cycle}")
            forgot = _memcli("forget", "-y", added.stdout.strip())
            run = _memcli("--json", "consolidate")  # forget left erasure to do: a rewrite
            for result in (added, forgot, run):
                if result.returncode != 0:
                    failures.append(f"{result.args[3:]}: {result.returncode} {result.stderr}")

    job = threading.Thread(target=nightly)
    job.start()
    printed = []
    for i in range(12):
        result = _memcli("-q", "add", f"note {i} written during the nightly job")
        assert result.returncode == 0 and "Traceback" not in result.stderr, result
        printed.append(result.stdout.strip())
        recall = _memcli("--json", "recall", f"note {i}", "--mode", "keyword")
        assert recall.returncode == 0 and "Traceback" not in recall.stderr, recall
    job.join()
    assert failures == []

    con = duckdb.connect(str(store_path), read_only=True)
    try:
        stored = {r[0] for r in con.execute("SELECT id FROM memories").fetchall()}
        erased = con.execute("SELECT value FROM meta WHERE key = 'needs_erasure'").fetchone()
    finally:
        con.close()
    assert set(printed) <= stored
    assert len(stored) == 13  # the first note and the twelve; the throwaways were forgotten
    assert erased == ("0",)
