"""What the TUI looks like, on the fixed store with a frozen clock (pytest-textual-snapshot).

Regenerate after an intended change with `pytest tests/tui/test_snapshots.py
--snapshot-update` and look at the SVGs under tests/tui/__snapshots__ before committing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.helpers import main_screen, make_app, settle

SIZE = (110, 32)


async def _steady(pilot: Pilot[Any]) -> None:
    """Every worker done, and no blinking cursor to catch half-way."""
    await settle(pilot)
    main_screen(pilot.app).query_one("#search", Input).cursor_blink = False
    await pilot.pause()


def test_main_screen_lists_recent_memories(store: Path, snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_steady)


def test_detail_pane_of_an_opened_memory(store: Path, snap_compare: Any) -> None:
    # Opened from the recent list, not from a search: the picture must not change when
    # the fusion's scores are tuned.
    async def open_third(pilot: Pilot[Any]) -> None:
        await _steady(pilot)
        await pilot.press("down", "down", "enter")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=open_third)


def test_help_screen(store: Path, snap_compare: Any) -> None:
    async def open_help(pilot: Pilot[Any]) -> None:
        await _steady(pilot)
        await pilot.press("f1")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=open_help)
