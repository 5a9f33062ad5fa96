"""[tui] and [tui.keys] in config.toml: defaults, checks, and remapped keys at work."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Static

from memcli.config import load_settings
from memcli.errors import ConfigError
from memcli.tui.screens.help import HelpScreen
from memcli.tui.screens.memory_form import MemoryForm
from memcli.tui.settings import DEFAULT_KEYS, TuiSettings, load_tui_settings
from tests.tui.helpers import main_screen, run_async, started


def _config(home: Path, text: str) -> None:
    """Put `text` first in config.toml (before the test model's [model] table)."""
    path = home / "config.toml"
    path.write_text(text + "\n" + path.read_text(encoding="utf-8"), encoding="utf-8")


def _plain(renderable: object) -> str:
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_defaults_without_a_tui_table(memcli_home: Path) -> None:
    settings = load_tui_settings(load_settings())
    assert settings == TuiSettings()
    assert settings.key_for("add") == "ctrl+n" and settings.limit == 50


def test_limit_debounce_and_keys_are_read(memcli_home: Path) -> None:
    _config(memcli_home, '[tui]\nlimit = 20\ndebounce_ms = 0\n[tui.keys]\nadd = "ctrl+b"\n')
    settings = load_tui_settings(load_settings())
    assert (settings.limit, settings.debounce_ms) == (20, 0)
    assert settings.keys == {"add": "ctrl+b"} and settings.key_for("add") == "ctrl+b"
    assert settings.key_for("edit") == DEFAULT_KEYS["edit"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[tui.keys]\nnope = 'ctrl+b'\n", "tui.keys.nope is not a binding id"),
        ("[tui.keys]\nadd = 3\n", "tui.keys.add must be a key"),
        ("[tui.keys]\nadd = 'ctrl b'\n", "tui.keys.add must be a key"),
        ("[tui.keys]\nadd = 'ctrl+e'\n", "'ctrl+e' to both"),
        ("[tui.keys]\nconfirm_yes = 'escape'\n", "to both"),
        ("[tui]\nlimit = 0\n", "tui.limit must be a whole number from 1 to 1000"),
        ("[tui]\ndebounce_ms = true\n", "tui.debounce_ms"),
        ("[tui]\ncolour = 'red'\n", "tui.colour"),
        ("tui = 3\n", "[tui] must be a table"),
        ("[tui]\nkeys = 'x'\n", "[tui.keys] must be a table"),
        ("[tui\n", "cannot read"),
    ],
)
def test_bad_tui_config_is_a_clear_error(memcli_home: Path, text: str, fragment: str) -> None:
    settings = load_settings()  # read first: it would refuse a file that is not TOML
    _config(memcli_home, text)
    with pytest.raises(ConfigError) as caught:
        load_tui_settings(settings)
    assert fragment in caught.value.message
    assert caught.value.hint


@run_async
async def test_remapped_keys_work_and_the_help_shows_them(store: Path, memcli_home: Path) -> None:
    # ctrl+w deletes a word in the search input: the remapped edit key must win over it.
    _config(memcli_home, '[tui.keys]\nadd = "ctrl+b"\nedit = "ctrl+w"\nhelp = "f2"\n')
    async with started("dentist") as pilot:
        app = pilot.app
        await pilot.press("ctrl+n")  # no longer bound
        await pilot.pause()
        assert app.screen is main_screen(app)
        await pilot.press("ctrl+b")
        assert isinstance(app.screen, MemoryForm)
        await pilot.press("escape")
        await pilot.press("ctrl+w")
        assert isinstance(app.screen, MemoryForm)
        assert "dentist2" in str(app.screen.query_one(".dialog-title", Static).render())
        await pilot.press("escape")
        await pilot.press("f2")
        assert isinstance(app.screen, HelpScreen)
        keys = _plain(app.screen.query_one("#keys", Static).content)
        assert "^b    add" in keys and "^w    edit" in keys and "f2    help" in keys
        assert "^n" not in keys and "^e" not in keys
