"""A yes/no question in a modal; answers True only when the user confirms."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label

from memcli.tui.bindings import CONFIRM, bindings


class ConfirmScreen(ModalScreen[bool]):
    """`question` with Yes/No; the No button has the focus, so Enter alone never confirms."""

    BINDINGS = bindings(*CONFIRM)

    def __init__(self, title: str, question: str, yes_label: str = "Yes") -> None:
        super().__init__()
        self._title = title
        self._question = question
        self._yes_label = yes_label

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog confirm"):
            yield Label(self._title, classes="dialog-title")
            yield Label(self._question, id="question", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(self._yes_label, variant="error", id="yes")
                yield Button("Cancel", variant="primary", id="no")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed, "#yes")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_cancel(self) -> None:
        self.dismiss(False)
