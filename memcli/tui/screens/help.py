"""The help screen: every key (as remapped in config.toml) and what it does."""

from __future__ import annotations

from collections.abc import Callable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from memcli.tui.bindings import APP, HELP, MAIN_SCREEN, SPECS, bindings
from memcli.tui.settings import TuiSettings

ABOUT = (
    "Type to search; the list follows as you type. An empty search lists recent memories. "
    "Modes: hybrid (words and meaning), keyword (exact words, BM25), semantic (meaning). "
    "Strength is how well a memory is remembered (1.00 fresh or pinned, fading with time); "
    "* marks pinned memories, ? what an agent wrote and you have not reviewed, dim rows "
    "are archived. Keys can be changed in config.toml "
    "under [tui.keys], by the ids below."
)


def key_table(keys: TuiSettings, show_key: Callable[[Binding], str]) -> Table:
    """Key, binding id and what it does, for the main screen's bindings."""
    table = Table(box=None, padding=(0, 2, 0, 0), expand=True, show_header=True)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("id", style="dim", no_wrap=True)
    table.add_column("does", ratio=1)
    for binding_id in (*MAIN_SCREEN, *APP):
        shown = ", ".join(
            show_key(Binding(key, SPECS[binding_id].action))
            for key in keys.key_for(binding_id).split(",")
        )
        table.add_row(shown, binding_id, Text(SPECS[binding_id].tooltip))
    return table


class HelpScreen(ModalScreen[None]):
    """Closed by Escape or the help key."""

    BINDINGS = bindings(*HELP)

    def __init__(self, keys: TuiSettings) -> None:
        super().__init__()
        self._keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog", classes="dialog help"):
            yield Label("memcli tui: keys", classes="dialog-title")
            yield Static(Text(ABOUT), classes="about")
            yield Static(key_table(self._keys, self.app.get_key_display), id="keys")
        yield Footer(compact=True)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_help(self) -> None:
        self.dismiss(None)
