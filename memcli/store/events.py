"""SQL for the `events` table: each memory's history (never its text)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import duckdb

from memcli.records import Event
from memcli.store.memories import from_db, to_db


def add_event(
    con: duckdb.DuckDBPyConnection,
    memory_id: str,
    at: datetime,
    kind: str,
    detail: str | None = None,
) -> None:
    con.execute("INSERT INTO events VALUES (?, ?, ?, ?)", [memory_id, to_db(at), kind, detail])


def add_events(
    con: duckdb.DuckDBPyConnection,
    memory_ids: Sequence[str],
    at: datetime,
    kind: str,
    detail: str | Sequence[str] | None = None,
) -> None:
    """The same kind of event for many memories at once (one detail for all, or one each)."""
    if not memory_ids:
        return
    if detail is None or isinstance(detail, str):
        con.execute(
            "INSERT INTO events SELECT unnest(?::VARCHAR[]), ?, ?, ?",
            [list(memory_ids), to_db(at), kind, detail],
        )
    else:
        con.execute(
            "INSERT INTO events SELECT unnest(?::VARCHAR[]), ?, ?, unnest(?::VARCHAR[])",
            [list(memory_ids), to_db(at), kind, list(detail)],
        )


def add_forgotten_by_agent(
    con: duckdb.DuckDBPyConnection, ids: Sequence[str], at: datetime, origin: str, reason: str
) -> None:
    """What an agent forgot: ids, when, which client and why (never the text)."""
    con.execute(
        "INSERT INTO forgotten_by_agents SELECT unnest(?::VARCHAR[]), ?, ?, ?",
        [list(ids), to_db(at), origin, reason],
    )


def forgotten_by_agent(con: duckdb.DuckDBPyConnection, memory_id: str) -> Event | None:
    """How an agent forgot `memory_id` (kind "forgotten", detail "by=CLIENT reason=WHY")."""
    row = con.execute(
        "SELECT forgot_at, origin, reason FROM forgotten_by_agents WHERE id = ? "
        "ORDER BY forgot_at DESC",
        [memory_id],
    ).fetchone()
    if row is None:
        return None
    at = from_db(row[0]) or datetime.min.replace(tzinfo=UTC)
    return Event(memory_id, at, "forgotten", f"by={row[1]} reason={row[2]}")


def events(con: duckdb.DuckDBPyConnection, memory_id: str) -> list[Event]:
    """A memory's history, oldest first."""
    rows = con.execute(
        "SELECT memory_id, event_at, kind, detail FROM events WHERE memory_id = ? "
        "ORDER BY event_at, rowid",
        [memory_id],
    ).fetchall()
    return [
        Event(r[0], from_db(r[1]) or datetime.min.replace(tzinfo=UTC), r[2], r[3]) for r in rows
    ]
