"""Finding memories by id or unique id prefix."""

from __future__ import annotations

import duckdb

from memcli.errors import AmbiguousId, NotFound, UsageError
from memcli.ids import MIN_PREFIX
from memcli.records import Memory
from memcli.store import memories as rows


def resolve(con: duckdb.DuckDBPyConnection, ref: str) -> Memory:
    """The memory whose id is `ref` or starts with it (at least 4 characters)."""
    ref = ref.strip().lower()
    exact = rows.get(con, ref)
    if exact is not None:
        return exact
    if len(ref) < MIN_PREFIX:
        raise UsageError(
            f"id prefix {ref!r} is too short", f"give at least {MIN_PREFIX} characters of the id"
        )
    matches = rows.ids_with_prefix(con, ref)
    if not matches:
        raise NotFound(
            f"no memory with id {ref!r}", "memcli list shows ids; memcli recall finds them"
        )
    if len(matches) > 1:
        shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
        raise AmbiguousId(
            f"id prefix {ref!r} matches several memories: {shown}", "type more of the id"
        )
    found = rows.get(con, matches[0])
    assert found is not None
    return found


def resolve_all(con: duckdb.DuckDBPyConnection, refs: list[str]) -> list[Memory]:
    """Resolve every ref (all must exist), without repeats, in the order given."""
    seen: dict[str, Memory] = {}
    for ref in refs:
        memory = resolve(con, ref)
        seen.setdefault(memory.id, memory)
    return list(seen.values())
