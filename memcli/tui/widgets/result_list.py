"""The result list: one line per memory (first line of text, tags, age, strength)."""

from __future__ import annotations

from datetime import datetime

from rich.table import Table
from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from memcli.records import Memory
from memcli.textutil import printable, tag_line
from memcli.timeparse import humanize_age
from memcli.tui.backend import Row


def first_line(text: str) -> str:
    """The text's first non-blank line, whitespace collapsed, safe to show."""
    for line in text.splitlines():
        if line.strip():
            return printable(" ".join(line.split()))
    return ""


def row_text(row: Row) -> Text:
    """The row's text: dimmed (and italic) when archived, dimmed when a newer row seems to
    update it."""
    memory = row.memory
    marks = ("* " if memory.pinned else "") + ("? " if memory.needs_review else "")
    text = Text(marks + first_line(memory.text))
    if memory.state != "active":
        text.stylize("dim italic")
    elif row.stale:
        text.stylize("dim")
    return text


def row_prompt(row: Row, now: datetime) -> Table:
    """A one-line grid that fills the list's width: the text column takes what is left."""
    memory = row.memory
    grid = Table.grid(expand=True, padding=(0, 1))
    grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    grid.add_column(no_wrap=True, overflow="ellipsis", max_width=24, style="cyan")
    grid.add_column(no_wrap=True, justify="right", width=5)  # 'now', '18h', '11mo', 'in 5m'
    grid.add_column(no_wrap=True, justify="right", width=4)
    grid.add_row(
        row_text(row),
        Text(tag_line(memory.tags)),
        humanize_age(memory.created_at, now).replace("just now", "now"),
        f"{row.strength:.2f}",
    )
    return grid


class ResultList(OptionList, can_focus=False):
    """The rows of the last search; the search input keeps the focus and moves the cursor."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[Row] = []

    def show_rows(self, rows: list[Row], now: datetime, select_id: str | None = None) -> None:
        """Replace the rows; the cursor goes to `select_id` if present, else the first row."""
        self.rows = rows
        self.set_options(Option(row_prompt(row, now), id=row.memory.id) for row in rows)
        index = next((i for i, r in enumerate(rows) if r.memory.id == select_id), 0)
        self.highlighted = index if rows else None

    def update_row(self, memory: Memory, strength: float, now: datetime) -> None:
        """Redraw the row of `memory` (e.g. stronger once opened), keeping its score."""
        for index, row in enumerate(self.rows):
            if row.memory.id == memory.id:
                self.rows[index] = Row(memory, strength, row.score, row.stale)
                self.replace_option_prompt_at_index(index, row_prompt(self.rows[index], now))

    @property
    def current(self) -> Row | None:
        """The highlighted row."""
        if self.highlighted is None or not 0 <= self.highlighted < len(self.rows):
            return None
        return self.rows[self.highlighted]
