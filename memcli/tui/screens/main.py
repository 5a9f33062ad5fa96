"""The one main screen: search input, status line, result list beside the detail pane.

Typing never waits for the store: every search, preview and change runs in a thread worker
(memcli.tui.backend does the blocking calls) and reports back with a typed message. Searches
are exclusive (a keystroke cancels the search before it) and numbered, so a late answer to
an old query is dropped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList
from textual.worker import get_current_worker

from memcli.errors import MemcliError, unexpected
from memcli.records import Memory
from memcli.search.recall import MODES
from memcli.tui import changes
from memcli.tui.backend import Browser, ModelState
from memcli.tui.bindings import MAIN_SCREEN, bindings
from memcli.tui.changes import Draft, Outcome
from memcli.tui.messages import ActionDone, ActionFailed, DetailLoaded, ModelLoaded, SearchDone
from memcli.tui.screens.confirm import ConfirmScreen
from memcli.tui.screens.help import HelpScreen
from memcli.tui.screens.memory_form import MemoryForm
from memcli.tui.screens.tag_prompt import TagPrompt
from memcli.tui.settings import TuiSettings
from memcli.tui.widgets.detail_pane import DetailPane
from memcli.tui.widgets.result_list import ResultList, first_line
from memcli.tui.widgets.search_input import SearchInput
from memcli.tui.widgets.status_line import StatusLine

T = TypeVar("T")
NEEDS_MEMORY = {"open", "edit", "tag", "pin", "archive", "forget", "copy"}
NARROW = 100  # columns under which the list and the detail pane take turns
PREVIEW_DELAY = 0.05  # seconds the cursor rests on a row before its history is read


class MainScreen(Screen[None]):
    BINDINGS = bindings(*MAIN_SCREEN)

    def __init__(self, browser: Browser, settings: TuiSettings, pick: bool) -> None:
        super().__init__()
        self.browser = browser
        self.settings = settings
        self.pick = pick
        self.mode = "hybrid"
        self.archived = False
        self.review = False
        self.generation = 0
        self._select_after: str | None = None

    def compose(self) -> ComposeResult:
        yield SearchInput(placeholder="search memories (empty: the most recent)", id="search")
        yield StatusLine(id="status")
        with Horizontal(id="panes"):
            yield ResultList(id="results")
            yield DetailPane(id="detail")
        yield Footer(compact=True)

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW, "narrow")

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # Narrow: the detail pane replaces the list while a memory is open in it.
        self.set_class(event.widget is self.detail, "reading")

    def on_mount(self) -> None:
        self.query_one("#search", Input).focus()
        self.status.model = self.browser.model_state
        self.status.problem = self.browser.model_problem
        self.search(delay=0)
        self.learn_words()
        if self.browser.model_state == ModelState.LOADING:
            self.load_model()

    # Shortcuts to the widgets.

    @property
    def status(self) -> StatusLine:
        return self.query_one("#status", StatusLine)

    @property
    def results(self) -> ResultList:
        return self.query_one("#results", ResultList)

    @property
    def detail(self) -> DetailPane:
        return self.query_one("#detail", DetailPane)

    @property
    def query_text(self) -> str:
        return self.query_one("#search", Input).value

    # Searching.

    @on(Input.Changed, "#search")
    def query_changed(self) -> None:
        self.search(delay=self.settings.debounce_ms / 1000)

    def search(self, delay: float, select_id: str | None = None) -> None:
        """Start search number `generation` (which cancels the one running)."""
        self.generation += 1
        self._select_after = select_id
        self.status.busy = True
        self.run_search(
            self.generation, self.query_text, self.mode, self.archived, delay, self.review
        )

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def run_search(
        self,
        generation: int,
        query: str,
        mode: str,
        archived: bool,
        delay: float,
        review: bool = False,
    ) -> None:
        worker = get_current_worker()
        if delay:
            time.sleep(delay)  # debounce: the next keystroke cancels this worker meanwhile
        if worker.is_cancelled:
            return

        def wanted() -> bool:
            return not worker.is_cancelled

        result = self._guard(lambda: self.browser.search(query, mode, archived, wanted, review))
        if result is not None and not worker.is_cancelled:
            self.post_message(SearchDone(generation, result))

    def on_search_done(self, message: SearchDone) -> None:
        if message.generation != self.generation:
            return  # an answer to a query the user has since changed
        result = message.result
        recent = not result.query.strip()
        self.status.busy = False
        self.status.count = len(result.rows)
        self.status.recent = recent
        self.status.ran = result.mode
        self.results.show_rows(result.rows, self.browser.now(), self._select_after)
        if not result.rows:
            if self.review:
                empty = "Nothing to review: what agents write and you have not read shows here."
            elif recent:
                empty = "No memories yet: add one with the add key (see the footer)."
            else:
                empty = "Nothing relevant. Try other words, another mode, or archived memories."
            self.detail.show_nothing(empty)
        self.refresh_bindings()

    # The model.

    @work(thread=True, group="words", exit_on_error=False)
    def learn_words(self) -> None:
        self._guard(self.browser.learn_words)

    @work(thread=True, group="model", exit_on_error=False)
    def load_model(self) -> None:
        state = self._guard(self.browser.load_model)
        self.post_message(ModelLoaded(state or self.browser.model_state))

    def on_model_loaded(self, message: ModelLoaded) -> None:
        self.status.model = message.state
        self.status.problem = self.browser.model_problem
        if message.state == ModelState.READY and self.query_text.strip() and self.mode != "keyword":
            self.search(delay=0, select_id=self._current_id())

    # The detail pane.

    @on(OptionList.OptionHighlighted, "#results")
    def row_highlighted(self) -> None:
        row = self.results.current
        if row is None:
            return
        self.detail.show_memory(row.memory, self.browser.now(), row.strength, row.score, None)
        self.preview(row.memory.id)
        self.refresh_bindings()

    @on(OptionList.OptionSelected, "#results")
    def row_clicked(self) -> None:
        self.action_open()

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def preview(self, memory_id: str) -> None:
        worker = get_current_worker()
        time.sleep(PREVIEW_DELAY)
        if worker.is_cancelled:
            return
        shown = self._guard(lambda: self.browser.peek(memory_id))
        if shown is not None and not worker.is_cancelled:
            self.post_message(DetailLoaded(shown, opened=False))

    # Not in the preview's group: a preview started by a late search result must not
    # cancel an open the user asked for.
    @work(thread=True, group="open", exit_on_error=False)
    def open_memory(self, memory_id: str) -> None:
        shown = self._guard(lambda: self.browser.open(memory_id))
        if shown is not None:
            self.post_message(DetailLoaded(shown, opened=True))

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        row = self.results.current
        memory = message.shown.memory
        if row is None or row.memory.id != memory.id:
            return  # the cursor moved on
        strength = self.browser.strength(memory)
        now = self.browser.now()
        self.detail.show_memory(memory, now, strength, row.score, message.shown.events)
        if message.opened:
            self.results.update_row(memory, strength, now)
            self.detail.focus()

    # Changes: each runs in a worker, then the search runs again to show the store as it is.

    @work(thread=True, group="action", exit_on_error=False)
    def apply_change(self, change: Callable[[], Outcome]) -> None:
        """`change` returns what to say and which memory the cursor should be on after."""
        outcome = self._guard(change)
        if outcome is not None:
            self.post_message(ActionDone(*outcome))

    def on_action_done(self, message: ActionDone) -> None:
        self.notify(message.note, timeout=4, markup=False)
        self.search(delay=0, select_id=message.select_id)

    def on_action_failed(self, message: ActionFailed) -> None:
        self.status.busy = False
        text = message.message + (f"\n{message.hint}" if message.hint else "")
        self.notify(text, title="memcli", severity="error", timeout=8, markup=False)

    def _guard(self, call: Callable[[], T]) -> T | None:
        """Run `call` in a worker; its errors become a notification, never a traceback."""
        try:
            return call()
        except MemcliError as exc:
            self.post_message(ActionFailed(exc.message, exc.hint))
        except Exception as exc:
            if os.environ.get("MEMCLI_DEBUG"):
                raise
            told = unexpected(exc)
            self.post_message(ActionFailed(told.message, told.hint))
        return None

    def _current_id(self) -> str | None:
        row = self.results.current
        return row.memory.id if row else None

    def _current_memory(self) -> Memory | None:
        """The highlighted memory, as fresh as the detail pane has it."""
        row = self.results.current
        if row is None:
            return None
        shown = self.detail.memory
        return shown if shown is not None and shown.id == row.memory.id else row.memory

    def _neighbour_id(self) -> str | None:
        """The row the cursor should land on when the current one leaves the list."""
        rows, index = self.results.rows, self.results.highlighted
        if index is None or len(rows) < 2:
            return None
        return rows[index + 1 if index + 1 < len(rows) else index - 1].memory.id

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in NEEDS_MEMORY and self.results.current is None:
            return None  # shown greyed out in the footer
        if action == "approve":
            memory = self._current_memory()
            return bool(memory is not None and memory.needs_review)  # hidden otherwise
        return True

    # Key actions.

    def action_open(self) -> None:
        memory = self._current_memory()
        if memory is None:
            return
        if self.pick:
            self.app.exit(memory)
        else:
            self.open_memory(memory.id)

    def action_back(self) -> None:
        """Back out one step: the detail pane, then the text in the search box, then quit."""
        search = self.query_one("#search", Input)
        if self.focused is self.detail:
            search.focus()
        elif search.value:
            search.value = ""  # the recent list comes back (Input.Changed searches)
        else:
            self.app.exit(None)

    def action_cursor_down(self) -> None:
        self.results.action_cursor_down()

    def action_cursor_up(self) -> None:
        self.results.action_cursor_up()

    def action_page_down(self) -> None:
        self.results.action_page_down()  # type: ignore[no-untyped-call]

    def action_page_up(self) -> None:
        self.results.action_page_up()  # type: ignore[no-untyped-call]

    def action_cycle_mode(self) -> None:
        self.mode = MODES[(MODES.index(self.mode) + 1) % len(MODES)]
        self.status.mode = self.mode
        self.search(delay=0, select_id=self._current_id())

    def action_toggle_archived(self) -> None:
        self.archived = not self.archived
        self.status.archived = self.archived
        self.search(delay=0, select_id=self._current_id())

    def action_toggle_review(self) -> None:
        self.review = not self.review
        self.status.review = self.review
        self.search(delay=0, select_id=self._current_id())

    def action_approve(self) -> None:
        memory = self._current_memory()
        if memory is not None and memory.needs_review:
            neighbour = self._neighbour_id() if self.review else memory.id
            self.apply_change(lambda: changes.approve(self.browser, memory, neighbour))

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.settings))

    def action_copy(self) -> None:
        memory = self._current_memory()
        if memory is not None:
            self.app.copy_to_clipboard(memory.text)
            self.notify(
                f"Copied the text of {memory.id} (if your terminal allows OSC 52 clipboard access)",
                timeout=4,
            )

    def action_add(self) -> None:
        def added(draft: Draft | None) -> None:
            if draft is not None:
                self.apply_change(lambda: changes.add(self.browser, draft))

        self.app.push_screen(MemoryForm("Add a memory", self._max_bytes), added)

    @property
    def _max_bytes(self) -> int:
        return self.browser.ctx.settings.max_text_bytes

    def action_edit(self) -> None:
        memory = self._current_memory()
        if memory is None:
            return

        def edited(draft: Draft | None) -> None:
            if draft is not None:
                self.apply_change(lambda: changes.edit(self.browser, memory, draft))

        draft = Draft(memory.text, memory.tags, memory.importance)
        self.app.push_screen(MemoryForm(f"Edit {memory.id}", self._max_bytes, draft), edited)

    def action_tag(self) -> None:
        memory = self._current_memory()
        if memory is None:
            return

        def tagged(tags: list[str] | None) -> None:
            if tags is not None:
                self.apply_change(lambda: changes.retag(self.browser, memory, tags))

        self.app.push_screen(TagPrompt(memory.id, memory.tags), tagged)

    def action_pin(self) -> None:
        memory = self._current_memory()
        if memory is not None:
            self.apply_change(lambda: changes.toggle_pin(self.browser, memory))

    def action_archive(self) -> None:
        memory = self._current_memory()
        if memory is not None:
            showing, neighbour = self.archived, self._neighbour_id()
            self.apply_change(
                lambda: changes.toggle_archive(self.browser, memory, showing, neighbour)
            )

    def action_forget(self) -> None:
        memory = self._current_memory()
        if memory is None:
            return
        neighbour = self._neighbour_id()

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.apply_change(lambda: changes.forget(self.browser, memory, neighbour))

        question = (
            f"{memory.id}: {first_line(memory.text)[:70]}\n\n"
            "It is deleted for good: its text, history, index entries and vector."
        )
        self.app.push_screen(ConfirmScreen("Forget this memory?", question, "Forget"), confirmed)
