"""Running the app under Pilot: a frozen clock, and waiting until every worker is done."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input
from textual.worker import WorkerCancelled

from memcli.records import Memory
from memcli.service.context import Context
from memcli.store import memories as rows
from memcli.store.connection import open_store
from memcli.tui.app import MemcliApp
from memcli.tui.backend import Browser
from memcli.tui.screens.main import MainScreen
from memcli.tui.settings import load_tui_settings
from tests.tui.fixed_store import frozen_context

SIZE = (110, 32)


def make_app(pick: bool = False, ctx: Context | None = None) -> MemcliApp:
    ctx = ctx or frozen_context()
    settings = load_tui_settings(ctx.settings)
    return MemcliApp(Browser(ctx, settings.limit), settings, pick)


@contextlib.asynccontextmanager
async def started(
    query: str | None = None, *, pick: bool = False, notifications: bool = False
) -> AsyncIterator[Pilot[Any]]:
    """The app on the fixed store, settled, with `query` in the search box if given."""
    app = make_app(pick)
    async with app.run_test(size=SIZE, notifications=notifications) as pilot:
        await settle(pilot)
        if query is not None:
            await set_query(pilot, query)
        yield pilot


def run_async(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test with asyncio (no pytest plugin needed); fixtures still work."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


async def settle(pilot: Pilot[Any], but: str | None = None) -> None:
    """Wait until no worker runs (except those of group `but`) and the messages they
    posted have been handled."""
    app = pilot.app

    def running() -> list[Any]:
        return [w for w in app.workers if w.is_running and w.group != but]

    for _ in range(100):
        busy = running()
        if busy:  # (an empty list would mean every worker)
            with contextlib.suppress(WorkerCancelled):  # cancelled meanwhile: look again
                await app.workers.wait_for_complete(busy)
        await pilot.pause()
        if not running():
            await pilot.pause()
            if not running():
                return
    raise AssertionError("workers kept running")


def main_screen(app: Any) -> MainScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, MainScreen)
    return screen


def shown_ids(app: MemcliApp) -> list[str]:
    return [row.memory.id for row in main_screen(app).results.rows]


async def type_query(pilot: Pilot[Any], text: str) -> None:
    """Type `text` key by key into the search input, then wait for the search."""
    await pilot.press(*[{" ": "space"}.get(c, c) for c in text])
    await settle(pilot)


async def set_query(pilot: Pilot[Any], text: str, but: str | None = None) -> None:
    """Put `text` in the search input at once (like a paste), then wait for the search.
    Quicker than typing: Pilot waits for the process to go idle after every key."""
    main_screen(pilot.app).query_one("#search", Input).value = text
    await settle(pilot, but)


def stored(ctx: Context, memory_id: str) -> Memory | None:
    """The memory as the store has it now (read with a connection of our own)."""
    with open_store(ctx.settings.db_path, write=False) as store:
        return rows.get(store.con, memory_id)
