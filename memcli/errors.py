"""The exceptions memcli raises on purpose, each with a message, a hint and an exit code.

`memcli.cli` maps them to a one- or two-line message on stderr and the exit code of
SPEC §2; anything else is a bug and shows a traceback only with MEMCLI_DEBUG=1.
"""

from __future__ import annotations

import errno


class MemcliError(Exception):
    """An error the user can act on (exit 1 unless a subclass says otherwise)."""

    exit_code: int = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(MemcliError):
    """A bad option value or a bad combination of options (exit 2)."""

    exit_code = 2


class BadDate(UsageError):
    """A WHEN argument that could not be read as a date or time."""


class InvalidInput(MemcliError):
    """Text or data that memcli will not store (empty, too large, NUL bytes, bad UTF-8)."""


class NotFound(MemcliError):
    """No memory has this id or id prefix."""


class AmbiguousId(MemcliError):
    """An id prefix that matches more than one memory."""


class NotAStore(MemcliError):
    """The file at --db is not a memcli store (or not a DuckDB file at all)."""


class ConfigError(MemcliError):
    """The config file cannot be read or holds a bad value."""


class ModelUnavailable(MemcliError):
    """The embedding model cannot be loaded (offline first run, broken cache, bad path)."""


class StoreBusy(MemcliError):
    """Another process kept the store locked for longer than the retry budget (exit 3)."""

    exit_code = 3


class StoreTooNew(MemcliError):
    """The store was written by a newer memcli, or a migration failed (exit 4)."""

    exit_code = 4


class DiskFull(MemcliError):
    """The device holding the store (or an export) has no space left; the transaction that
    hit it was rolled back."""

    def __init__(self, where: object, changed_nothing: bool = True) -> None:
        outcome = "; nothing was changed" if changed_nothing else ""
        super().__init__(
            f"no space left on the device holding {where}{outcome}",
            "free some space and run the command again",
        )


def unexpected(exc: BaseException) -> MemcliError:
    """What to tell a person about an exception memcli did not raise on purpose: a bug (the
    CLI and the TUI say it the same way; MEMCLI_DEBUG=1 shows the traceback instead)."""
    if is_disk_full(exc):  # the device, not memcli: DuckDB met it outside a store's open
        return MemcliError(
            f"no space left on the device: {str(exc).strip()[:300]}",
            "free some space and run the command again",
        )
    return MemcliError(
        f"unexpected {type(exc).__name__}: {str(exc).strip()[:300]}",
        "this is a bug; MEMCLI_DEBUG=1 shows the traceback",
    )


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` reports a full device: an OSError with ENOSPC, or DuckDB's own error
    (it carries only the message)."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    return "No space left on device" in str(exc)


class ImportFailed(MemcliError):
    """An import file with malformed lines; nothing was imported."""
