"""The status line under the search input: mode, archived filter, result count, model."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from memcli.tui.backend import ModelState


class StatusLine(Static):
    """Labels in the spirit of atuin's: what the search is doing, at a glance."""

    mode: reactive[str] = reactive("hybrid")
    """The mode chosen with the mode key."""
    ran: reactive[str] = reactive("hybrid")
    """The mode the last search actually ran in (keyword while the model is missing)."""
    archived: reactive[bool] = reactive(False)
    review: reactive[bool] = reactive(False)
    """Only what agents wrote and no person has reviewed."""
    count: reactive[int | None] = reactive(None)
    recent: reactive[bool] = reactive(True)
    model: reactive[str] = reactive(ModelState.LOADING)
    problem: reactive[str | None] = reactive(None)
    """Why there is no model, when there is none."""
    busy: reactive[bool] = reactive(False)

    def render(self) -> Text:
        line = Text()
        line.append(f" {self.mode} ", style="reverse bold")
        line.append("  ")
        if self.review:
            line.append("written by agents, not reviewed", style="bold")
        else:
            line.append("active + archived" if self.archived else "active only")
        if self.count is not None:
            found = "recent" if self.recent else "found"
            line.append(f"  ·  {self.count} {found}")
        if self.busy:
            line.append("  ·  searching...", style="dim")
        note = self._model_note()
        if note:
            line.append("  ·  ")
            line.append(note, style="yellow")
        return line

    def _model_note(self) -> str | None:
        if self.model == ModelState.LOADING:
            return "loading the model: keyword search until it is ready"
        if self.model in (ModelState.UNAVAILABLE, ModelState.DISABLED):
            return f"keyword search only: {self.problem}"
        if self.ran != self.mode and not self.recent:
            return f"ran as {self.ran}"
        return None
