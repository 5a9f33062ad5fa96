"""`memcli tui --pick`: Enter returns the highlighted memory, Escape returns nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from memcli.errors import StoreBusy
from memcli.tui.app import picked_text
from memcli.tui.backend import Browser
from tests.cli.helpers import assert_clean_error
from tests.tui.fixed_store import NOW, frozen_context
from tests.tui.helpers import SIZE, main_screen, make_app, run_async, settle, started, stored


@run_async
async def test_enter_picks_the_highlighted_memory(store: Path) -> None:
    async with started("wifi password", pick=True) as pilot:
        app = pilot.app
        await pilot.press("enter")
        await pilot.pause()
    assert app.return_value is not None and app.return_value.id == "wifipass"


@run_async
async def test_enter_picks_the_row_under_the_cursor(store: Path) -> None:
    app = make_app(pick=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)  # the recent list: milk0007, dentist2, stagdb01, ...
        await pilot.press("down", "down", "enter")
        await pilot.pause()
    assert app.return_value is not None and app.return_value.id == "stagdb01"


@pytest.mark.parametrize("key", ["escape", "ctrl+q"])
@run_async
async def test_leaving_without_a_choice_picks_nothing(store: Path, key: str) -> None:
    async with started(pick=True) as pilot:
        app = pilot.app
        await pilot.press(key)
        await pilot.pause()
    assert app.return_value is None


@run_async
async def test_enter_with_no_results_picks_nothing_and_stays(store: Path) -> None:
    async with started("zzzqqq", pick=True) as pilot:
        app = pilot.app
        await pilot.press("enter")
        await settle(pilot)
        assert app.is_running
        await pilot.press("escape")  # clears the search box first
        await settle(pilot)
        assert app.is_running and main_screen(app).query_one("#search", Input).value == ""
        await pilot.press("escape")
        await pilot.pause()
        assert not app.is_running
    assert app.return_value is None


def test_picked_text_reinforces_the_memory(store: Path) -> None:
    browser = Browser(frozen_context())
    memory = stored(browser.ctx, "stagdb01")
    assert memory is not None
    assert picked_text(browser, memory) == memory.text
    after = stored(browser.ctx, "stagdb01")
    assert after is not None and after.reinforcements == 1 and after.reinforced_at == NOW


def test_picked_text_survives_a_busy_store(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    browser = Browser(frozen_context())
    memory = stored(browser.ctx, "stagdb01")
    assert memory is not None

    def busy(memory_id: str) -> Any:
        raise StoreBusy("the store is busy")

    monkeypatch.setattr(browser, "open", busy)
    assert picked_text(browser, memory) == memory.text


def test_tui_without_a_terminal_is_a_clear_error(cli: Any, store: Path) -> None:
    result = cli("tui", "--pick")
    assert_clean_error(result, 2, "needs a terminal")
