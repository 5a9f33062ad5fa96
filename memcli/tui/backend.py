"""What the TUI asks of the store, as plain blocking calls made from worker threads.

No textual here: this is the service layer seen from a long-lived process. Every call opens
the store for its own length only (never while idle), so `memcli add` in another terminal and
the nightly `consolidate` keep working while the TUI is open. One lock serialises the calls:
DuckDB refuses two connections of one process to the same file with different modes, and the
in-process vector cache is for one thread at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from memcli.errors import MemcliError
from memcli.records import Memory
from memcli.search.recall import MODES, RecallRequest
from memcli.service import agents, browse, forgetting, reading, writing
from memcli.service.context import Context
from memcli.service.reading import Shown
from memcli.store.memories import Filters

ACTIVE = ("active",)
ACTIVE_AND_ARCHIVED = ("active", "archived")
_WARM_QUERY = "memcli"


@dataclass(frozen=True)
class Row:
    """One line of the result list."""

    memory: Memory
    strength: float
    score: float | None  # None for the recent list (no query)
    stale: bool = False  # a newer hit seems to update it (memcli.search.conflicts)


@dataclass(frozen=True)
class SearchResult:
    query: str
    mode: str
    """The mode that actually ran (keyword while the model is loading or missing)."""
    rows: list[Row]


class ModelState:
    LOADING = "loading"
    READY = "ready"
    UNAVAILABLE = "unavailable"
    DISABLED = "disabled"


class Browser:
    """The TUI's handle on one store; every method may be called from any thread."""

    def __init__(self, ctx: Context, limit: int = 50) -> None:
        self.ctx = ctx
        self.limit = limit
        self._store_lock = threading.Lock()
        self._model_lock = threading.Lock()
        self.model_state = ModelState.LOADING if ctx.settings.model.enabled else ModelState.DISABLED
        self.words: browse.Words | None = None  # set by learn_words, in the background

    def now(self) -> datetime:
        return self.ctx.now()

    @property
    def model_problem(self) -> str | None:
        """Why the semantic channel is off, for the status line (None when it is on)."""
        if self.model_state == ModelState.DISABLED:
            return "the model is turned off in the config (model.enabled = false)"
        if self.ctx.model_error is not None:
            return self.ctx.model_error.message
        return None

    def learn_words(self) -> None:
        """Read the stored words once, to finish the word being typed (browse.Words)."""
        with self._store_lock:
            words = browse.stored_words(self.ctx)
        self.words = words

    def load_model(self) -> str:
        """Load the embedding model, then read the vectors once so that the next searches
        find them in memory (the vector cache keeps them from a store's second search on)."""
        with self._model_lock:
            if self.model_state == ModelState.DISABLED:
                return self.model_state
            embedder = self.ctx.embedder()
        if embedder is None:
            self.model_state = ModelState.UNAVAILABLE
            return self.model_state
        self.model_state = ModelState.READY
        request = RecallRequest(_WARM_QUERY, limit=1, mode="semantic")
        try:
            for _ in range(2):
                with self._store_lock:
                    reading.recall_memories(self.ctx, request, reinforce=False)
        except MemcliError:
            pass  # only a head start: the first real search reads the vectors instead
        return self.model_state

    def search(
        self,
        query: str,
        mode: str,
        archived: bool,
        wanted: Callable[[], bool] = lambda: True,
        review: bool = False,
    ) -> SearchResult | None:
        """The best memories for `query`, or the most recent ones when it is blank.

        None when `wanted()` turned false while waiting for the store: a search that a
        newer keystroke replaced must not keep the next one waiting."""
        assert mode in MODES
        states = ACTIVE_AND_ARCHIVED if archived else ACTIVE
        filters = Filters(states=states)
        if review:  # what agents wrote and no person has reviewed, pending ones included
            filters = Filters(states=("active", "pending"), unreviewed=True)
        ran = mode if self.model_state == ModelState.READY else "keyword"
        words = self.words
        wanted_words = words.finish(query) if words is not None else query
        request = RecallRequest(wanted_words, limit=self.limit, filters=filters, mode=ran)
        with self._store_lock:
            if not wanted():
                return None
            if not query.strip():
                found = reading.list_memories(self.ctx, request.filters, "created", self.limit)
                return SearchResult(query, mode, [self._row(m, None) for m in found])
            hits = reading.recall_memories(self.ctx, request, reinforce=False)
            rows = [self._row(h.memory, h.score, h.newer is not None) for h in hits]
            return SearchResult(query, ran, rows)

    def _row(self, memory: Memory, score: float | None, stale: bool = False) -> Row:
        return Row(memory, reading.strength(self.ctx, memory), score, stale)

    def peek(self, memory_id: str) -> Shown:
        """A memory's detail for the preview pane (read-only, not a reinforcement)."""
        with self._store_lock:
            return browse.peek(self.ctx, memory_id)

    def open(self, memory_id: str) -> Shown:
        """Open a memory: its detail, counted as a reinforcement (once a day at most)."""
        with self._store_lock:
            shown = reading.show(self.ctx, memory_id)
            # show() returns the memory as read before its reinforcement: read it again.
            return browse.peek(self.ctx, shown.memory.id)

    def strength(self, memory: Memory) -> float:
        return reading.strength(self.ctx, memory)

    def add(self, text: str, tags: list[str], importance: int) -> writing.AddResult:
        with self._model_lock, self._store_lock:
            return writing.add(self.ctx, text, tags=tags, importance=importance, source="tui")

    def edit(self, memory: Memory, text: str, tags: list[str], importance: int) -> Memory:
        """Save the edit form; refused if the memory changed since it was read."""
        with self._model_lock, self._store_lock:
            edited = writing.edit(
                self.ctx,
                memory.id,
                text=text if text != memory.text else None,
                importance=importance,
                expected_updated_at=memory.updated_at,
            )
            if tags != edited.tags:
                added = [t for t in tags if t not in edited.tags]
                removed = [t for t in edited.tags if t not in tags]
                edited = writing.retag(self.ctx, memory.id, added, removed)
            return edited

    def set_tags(self, memory: Memory, tags: list[str]) -> Memory:
        added = [t for t in tags if t not in memory.tags]
        removed = [t for t in memory.tags if t not in tags]
        with self._store_lock:
            return writing.retag(self.ctx, memory.id, added, removed)

    def toggle_pin(self, memory: Memory) -> Memory:
        pinned = not memory.pinned
        with self._store_lock:
            event = "pinned" if pinned else "unpinned"
            return writing.set_flag(self.ctx, [memory.id], "pinned", pinned, event)[0]

    def toggle_archive(self, memory: Memory) -> Memory:
        archive = memory.state == "active"
        state, event = ("archived", "archived") if archive else ("active", "restored")
        with self._store_lock:
            return writing.set_flag(self.ctx, [memory.id], "state", state, event)[0]

    def approve(self, memory: Memory) -> None:
        with self._store_lock:
            agents.approve(self.ctx, [memory.id])

    def forget(self, memory: Memory) -> int:
        with self._store_lock:
            return forgetting.forget(self.ctx, [memory])
