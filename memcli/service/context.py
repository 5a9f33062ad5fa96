"""What every command shares: settings, the clock, the store and the (lazily loaded) model."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from memcli.config import Settings
from memcli.embed import Embedder, load_embedder, loads_quickly
from memcli.errors import ModelUnavailable
from memcli.store.connection import Store, open_store
from memcli.timeparse import utc_now


@dataclass
class Context:
    """One command's view of the world; `notices` are printed once on stderr by the CLI."""

    settings: Settings
    clock: Callable[[], datetime] = utc_now
    notices: list[str] = field(default_factory=list)
    _embedder: Embedder | None = None
    model_error: ModelUnavailable | None = None

    def now(self) -> datetime:
        return self.clock()

    @contextmanager
    def store(self, *, write: bool, create: bool = False) -> Iterator[Store]:
        with open_store(
            self.settings.db_path,
            write=write,
            create=create,
            lock_timeout=self.settings.lock_timeout,
        ) as store:
            yield store

    def embedder(self) -> Embedder | None:
        """The model, or None (with `model_error` set) when it cannot be loaded."""
        if self._embedder is None and self.model_error is None:
            try:
                self._embedder = load_embedder(self.settings.model, self.settings.cache_dir)
            except ModelUnavailable as exc:
                self.model_error = exc
        return self._embedder

    @contextmanager
    def embedder_loading(self) -> Iterator[Callable[[], Embedder | None]]:
        """embedder() on another thread while the caller opens the store and searches it
        by keyword: importing fastembed and loading the model take ~0.7 s of a cold
        command, mostly holding the GIL, and DuckDB releases it while it works. The
        yielded function waits for the model and gives what embedder() gives (or raises
        what it raised); leaving the block waits too, so the thread never outlives the
        command. A model that must be downloaded first is loaded before yielding (the
        store would stay locked for the download); a loaded one is not loaded again."""
        if self._embedder is not None or self.model_error is not None:
            yield self.embedder
            return
        if not loads_quickly(self.settings.model, self.settings.cache_dir):
            self.embedder()
            yield self.embedder
            return
        failure: list[BaseException] = []

        def load() -> None:
            try:
                self.embedder()
            except BaseException as exc:  # re-raised on the caller's thread
                failure.append(exc)

        worker = threading.Thread(target=load, name="memcli-model", daemon=True)
        worker.start()

        def wait() -> Embedder | None:
            worker.join()
            if failure:
                raise failure[0]
            return self.embedder()

        try:
            yield wait
        finally:
            worker.join()

    def notice(self, message: str) -> None:
        if message not in self.notices:
            self.notices.append(message)

    def model_notice(self, consequence: str) -> None:
        """Say once why the model is missing and what memcli does instead."""
        if self.model_error is not None:
            self.notice(f"{consequence}: {self.model_error.message}")
