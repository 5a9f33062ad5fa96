"""Shared helpers for the CLI tests: adding memories, snapshots of the store, error checks."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import duckdb

ID_RE = re.compile(r"[0-9a-z]{8}")

# Unrelated notes that make a store look like a real one: BM25's idf is only positive for a
# term found in fewer than half of the memories, so keyword tests need some background.
# Their words are in the tiny model's vocabulary (tests/support/tiny_model.py), so they embed
# far from the test queries (out-of-vocabulary words embed as bags of letters, all alike).
FILLERS = (
    "bought milk and bread at the market",
    "the train to the station was late",
    "pay the insurance bill this month",
    "watched a movie with the kids",
    "the printer on the office network is broken",
)
# A query that no memory in these tests is about (its cosine to every text stays low).
UNRELATED_QUERY = "kubernetes cluster upgrade"


def add(cli: Any, text: str, *options: str) -> str:
    """`memcli add TEXT OPTIONS...`; asserts success and returns the printed id."""
    result = cli("add", text, *options)
    assert result.code == 0, result
    memory_id = result.stdout.strip()
    assert ID_RE.fullmatch(memory_id), result
    return memory_id


def add_fillers(cli: Any) -> list[str]:
    return [add(cli, text) for text in FILLERS]


def export_all(cli: Any) -> list[dict[str, Any]]:
    """Every memory (active and archived) as the JSON export shows it."""
    result = cli("--json", "export", "--all")
    assert result.code == 0, result
    documents: list[dict[str, Any]] = result.json()
    return documents


def by_id(cli: Any) -> dict[str, dict[str, Any]]:
    return {doc["id"]: doc for doc in export_all(cli)}


def snapshot(cli: Any, store: Path) -> str | None:
    """What a user could observe of the store: None when there is no store file yet."""
    if not store.exists():
        return None
    result = cli("export", "--all")
    assert result.code == 0, result
    return result.stdout


def recall_ids(cli: Any, query: str, *options: str) -> list[str]:
    """Ids returned by `memcli --json recall QUERY OPTIONS...` (best first)."""
    result = cli("--json", "recall", query, *options)
    assert result.code == 0, result
    return [hit["id"] for hit in result.json()]


def assert_clean_error(result: Any, code: int, *fragments: str) -> None:
    """A failed command: the exit code, a 1-2 line message on stderr, nothing on stdout."""
    assert result.code == code, result
    assert "Traceback" not in result.stderr, result
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, result
    assert lines[0].startswith("memcli: error:"), result
    for fragment in fragments:
        assert fragment.lower() in result.stderr.lower(), (fragment, result)
    assert result.stdout == "", result


def query_db(path: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Run a query on the store read-only, closing the connection afterwards."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def jsonl(*documents: dict[str, Any]) -> str:
    return "".join(json.dumps(doc) + "\n" for doc in documents)


def store_file_bytes(store_path: Path) -> bytes:
    """The bytes of every file of the store: the database, its WAL and DuckDB's other
    companions (.wal.checkpoint, .wal.recovery, .tmp), and any leftover rewrite."""
    folder = store_path.parent
    files = sorted(folder.glob(store_path.name + "*")) + sorted(folder.glob(f".{store_path.name}*"))
    return b"".join(p.read_bytes() for p in files if p.is_file())
