"""TUI tests: local time is UTC, and the `store` fixture holds the fixed store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tui.fixed_store import import_fixed_store


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC, so the dates shown do not depend on the machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def store(store_path: Path) -> Path:
    """The fixed store (10 memories, one archived), imported at NOW."""
    import_fixed_store()
    return store_path
