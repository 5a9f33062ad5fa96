"""Shell completion of values: memory ids (with the start of their text), tags, and the
closed sets of --mode, --sort, --format, --kind and --from.

These run on every Tab in a shell, so they read the store read-only and briefly, and any
failure (no store, a locked or encrypted one) completes nothing rather than printing."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from memcli.store.memories import newest_ids_with_prefix, tags_with_prefix

if TYPE_CHECKING:
    import duckdb

T = TypeVar("T")

MODES = ("hybrid", "keyword", "semantic")
SORTS = ("created", "recalled", "strength")
FORMATS = ("jsonl", "md")
KINDS = ("cron", "systemd", "launchd")
IMPORT_FORMATS = ("jsonl", "markdown", "jrnl", "mem0", "mcp-memory")
_MOST = 50  # what a shell shows before it asks "display all?"


def choices(values: tuple[str, ...]) -> Callable[[str], list[str]]:
    def complete(incomplete: str) -> list[str]:
        return [v for v in values if v.startswith(incomplete)]

    return complete


def memory_ids(incomplete: str) -> list[tuple[str, str]]:
    """Ids that start with what is typed, newest first, with their text's first words."""
    found = _from_store(lambda con: newest_ids_with_prefix(con, incomplete.lower(), _MOST))
    return [(memory_id, " ".join(text.split())[:60]) for memory_id, text in found]


def tags(incomplete: str) -> list[str]:
    """Tags in use that start with what is typed, the most used first."""
    typed = incomplete.lstrip("#").lower()
    return _from_store(lambda con: tags_with_prefix(con, typed, _MOST))


def _from_store(read: Callable[[duckdb.DuckDBPyConnection], list[T]]) -> list[T]:
    """What `read` finds in the default store (completion does not see --db)."""
    try:
        from memcli.config import load_settings
        from memcli.store.connection import open_store

        settings = load_settings()
        if not settings.db_path.exists():
            return []
        with open_store(settings.db_path, write=False, lock_timeout=0.5) as store:
            return read(store.con)
    except Exception:  # a completion never prints an error into the shell
        return []
