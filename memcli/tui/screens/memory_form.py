"""The add/edit form: text, tags and importance in a modal."""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, TextArea

from memcli.errors import InvalidInput, UsageError
from memcli.textutil import check_text
from memcli.tui.bindings import FORM, bindings
from memcli.tui.changes import Draft
from memcli.tui.screens.tag_prompt import parse_tags


class MemoryForm(ModalScreen[Draft | None]):
    """Returns a Draft, or None when cancelled; bad input is shown in the form, not saved."""

    BINDINGS = bindings(*FORM)

    def __init__(self, title: str, max_bytes: int, draft: Draft | None = None) -> None:
        super().__init__()
        self._title = title
        self._max_bytes = max_bytes
        self._draft = draft or Draft("", [], 3)

    def compose(self) -> ComposeResult:
        # Scrolls when the terminal is too short for it (80x24): the buttons stay reachable.
        with VerticalScroll(id="dialog", classes="dialog form"):
            yield Label(self._title, classes="dialog-title")
            yield Label("Text", classes="field-label")
            yield TextArea(self._draft.text, id="text", soft_wrap=True, show_line_numbers=False)
            yield Label("Tags (words separated by spaces)", classes="field-label")
            yield Input(
                " ".join(self._draft.tags),
                placeholder="work db-creds",
                id="tags",
                select_on_focus=False,
            )
            yield Label("Importance (1 trivia .. 5 vital)", classes="field-label")
            yield Input(
                str(self._draft.importance), id="importance", restrict=r"[1-5]?", max_length=1
            )
            yield Label("", id="error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")
        yield Footer(compact=True)

    def on_resize(self, event: events.Resize) -> None:
        # A short terminal gets a shorter text box, so the whole form fits where it can.
        self.query_one("#text", TextArea).styles.height = 8 if event.size.height >= 30 else 4

    def on_mount(self) -> None:
        text = self.query_one("#text", TextArea)
        text.move_cursor(text.document.end)  # editing usually adds to the end
        text.focus()

    @on(Button.Pressed, "#save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        try:
            draft = self._read()
        except (InvalidInput, UsageError) as exc:
            self.query_one("#error", Label).update(
                exc.message + (f" ({exc.hint})" if exc.hint else "")
            )
            return
        self.dismiss(draft)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def _read(self) -> Draft:
        text = check_text(self.query_one("#text", TextArea).text, self._max_bytes)
        tags = parse_tags(self.query_one("#tags", Input).value)
        importance = self.query_one("#importance", Input).value
        if not importance:
            raise UsageError("importance is empty", "give a number from 1 to 5")
        return Draft(text, tags, int(importance))
