"""SQL for the nightly consolidation: run reports, merge records, pairs kept apart."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import numpy as np

from memcli.records import FadingCandidate
from memcli.store.memories import from_db, to_db
from memcli.store.meta import bump_memories_version


@dataclass(frozen=True)
class Run:
    run_id: int
    started_at: datetime
    as_of: datetime
    seconds: float
    last_seq: int
    erased: bool
    report: dict[str, Any]


@dataclass(frozen=True)
class MergeRecord:
    merged_id: str
    keeper_id: str
    kind: str
    added_tags: list[str]
    added_reinforcements: int
    keeper_importance: int
    keeper_pinned: bool


def last_run(con: duckdb.DuckDBPyConnection) -> Run | None:
    found = recent_runs(con, 1)
    return found[0] if found else None


def recent_runs(con: duckdb.DuckDBPyConnection, limit: int) -> list[Run]:
    """The last `limit` runs, newest first."""
    rows = con.execute(
        "SELECT run_id, started_at, as_of, seconds, last_seq, erased, report FROM runs "
        "ORDER BY run_id DESC LIMIT ?",
        [limit],
    ).fetchall()
    found = []
    for row in rows:
        started, as_of = from_db(row[1]), from_db(row[2])
        assert started is not None and as_of is not None
        found.append(
            Run(
                int(row[0]),
                started,
                as_of,
                float(row[3]),
                int(row[4]),
                bool(row[5]),
                json.loads(row[6]),
            )
        )
    return found


def record_run(
    con: duckdb.DuckDBPyConnection,
    started_at: datetime,
    as_of: datetime,
    seconds: float,
    last_seq: int,
    erased: bool,
    report: dict[str, Any],
    schema: str = "",
) -> int:
    """Store a run's report (in the database `schema`, e.g. the copy of a rewrite)."""
    prefix = f"{schema}.main." if schema else ""
    row = con.execute(
        f"INSERT INTO {prefix}runs (started_at, as_of, seconds, last_seq, erased, report) "
        "VALUES (?, ?, ?, ?, ?, ?) RETURNING run_id",
        [to_db(started_at), to_db(as_of), seconds, last_seq, erased, json.dumps(report)],
    ).fetchone()
    assert row is not None
    return int(row[0])


def mark_run_erased(con: duckdb.DuckDBPyConnection, schema: str, run_id: int | None) -> None:
    """Record that the run rewrote the file, in the database `schema` (a rewrite's copy)."""
    con.execute(f"UPDATE {schema}.main.runs SET erased = true WHERE run_id = ?", [run_id])


def duplicate_groups(con: duckdb.DuckDBPyConnection) -> list[list[int]]:
    """Active memories sharing a normalised text, each group oldest first (by seq)."""
    rows = con.execute(
        """
        SELECT list(seq ORDER BY seq) FROM memories
        WHERE state = 'active'
        GROUP BY text_hash HAVING count(*) > 1
        """
    ).fetchall()
    return [list(map(int, r[0])) for r in rows]


def changed_seqs(
    con: duckdb.DuckDBPyConnection, after_seq: int, since: datetime | None
) -> list[int]:
    """Active memories added after `after_seq`, or changed after `since`."""
    condition = "seq > ?"
    params: list[Any] = [after_seq]
    if since is not None:
        condition += " OR updated_at > ?"
        params.append(to_db(since))
    rows = con.execute(
        f"SELECT seq FROM memories WHERE state = 'active' AND ({condition}) ORDER BY seq", params
    ).fetchall()
    return [int(r[0]) for r in rows]


def fading_candidates(con: duckdb.DuckDBPyConnection) -> list[FadingCandidate]:
    """Every active, unpinned memory, for decay."""
    return [
        FadingCandidate(int(seq), str(memory_id), int(importance), int(count), _aware(touched))
        for seq, memory_id, importance, count, touched in con.execute(
            "SELECT seq, id, importance, reinforcements, coalesce(reinforced_at, added_at) "
            "FROM memories WHERE state = 'active' AND NOT pinned"
        ).fetchall()
    ]


def _aware(value: datetime) -> datetime:
    moment = from_db(value)
    assert moment is not None  # from NOT NULL columns
    return moment


def still_fading(con: duckdb.DuckDBPyConnection, seqs: list[int]) -> dict[int, datetime]:
    """Of these memories, those still active and unpinned, with when they were last touched
    (a reinforcement since the plan was made saves a memory from archiving)."""
    rows = con.execute(
        "SELECT seq, coalesce(reinforced_at, added_at) FROM memories "
        "WHERE seq IN (SELECT unnest(?::INTEGER[])) AND state = 'active' AND NOT pinned",
        [seqs],
    ).fetchall()
    return {int(seq): touched.replace(tzinfo=UTC) for seq, touched in rows}


def all_vectors(
    con: duckdb.DuckDBPyConnection, model: str, dim: int, batch: int = 8192
) -> tuple[np.ndarray, np.ndarray]:
    """(seq per row, float32 matrix) of every chunk vector of `model`, ordered by seq and
    chunk, read a range of seqs at a time into one preallocated matrix (a whole-table fetch
    would hold the blobs, their joined bytes and DuckDB's cached blocks at once)."""
    row = con.execute(
        "SELECT coalesce(min(seq), 0), coalesce(max(seq), 0), count(*) FROM vectors "
        "WHERE model = ? AND octet_length(vec) = ?",
        [model, dim * 4],
    ).fetchone()
    assert row is not None
    low, high, count = (int(v) for v in row)
    seqs = np.empty(count, dtype=np.int64)
    matrix = np.empty((count, dim), dtype=np.float32)
    filled = 0
    for start in range(low, high + 1, batch):
        found = con.execute(
            "SELECT seq, vec FROM vectors WHERE model = ? AND octet_length(vec) = ? "
            "AND seq >= ? AND seq < ? ORDER BY seq, chunk",
            [model, dim * 4, start, start + batch],
        ).fetchnumpy()
        size = len(found["seq"])
        if size:
            end = min(filled + size, count)
            seqs[filled:end] = found["seq"][: end - filled]
            matrix[filled:end] = np.frombuffer(
                b"".join(found["vec"][: end - filled]), dtype=np.float32
            ).reshape(-1, dim)
            filled = end
    return seqs[:filled], matrix[:filled]


def max_seq(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT coalesce(max(seq), 0) FROM memories").fetchone()
    assert row is not None
    return int(row[0])


def active_seqs(con: duckdb.DuckDBPyConnection) -> np.ndarray:
    result = con.execute("SELECT seq FROM memories WHERE state = 'active'").fetchnumpy()
    return np.asarray(result["seq"], dtype=np.int64)


def add_merge(con: duckdb.DuckDBPyConnection, record: MergeRecord, at: datetime) -> None:
    con.execute(
        "INSERT INTO merges VALUES (?, ?, ?, ?, ?::VARCHAR[], ?, ?, ?)",
        [
            record.merged_id,
            record.keeper_id,
            to_db(at),
            record.kind,
            record.added_tags,
            record.added_reinforcements,
            record.keeper_importance,
            record.keeper_pinned,
        ],
    )


def merge_of(con: duckdb.DuckDBPyConnection, merged_id: str) -> MergeRecord | None:
    row = con.execute(
        "SELECT merged_id, keeper_id, kind, added_tags, added_reinforcements, "
        "keeper_importance, keeper_pinned FROM merges WHERE merged_id = ? "
        "ORDER BY merged_at DESC LIMIT 1",
        [merged_id],
    ).fetchone()
    if row is None:
        return None
    return MergeRecord(row[0], row[1], row[2], list(row[3]), int(row[4]), int(row[5]), bool(row[6]))


def absorbed_ids(con: duckdb.DuckDBPyConnection, keeper_id: str) -> list[str]:
    """The memories merged into `keeper_id`, in the order they were merged."""
    rows = con.execute(
        "SELECT merged_id FROM merges WHERE keeper_id = ? ORDER BY merged_at", [keeper_id]
    ).fetchall()
    return [str(r[0]) for r in rows]


def merge_into_keeper(
    con: duckdb.DuckDBPyConnection,
    keeper_seq: int,
    tags: list[str],
    added_reinforcements: int,
    reinforced_at: datetime,
    importance: int,
    pinned: bool,
    now: datetime,
) -> None:
    """Give the keeper of a merge what the merged memory brings (its tags, counts, and the
    higher importance and pin of the two)."""
    con.execute(
        "UPDATE memories SET tags = ?::VARCHAR[], reinforcements = reinforcements + ?, "
        "reinforced_at = ?, importance = ?, pinned = ?, updated_at = ? WHERE seq = ?",
        [
            tags,
            added_reinforcements,
            to_db(reinforced_at),
            importance,
            pinned,
            to_db(now),
            keeper_seq,
        ],
    )
    bump_memories_version(con)


def unmerge_keeper(
    con: duckdb.DuckDBPyConnection,
    keeper_seq: int,
    merge: MergeRecord,
    tags: list[str],
    now: datetime,
) -> None:
    """Take back from the keeper what `merge` brought: its counts, and the importance and pin
    the keeper had before; `tags` are the keeper's tags without those the merge added."""
    con.execute(
        "UPDATE memories SET tags = ?::VARCHAR[], "
        "reinforcements = greatest(reinforcements - ?, 0), importance = ?, "
        "pinned = ?, updated_at = ? WHERE seq = ?",
        [
            tags,
            merge.added_reinforcements,
            merge.keeper_importance,
            merge.keeper_pinned,
            to_db(now),
            keeper_seq,
        ],
    )
    bump_memories_version(con)


def drop_merge(con: duckdb.DuckDBPyConnection, merged_id: str) -> None:
    con.execute("DELETE FROM merges WHERE merged_id = ?", [merged_id])


def keep_apart(con: duckdb.DuckDBPyConnection, first_id: str, second_id: str) -> None:
    """Remember that a user separated these two: consolidation never pairs them again."""
    first, second = sorted((first_id, second_id))
    con.execute(
        "INSERT INTO kept_apart SELECT ?, ? WHERE NOT EXISTS "
        "(SELECT 1 FROM kept_apart WHERE first_id = ? AND second_id = ?)",
        [first, second, first, second],
    )


def kept_apart_pairs(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    return {(str(a), str(b)) for a, b in con.execute("SELECT * FROM kept_apart").fetchall()}
