"""SQL for memory rows (their history is in memcli.store.events)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import numpy as np

from memcli.records import Memory
from memcli.store.filters import Filters as Filters  # re-exported: most callers import it here
from memcli.store.filters import to_db as to_db
from memcli.store.meta import bump_memories_version, bump_vectors_version

_COLUMNS = (
    "seq, id, text, tags, created_at, added_at, updated_at, importance, pinned, state, "
    "source, superseded_by, reinforced_at, reinforcements, origin, reviewed_at"
)


def from_db(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


def _memory(row: tuple[Any, ...]) -> Memory:
    created, added, updated, reinforced = (from_db(v) for v in (row[4], row[5], row[6], row[12]))
    assert created is not None and added is not None and updated is not None
    return Memory(
        seq=row[0],
        id=row[1],
        text=row[2],
        tags=list(row[3]),
        created_at=created,
        added_at=added,
        updated_at=updated,
        importance=row[7],
        pinned=row[8],
        state=row[9],
        source=row[10],
        superseded_by=row[11],
        reinforced_at=reinforced,
        reinforcements=row[13],
        origin=row[14],
        reviewed_at=from_db(row[15]),
    )


_SEQ_IN = "seq IN (SELECT unnest(?::INTEGER[]))"
_TAG_SEPARATOR = "\x1f"  # never inside a tag (tags hold no whitespace)


def insert(con: duckdb.DuckDBPyConnection, memory: Memory, text_hash: str, doc_len: int) -> int:
    """Insert a new memory row and return its seq."""
    return insert_many(con, [memory], [text_hash], [doc_len])[memory.id]


def insert_many(
    con: duckdb.DuckDBPyConnection,
    memories: Sequence[Memory],
    text_hashes: Sequence[str],
    doc_lens: Sequence[int],
) -> dict[str, int]:
    """Insert new memory rows in one statement; returns {id: seq}."""
    if not memories:
        return {}
    columns: list[list[Any]] = [
        [m.id for m in memories],
        [m.text for m in memories],
        list(text_hashes),
        [_TAG_SEPARATOR.join(m.tags) for m in memories],
        [to_db(m.created_at) for m in memories],
        [to_db(m.added_at) for m in memories],
        [to_db(m.updated_at) for m in memories],
        [m.importance for m in memories],
        [m.pinned for m in memories],
        [m.state for m in memories],
        [m.source for m in memories],
        [m.superseded_by for m in memories],
        [None if m.reinforced_at is None else to_db(m.reinforced_at) for m in memories],
        [m.reinforcements for m in memories],
        list(doc_lens),
    ]
    # Provenance (schema 6) only when a memory has some: the columns default to NULL.
    provenance = any(m.origin is not None or m.reviewed_at is not None for m in memories)
    if provenance:
        columns.append([m.origin for m in memories])
        columns.append([None if m.reviewed_at is None else to_db(m.reviewed_at) for m in memories])
    extra = ", origin, reviewed_at" if provenance else ""
    given = (
        ", unnest(?::VARCHAR[]) AS origin, unnest(?::TIMESTAMP[]) AS reviewed_at"
        if provenance
        else ""
    )
    rows = con.execute(
        f"""
        INSERT INTO memories (id, text, text_hash, tags, created_at, added_at, updated_at,
            importance, pinned, state, source, superseded_by, reinforced_at, reinforcements,
            doc_len{extra})
        SELECT id, text, text_hash,
               CASE WHEN tags = '' THEN []::VARCHAR[] ELSE string_split(tags, chr(31)) END,
               created_at, added_at, updated_at, importance, pinned, state, source,
               superseded_by, reinforced_at, reinforcements, doc_len{extra}
        FROM (SELECT unnest(?::VARCHAR[]) AS id, unnest(?::VARCHAR[]) AS text,
                     unnest(?::VARCHAR[]) AS text_hash, unnest(?::VARCHAR[]) AS tags,
                     unnest(?::TIMESTAMP[]) AS created_at, unnest(?::TIMESTAMP[]) AS added_at,
                     unnest(?::TIMESTAMP[]) AS updated_at, unnest(?::TINYINT[]) AS importance,
                     unnest(?::BOOLEAN[]) AS pinned, unnest(?::VARCHAR[]) AS state,
                     unnest(?::VARCHAR[]) AS source, unnest(?::VARCHAR[]) AS superseded_by,
                     unnest(?::TIMESTAMP[]) AS reinforced_at,
                     unnest(?::INTEGER[]) AS reinforcements,
                     unnest(?::INTEGER[]) AS doc_len{given})
        RETURNING id, seq
        """,
        columns,
    ).fetchall()
    bump_memories_version(con)
    return {str(memory_id): int(seq) for memory_id, seq in rows}


def id_exists(con: duckdb.DuckDBPyConnection, memory_id: str) -> bool:
    return con.execute("SELECT 1 FROM memories WHERE id = ?", [memory_id]).fetchone() is not None


def ids_with_prefix(con: duckdb.DuckDBPyConnection, prefix: str, limit: int = 6) -> list[str]:
    rows = con.execute(
        "SELECT id FROM memories WHERE starts_with(id, ?) ORDER BY id LIMIT ?", [prefix, limit]
    ).fetchall()
    return [r[0] for r in rows]


def get(con: duckdb.DuckDBPyConnection, memory_id: str) -> Memory | None:
    row = con.execute(f"SELECT {_COLUMNS} FROM memories WHERE id = ?", [memory_id]).fetchone()
    return None if row is None else _memory(row)


def get_by_seqs(con: duckdb.DuckDBPyConnection, seqs: Sequence[int]) -> dict[int, Memory]:
    if not seqs:
        return {}
    rows = con.execute(
        f"SELECT {_COLUMNS} FROM memories WHERE {_few_seqs(seqs)}", [list(seqs)]
    ).fetchall()
    return {row[0]: _memory(row) for row in rows}


def _few_seqs(seqs: Sequence[int]) -> str:
    """The WHERE condition (one list parameter) matching the memories with these seqs.

    `memories` has no index on seq (m004). A few rows (recall's hits): a filter in the scan,
    which reads the other columns of the matching rows only (6 ms for 10 rows at 100,000
    memories, against 22 ms for a join, which reads every row's text; an UPDATE of 10 rows
    16 ms instead of 29). The filter costs a comparison per row and wanted seq, so many
    rows take the join."""
    return "list_contains(?::INTEGER[], seq)" if len(seqs) <= 32 else _SEQ_IN


def find_by_hash(con: duckdb.DuckDBPyConnection, text_hash: str) -> Memory | None:
    """The oldest memory with this text hash. The hash column alone is scanned: `add` asks
    for every new text, and a row's other columns are read only when there is one (at
    100,000 memories 3 ms, against 6 for a scan of every column ordered by seq)."""
    row = con.execute("SELECT min(seq) FROM memories WHERE text_hash = ?", [text_hash]).fetchone()
    if row is None or row[0] is None:
        return None
    return get_by_seqs(con, [int(row[0])]).get(int(row[0]))


def hashes_present(con: duckdb.DuckDBPyConnection, hashes: Sequence[str]) -> set[str]:
    rows = con.execute(
        "SELECT DISTINCT text_hash FROM memories WHERE text_hash IN (SELECT unnest(?))",
        [list(hashes)],
    ).fetchall()
    return {r[0] for r in rows}


def ids_present(con: duckdb.DuckDBPyConnection, ids: Sequence[str]) -> set[str]:
    rows = con.execute(
        "SELECT id FROM memories WHERE id IN (SELECT unnest(?))", [list(ids)]
    ).fetchall()
    return {r[0] for r in rows}


def matching_seqs(con: duckdb.DuckDBPyConnection, filters: Filters) -> np.ndarray:
    """The seq of every memory passing `filters` (int64, in no particular order)."""
    where, params = filters.sql()
    result = con.execute(f"SELECT seq FROM memories m WHERE {where}", params).fetchnumpy()
    return np.asarray(result["seq"], dtype=np.int64)


def count(con: duckdb.DuckDBPyConnection, filters: Filters) -> int:
    where, params = filters.sql("m")
    row = con.execute(f"SELECT count(*) FROM memories m WHERE {where}", params).fetchone()
    return int(row[0]) if row else 0


def newest_ids_with_prefix(
    con: duckdb.DuckDBPyConnection, prefix: str, limit: int
) -> list[tuple[str, str]]:
    """(id, text) of the newest memories whose id starts with `prefix` (completion)."""
    rows = con.execute(
        "SELECT id, text FROM memories WHERE starts_with(id, ?) ORDER BY seq DESC LIMIT ?",
        [prefix, limit],
    ).fetchall()
    return [(str(i), str(t)) for i, t in rows]


def tags_with_prefix(con: duckdb.DuckDBPyConnection, prefix: str, limit: int) -> list[str]:
    """Tags in use that start with `prefix`, the most used first (completion)."""
    rows = con.execute(
        "SELECT tag FROM (SELECT unnest(tags) AS tag FROM memories) "
        "WHERE starts_with(tag, ?) GROUP BY tag ORDER BY count(*) DESC, tag LIMIT ?",
        [prefix, limit],
    ).fetchall()
    return [str(r[0]) for r in rows]


def all_texts(con: duckdb.DuckDBPyConnection) -> Iterator[str]:
    """Every memory's text (active or not), read in batches."""
    cursor = con.execute("SELECT text FROM memories")
    while batch := cursor.fetchmany(10_000):
        yield from (str(row[0]) for row in batch)


def all_seqs(con: duckdb.DuckDBPyConnection) -> list[int]:
    """The seq of every memory, in no particular order."""
    return [int(seq) for (seq,) in con.execute("SELECT seq FROM memories").fetchall()]


def select(
    con: duckdb.DuckDBPyConnection, filters: Filters, order_by: str, limit: int | None
) -> list[Memory]:
    where, params = filters.sql()
    sql = f"SELECT {_COLUMNS} FROM memories m WHERE {where} ORDER BY {order_by}"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [_memory(row) for row in con.execute(sql, params).fetchall()]


def update_text(
    con: duckdb.DuckDBPyConnection,
    seq: int,
    text: str,
    text_hash: str,
    doc_len: int,
    now: datetime,
) -> None:
    con.execute(
        "UPDATE memories SET text = ?, text_hash = ?, doc_len = ?, updated_at = ? WHERE seq = ?",
        [text, text_hash, doc_len, to_db(now), seq],
    )
    bump_memories_version(con)


def update_fields(con: duckdb.DuckDBPyConnection, seq: int, now: datetime, **fields: Any) -> None:
    """Set plain columns (tags, importance, pinned, state, superseded_by, created_at,
    reviewed_at)."""
    allowed = {
        *("tags", "importance", "pinned", "state", "superseded_by", "created_at"),
        "reviewed_at",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not an updatable column: {sorted(unknown)}")
    assignments = ", ".join(
        f"{name} = ?::VARCHAR[]" if name == "tags" else f"{name} = ?" for name in fields
    )
    values = [to_db(v) if isinstance(v, datetime) else v for v in fields.values()]
    con.execute(
        f"UPDATE memories SET {assignments}, updated_at = ? WHERE seq = ?",
        [*values, to_db(now), seq],
    )
    bump_memories_version(con)


def due_for_reinforcement(memory: Memory, now: datetime) -> bool:
    """Whether `reinforce` would count one for the memory as read (the same rule, in Python:
    callers skip the write when no memory is due; `reinforce` checks again in SQL)."""
    return memory.reinforced_at is None or memory.reinforced_at <= now - timedelta(days=1)


def reinforce(con: duckdb.DuckDBPyConnection, seqs: Sequence[int], now: datetime) -> list[int]:
    """Count one reinforcement for each memory not already reinforced in the last day."""
    if not seqs:
        return []
    rows = con.execute(
        f"""
        UPDATE memories SET reinforcements = reinforcements + 1, reinforced_at = ?
        WHERE {_few_seqs(seqs)}
          AND (reinforced_at IS NULL OR reinforced_at <= ? - INTERVAL 1 DAY)
        RETURNING seq
        """,
        [to_db(now), list(seqs), to_db(now)],
    ).fetchall()
    if rows:
        bump_memories_version(con)
    return [r[0] for r in rows]


def count_reinforcement(con: duckdb.DuckDBPyConnection, seq: int, now: datetime) -> None:
    """Count one reinforcement, however recent the last one (the text was added again)."""
    con.execute(
        "UPDATE memories SET reinforcements = reinforcements + 1, reinforced_at = ? WHERE seq = ?",
        [to_db(now), seq],
    )
    bump_memories_version(con)


def reactivate(con: duckdb.DuckDBPyConnection, seq: int, now: datetime) -> None:
    """Make a memory active again, superseded by none, its decay restarting `now`."""
    con.execute(
        "UPDATE memories SET state = 'active', superseded_by = NULL, reinforced_at = ?, "
        "updated_at = ? WHERE seq = ?",
        [to_db(now), to_db(now), seq],
    )
    bump_memories_version(con)


def delete(con: duckdb.DuckDBPyConnection, seqs: Sequence[int]) -> None:
    """Remove memories with their history, postings and vectors, and unlink supersessions."""
    ids = [
        r[0]
        for r in con.execute(
            "SELECT id FROM memories WHERE seq IN (SELECT unnest(?::INTEGER[]))", [list(seqs)]
        ).fetchall()
    ]
    params = [list(seqs)]
    con.execute("DELETE FROM postings WHERE seq IN (SELECT unnest(?::INTEGER[]))", params)
    con.execute("DELETE FROM vectors WHERE seq IN (SELECT unnest(?::INTEGER[]))", params)
    bump_vectors_version(con)
    con.execute("DELETE FROM events WHERE memory_id IN (SELECT unnest(?))", [ids])
    con.execute(
        "UPDATE memories SET superseded_by = NULL WHERE superseded_by IN (SELECT unnest(?))",
        [ids],
    )
    # Merge records and kept-apart pairs name the memory (and hold its tags): they go too.
    con.execute(
        "DELETE FROM merges WHERE merged_id IN (SELECT unnest(?)) "
        "OR keeper_id IN (SELECT unnest(?))",
        [ids, ids],
    )
    con.execute(
        "DELETE FROM kept_apart WHERE first_id IN (SELECT unnest(?)) "
        "OR second_id IN (SELECT unnest(?))",
        [ids, ids],
    )
    con.execute("DELETE FROM memories WHERE seq IN (SELECT unnest(?::INTEGER[]))", params)
    bump_memories_version(con)


def archive_many(con: duckdb.DuckDBPyConnection, seqs: Sequence[int], now: datetime) -> None:
    con.execute(
        "UPDATE memories SET state = 'archived', updated_at = ? "
        "WHERE seq IN (SELECT unnest(?::INTEGER[]))",
        [to_db(now), list(seqs)],
    )
    bump_memories_version(con)


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    row = con.execute(
        """
        SELECT count(*),
               count(*) FILTER (WHERE state = 'active'),
               count(*) FILTER (WHERE state = 'archived'),
               count(*) FILTER (WHERE pinned),
               (SELECT count(*) FROM events)
        FROM memories
        """
    ).fetchone()
    assert row is not None
    return dict(
        zip(("total", "active", "archived", "pinned", "events"), map(int, row), strict=True)
    )


def source_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    rows = con.execute(
        "SELECT source, count(*) FROM memories GROUP BY source ORDER BY 1"
    ).fetchall()
    return {r[0]: int(r[1]) for r in rows}


def repeated_keys(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(ids, seqs) held by more than one memory, counted as rows beyond the first of each."""
    row = con.execute(
        "SELECT count(*) - count(DISTINCT id), count(*) - count(DISTINCT seq) FROM memories"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])
