"""Read-only looks for the terminal browser: a memory's detail without reinforcing it.

The TUI previews whichever memory the cursor is on; only opening one (Enter, pick, copy)
goes through `reading.show`, which counts as a reinforcement.
"""

from __future__ import annotations

from memcli.service.context import Context
from memcli.service.lookup import resolve
from memcli.service.reading import Shown
from memcli.store import events as event_log


def peek(ctx: Context, ref: str) -> Shown:
    """One memory with its history, read-only (no reinforcement, no write lock)."""
    with ctx.store(write=False) as store:
        memory = resolve(store.con, ref)
        return Shown(memory, event_log.events(store.con, memory.id))
