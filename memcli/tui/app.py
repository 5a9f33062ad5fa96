"""The Textual application and `run_tui`, the one entry point the CLI calls."""

from __future__ import annotations

import contextlib
import sys

from textual import constants
from textual.app import App
from textual.driver import Driver
from textual.screen import Screen

from memcli.errors import MemcliError
from memcli.records import Memory
from memcli.service.context import Context
from memcli.tui.backend import Browser
from memcli.tui.bindings import APP, bindings
from memcli.tui.screens.main import MainScreen
from memcli.tui.settings import TuiSettings


class MemcliApp(App[Memory | None]):
    """Returns the picked memory (--pick and Enter), else None."""

    CSS_PATH = "memcli.tcss"
    TITLE = "memcli"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = bindings(*APP)

    def __init__(self, browser: Browser, settings: TuiSettings, pick: bool = False) -> None:
        super().__init__()
        self.browser = browser
        self.settings = settings
        self.pick = pick
        self.set_keymap(settings.keys)

    def get_driver_class(self) -> type[Driver]:
        if sys.platform == "win32" or constants.DRIVER:
            return super().get_driver_class()
        from memcli.tui.driver import TerminalDriver

        return TerminalDriver

    def get_default_screen(self) -> Screen[None]:
        return MainScreen(self.browser, self.settings, self.pick)


def run_tui(ctx: Context, settings: TuiSettings, pick: bool) -> str | None:
    """Run the browser on the terminal; with `pick`, the chosen memory's text (else None)."""
    browser = Browser(ctx, settings.limit)
    picked = MemcliApp(browser, settings, pick).run()
    return None if picked is None else picked_text(browser, picked)


def picked_text(browser: Browser, memory: Memory) -> str:
    """The text to print for a picked memory. Picking a memory is using it: it counts as a
    reinforcement, like `memcli show`, made once the terminal is restored. A busy store must
    not lose the text that was chosen, so its error is dropped."""
    with contextlib.suppress(MemcliError):
        browser.open(memory.id)
    return memory.text
