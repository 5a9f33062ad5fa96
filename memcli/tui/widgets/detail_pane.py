"""The detail pane: a memory's full text, its fields and its history."""

from __future__ import annotations

from datetime import datetime

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from memcli.records import Event, Memory
from memcli.textutil import printable, tag_line
from memcli.timeparse import format_local, humanize_age


def detail_view(
    memory: Memory,
    now: datetime,
    strength: float,
    score: float | None,
    events: list[Event] | None,
) -> Group:
    """Everything about one memory; `events` None while its history is being read."""
    fields = Table.grid(padding=(0, 2))
    fields.add_column(justify="right", style="dim", no_wrap=True)
    fields.add_column(ratio=1)
    fields.add_row("id", Text(memory.id, style="bold cyan"))
    fields.add_row("tags", Text(tag_line(memory.tags) or "-"))
    fields.add_row(
        "created", f"{format_local(memory.created_at)} ({humanize_age(memory.created_at, now)})"
    )
    fields.add_row("updated", format_local(memory.updated_at))
    fields.add_row("importance", f"{memory.importance} of 5")
    fields.add_row("pinned", "yes" if memory.pinned else "no")
    fields.add_row("state", memory.state)
    fields.add_row("source", memory.source)
    if memory.origin:
        fields.add_row("written by", Text(memory.origin))
    if memory.needs_review:
        fields.add_row("review", "not reviewed yet")
    times = "once" if memory.reinforcements == 1 else f"{memory.reinforcements} times"
    fields.add_row("strength", f"{strength:.2f} (reinforced {times})")
    if memory.superseded_by:
        fields.add_row("superseded by", memory.superseded_by)
    if score is not None:
        fields.add_row("match score", f"{score:.3f}")
    if events is None:
        fields.add_row("history", Text("reading...", style="dim"))
    for index, event in enumerate(events or []):
        entry = f"{format_local(event.at)}  {event.kind}"
        detail = f" {printable(event.detail)}" if event.detail else ""
        fields.add_row("history" if index == 0 else "", Text(entry + detail))
    return Group(Text(printable(memory.text, keep_lines=True)), Text(), fields)


class DetailPane(VerticalScroll, can_focus=True):
    """Scrolls when focused (Enter opens a memory here; Escape goes back to the search)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.memory: Memory | None = None
        self.events: list[Event] | None = None
        self._body = Static(id="detail-body")

    def compose(self) -> ComposeResult:
        yield self._body

    def show_memory(
        self,
        memory: Memory,
        now: datetime,
        strength: float,
        score: float | None,
        events: list[Event] | None,
    ) -> None:
        if self.memory is None or self.memory.id != memory.id:
            self.scroll_home(animate=False)
        self.memory, self.events = memory, events
        self._body.update(detail_view(memory, now, strength, score, events))

    def show_nothing(self, message: str) -> None:
        self.memory, self.events = None, None
        self._body.update(Text(message, style="dim"))
        self.scroll_home(animate=False)
