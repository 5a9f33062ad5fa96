"""Typed messages that worker threads post back to the main screen."""

from __future__ import annotations

from textual.message import Message

from memcli.service.reading import Shown
from memcli.tui.backend import SearchResult


class SearchDone(Message):
    """Results of search number `generation` (older generations are dropped)."""

    def __init__(self, generation: int, result: SearchResult) -> None:
        super().__init__()
        self.generation = generation
        self.result = result


class DetailLoaded(Message):
    """A memory's detail and history, read for the preview or by opening it."""

    def __init__(self, shown: Shown, opened: bool) -> None:
        super().__init__()
        self.shown = shown
        self.opened = opened


class ModelLoaded(Message):
    """The embedding model finished loading (or failed to): `state` is a ModelState."""

    def __init__(self, state: str) -> None:
        super().__init__()
        self.state = state


class ActionDone(Message):
    """A change was saved: say so, search again, keep the cursor on `select_id`."""

    def __init__(self, note: str, select_id: str | None = None) -> None:
        super().__init__()
        self.note = note
        self.select_id = select_id


class ActionFailed(Message):
    """A worker's error, shown as a notification (never a traceback)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__()
        self.message = message
        self.hint = hint
