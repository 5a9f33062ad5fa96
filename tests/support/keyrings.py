"""An in-memory keyring backend for tests, and a fixture that installs it.

keyring.set_keyring() replaces the process-wide backend; the fixture puts the previous one
back and empties memcli's per-process key cache, so no test sees another's keys.
"""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import PasswordDeleteError

from memcli.security import keys


class MemoryKeyring(KeyringBackend):
    """Secrets in a dict: what a desktop keyring does, without a desktop."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError("no such password")


def _install(backend: KeyringBackend) -> Iterator[KeyringBackend]:
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    keys.clear_cache()
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
        keys.clear_cache()


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """A working, empty OS keyring for the test."""
    backend = MemoryKeyring()
    yield from _install(backend)  # type: ignore[misc]


@pytest.fixture
def no_keyring() -> Iterator[KeyringBackend]:
    """keyring's 'fail' backend: what a headless server has."""
    yield from _install(fail.Keyring())
