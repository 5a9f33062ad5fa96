"""Errors in the TUI's actions become notifications; the app keeps running, nothing changes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from textual.widgets._toast import Toast

from memcli.tui.backend import Browser
from tests.tui.fixed_store import frozen_context
from tests.tui.helpers import main_screen, run_async, set_query, settle, started, stored

HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.readline()
"""


def _toasts(app: Any) -> list[str]:
    return [str(toast.render()) for toast in app.screen.query(Toast)]


@run_async
async def test_a_busy_store_is_a_notification(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMCLI_LOCK_TIMEOUT", "0.3")
    async with started("dentist", notifications=True) as pilot:
        app = pilot.app
        # Another process takes the store for writing and keeps it.
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(store)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
            await pilot.press("ctrl+p")
            await settle(pilot)
            toasts = _toasts(app)
            assert any("is busy" in t and "MEMCLI_LOCK_TIMEOUT" in t for t in toasts), toasts
            assert app.is_running and app.screen is main_screen(app)
        finally:
            holder.communicate("\n", timeout=30)
        memory = stored(frozen_context(), "dentist2")
        assert memory is not None and not memory.pinned
        await pilot.press("ctrl+p")  # free again: the same key works
        await settle(pilot)
        memory = stored(frozen_context(), "dentist2")
        assert memory is not None and memory.pinned


@run_async
async def test_an_unexpected_error_is_a_notification_not_a_traceback(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Browser, memory: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Browser, "toggle_pin", broken)
    async with started(notifications=True) as pilot:
        app = pilot.app
        await pilot.press("ctrl+p")
        await settle(pilot)
        toasts = _toasts(app)
        assert any("unexpected RuntimeError: disk on fire" in t for t in toasts), toasts
        assert any("MEMCLI_DEBUG=1" in t for t in toasts)
        assert app.is_running


@run_async
async def test_a_memory_forgotten_elsewhere_is_reported(store: Path, memcli_proc: Any) -> None:
    async with started("dentist", notifications=True) as pilot:
        app = pilot.app
        gone = memcli_proc("forget", "-y", "dentist2")
        assert gone.code == 0, gone
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert any("no memory with id 'dentist2'" in t for t in _toasts(app)), _toasts(app)
        await set_query(pilot, "dentist appointment")  # the next search shows the store as is
        assert "dentist2" not in [row.memory.id for row in main_screen(app).results.rows]
