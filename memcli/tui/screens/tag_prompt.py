"""Edit a memory's tags as one line of words."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label

from memcli.errors import UsageError
from memcli.textutil import clean_tags
from memcli.tui.bindings import FORM, bindings


def parse_tags(line: str) -> list[str]:
    """'work #db, ops' -> ['work', 'db', 'ops'] (checked as `memcli add -t` checks them)."""
    return clean_tags(line.replace(",", " ").split())


class TagPrompt(ModalScreen[list[str] | None]):
    """Returns the new tag list, or None when cancelled."""

    BINDINGS = bindings(*FORM)

    def __init__(self, memory_id: str, tags: list[str]) -> None:
        super().__init__()
        self._memory_id = memory_id
        self._tags = tags

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Label(f"Tags of {self._memory_id}", classes="dialog-title")
            yield Input(
                " ".join(self._tags),
                placeholder="work db-creds ...",
                id="tags",
                select_on_focus=False,  # add to the tags rather than replace them all
            )
            yield Label("Words separated by spaces; Enter saves.", classes="hint")
            yield Label("", id="error", classes="error", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#tags", Input).focus()

    @on(Input.Submitted)
    def action_save(self) -> None:
        try:
            tags = parse_tags(self.query_one("#tags", Input).value)
        except UsageError as exc:
            self.query_one("#error", Label).update(exc.message)
            return
        self.dismiss(tags)

    def action_cancel(self) -> None:
        self.dismiss(None)
