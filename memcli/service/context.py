"""What every command shares: settings, the clock, the store and the (lazily loaded) model."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from memcli.config import Settings
from memcli.embed import Embedder, load_embedder
from memcli.errors import ModelUnavailable
from memcli.paths import private_dirs
from memcli.store.connection import Store, open_store
from memcli.timeparse import utc_now

MODEL_NOTICE_STAMP = "model-notice-shown"
MODEL_NOTICE_EVERY = 3600.0  # seconds


@dataclass
class Context:
    """One command's view of the world; `notices` are printed once on stderr by the CLI."""

    settings: Settings
    clock: Callable[[], datetime] = utc_now
    notices: list[str] = field(default_factory=list)
    _embedder: Embedder | None = None
    model_error: ModelUnavailable | None = None
    _model_notice_allowed: bool | None = None

    def now(self) -> datetime:
        return self.clock()

    @contextmanager
    def store(self, *, write: bool, create: bool = False, brief: bool = False) -> Iterator[Store]:
        with open_store(
            self.settings.db_path,
            write=write,
            create=create,
            lock_timeout=self.settings.lock_timeout,
            brief=brief,
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

    def notice(self, message: str) -> None:
        if message not in self.notices:
            self.notices.append(message)

    def model_notice(self, consequence: str) -> None:
        """Say why the model is missing and what memcli does instead: once per command, and
        once an hour across commands (a stamp in the model cache), so an offline day is
        not a notice on every command. `memcli doctor` always says it."""
        if self.model_error is None or not self._may_tell_about_the_model():
            return
        self.notice(f"{consequence}: {self.model_error.message}")

    def _may_tell_about_the_model(self) -> bool:
        if self._model_notice_allowed is None:
            stamp = self.settings.cache_dir / MODEL_NOTICE_STAMP
            try:
                recent = time.time() - stamp.stat().st_mtime < MODEL_NOTICE_EVERY
            except OSError:
                recent = False
            self._model_notice_allowed = not recent
            if not recent:
                with contextlib.suppress(OSError):
                    private_dirs(stamp.parent)
                    stamp.touch()
        return self._model_notice_allowed
