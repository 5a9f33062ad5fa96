"""Opening the store: short-lived DuckDB connections, lock retries, safety checks.

DuckDB lets one process write a file, and a writer excludes every reader. memcli therefore
opens the store for the length of one command step, and when another process holds it,
retries with backoff until `lock_timeout` runs out (then StoreBusy, exit 3).
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import random
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

import duckdb

from memcli.errors import (
    DiskFull,
    MemcliError,
    NotAStore,
    NotFound,
    StoreBusy,
    StoreTooNew,
    is_disk_full,
)
from memcli.paths import private_dirs
from memcli.security import keys
from memcli.security.keys import StoreKey
from memcli.store import encryption, migrations


def _stop_duckdb_probing_for_pandas() -> None:
    """DuckDB tries `import pandas` on every parameter conversion; when pandas is absent
    each failed attempt searches sys.path again (~10 ms a query). Record the absence once."""
    if "pandas" not in sys.modules and importlib.util.find_spec("pandas") is None:
        sys.modules["pandas"] = None  # type: ignore[assignment]


_stop_duckdb_probing_for_pandas()

T = TypeVar("T")

_DUCKDB_MAGIC = b"DUCK"
_MAGIC_OFFSET = 8


class NoStore(NotFound):
    """The store file does not exist yet (read commands treat that as an empty store)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"there is no store at {path} yet", 'memcli add "..." creates it')


class Store:
    """An open connection to a memcli store."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        path: Path,
        writable: bool,
        key: StoreKey | None = None,
    ) -> None:
        self.con = con
        self.path = path
        self.writable = writable
        self.key = key
        """The key that opened an encrypted store (None: the store is not encrypted)."""

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One all-or-nothing change: committed on success, rolled back on any error."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")


@contextmanager
def open_store(
    path: Path,
    *,
    write: bool,
    create: bool = False,
    lock_timeout: float = 10.0,
    new_key: StoreKey | None = None,
    brief: bool = False,
) -> Iterator[Store]:
    """Open the store at `path`; create it (0600 in a 0700 folder) when `create` is set,
    encrypted with `new_key` when one is given (the file must not exist yet).

    `brief` is for a write of a few rows right after a read (a recall's reinforcements): a
    plain store is then attached read-write to this process's in-memory DuckDB, as readers
    are, instead of starting a DuckDB instance of its own (about 2 ms instead of 12 at
    100,000 memories), and its write-ahead log (0600, holding those rows as the store does)
    is left for the next writer to checkpoint (see _attach_to_host).

    An encrypted store (its header says so: memcli.store.encryption) is opened with its key
    from MEMCLI_KEY or the OS keyring (memcli.security.keys). Raises NoStore when it does not
    exist and `create` is false, NotAStore for a file that is not a memcli store,
    StoreTooNew for a newer schema, StoreBusy after the retry budget, KeyUnavailable or
    WrongKey for an encrypted store that cannot be unlocked, DiskFull when its device is full.
    """
    with (
        _disk_full_reported(path),
        _open(path, write, create, lock_timeout, new_key, brief) as store,
    ):
        yield store


@contextmanager
def _disk_full_reported(path: Path) -> Iterator[None]:
    """A full device, wherever DuckDB or Python meets it, becomes one plain DiskFull error:
    the transaction that met it was rolled back."""
    try:
        yield
    except DiskFull:
        raise
    except Exception as exc:
        if is_disk_full(exc):
            raise DiskFull(path) from exc
        raise


@contextmanager
def _open(
    path: Path,
    write: bool,
    create: bool,
    lock_timeout: float,
    new_key: StoreKey | None,
    brief: bool,
) -> Iterator[Store]:
    existed = path.exists()
    if not existed and not create:
        raise NoStore(path)
    if existed:
        if new_key is not None:
            raise MemcliError(
                f"a store appeared at {path} meanwhile; nothing was changed",
                "run the command again",
            )
        key = keys.key_for(path) if _check_magic(path) else None
    else:
        private_dirs(path.parent)
        key = new_key
    with private_files():
        read_only = not write and existed
        con, key = _connect(
            path, read_only=read_only, lock_timeout=lock_timeout, key=key, brief=brief
        )
        if not read_only:
            remove_rewrite_leftovers(path)
        try:
            if _needs_writer_to_migrate(con, path, existed, can_write=write or not existed):
                # A reader found an older schema: migrate once with a writer, then read.
                _close(con)
                with open_store(path, write=True, lock_timeout=lock_timeout):
                    pass
                con, key = _connect(path, read_only=True, lock_timeout=lock_timeout, key=key)
            yield Store(con, path, writable=write or not existed, key=key)
        finally:
            if not read_only and id(con) not in _attached:
                _checkpoint_unless_full(con)
            _close(con)


def _checkpoint_unless_full(con: duckdb.DuckDBPyConnection) -> None:
    """Checkpoint at close; on a full device the committed changes stay in the write-ahead
    log, where the next open replays them and the next writer checkpoints them."""
    try:
        _checkpoint_on_one_thread(con)
    except duckdb.Error as exc:
        if not is_disk_full(exc):
            raise


def rewrite_leftovers(path: Path) -> list[Path]:
    """Copies of the store left by a rewrite that was killed (memcli.store.rewrite), and
    their write-ahead logs; never the store itself."""
    return sorted(path.parent.glob(f".{path.name}.rewrite-*"))


def remove_rewrite_leftovers(path: Path) -> None:
    """Called with the write lock held, which a rewrite in progress would hold: what is
    left is a dead rewrite's. A decrypt's copy is plaintext beside an encrypted store, so
    it goes at the next write rather than waiting for the next rewrite."""
    for leftover in rewrite_leftovers(path):
        leftover.unlink(missing_ok=True)


def may_write(path: Path) -> bool:
    """Whether this process may write the store at `path`: the file, and its folder where
    DuckDB puts the write-ahead log."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _needs_writer_to_migrate(
    con: duckdb.DuckDBPyConnection, path: Path, existed: bool, can_write: bool
) -> bool:
    """Refuse foreign and newer stores; migrate an older one if we may write.

    Returns True when the schema is old and this connection is read-only."""
    version = migrations.stored_version(con)
    if version is None:
        if existed and migrations.has_foreign_tables(con):
            raise NotAStore(
                f"{path} is a DuckDB database but not a memcli store",
                "point --db at a memcli store, or at a new file name",
            )
        version = 0
    if version > migrations.CURRENT_VERSION:
        raise StoreTooNew(
            f"{path} was written by a newer memcli (schema {version}, this one knows "
            f"{migrations.CURRENT_VERSION})",
            "upgrade memcli (pip install -U memcli); the store was left untouched",
        )
    if version == migrations.CURRENT_VERSION:
        return False
    if not can_write:
        return True
    migrations.migrate(con, version)
    _restrict(path)
    return False


def _check_magic(path: Path) -> bool:
    """Refuse a file that is not a DuckDB database; True when it is an encrypted one."""
    try:
        with path.open("rb") as handle:
            head = handle.read(encryption.HEADER_BYTES)
    except OSError as exc:
        raise NotAStore(
            f"cannot read {path}: {exc.strerror}", "check the path and its permissions"
        ) from None
    if head[_MAGIC_OFFSET : _MAGIC_OFFSET + len(_DUCKDB_MAGIC)] != _DUCKDB_MAGIC:
        raise NotAStore(
            f"{path} is not a memcli store (not a DuckDB file); it was left untouched",
            "point --db at a memcli store, or at a new file name",
        )
    return encryption.header_says_encrypted(head)


def _checkpoint_on_one_thread(con: duckdb.DuckDBPyConnection) -> None:
    """Closing a writer checkpoints (DuckDB moves the command's changes from the WAL into
    the file): a handful of tasks, a few row groups each. Spread over DuckDB's threads on a
    busy machine, the close waits for whichever thread the OS runs last. On one thread the
    close of a cold `add` took 79 ms instead of 98 at 1,000 memories, 57 instead of 66 at
    10,000, the same 53 at 100,000 (medians of 10, alternated, load average 5 on 2 cores)."""
    with suppress(duckdb.Error):  # a connection DuckDB invalidated must still be closed
        con.execute("SET threads = 1")


def _restrict(path: Path) -> None:
    """Owner-only permissions on a new store and its write-ahead log."""
    for candidate in (path, path.with_name(path.name + ".wal")):
        if candidate.exists():
            os.chmod(candidate, 0o600)


def _connect(
    path: Path,
    *,
    read_only: bool,
    lock_timeout: float,
    key: StoreKey | None,
    brief: bool = False,
) -> tuple[duckdb.DuckDBPyConnection, StoreKey | None]:
    """A connection to the store (plain or encrypted) and the key that opened it."""
    if key is None and (read_only or brief):
        return _retrying(path, lambda: _attach_to_host(path, read_only), lock_timeout), None
    if key is None:
        con = _retrying(
            path,
            lambda: duckdb.connect(
                str(path), read_only=read_only, config=encryption.CONNECTION_CONFIG
            ),
            lock_timeout,
        )
        return con, None
    con = encryption.connection(path, writable=not read_only)
    try:
        try:
            _attach(con, path, key, read_only, lock_timeout)
        except encryption.WrongKey:
            if key.origin == keys.ENV_VAR:
                raise
            # A key cached by this process (a long-lived TUI) may have been replaced since.
            fresh = keys.key_for(path, refresh=True)
            if fresh.secret == key.secret:
                keys.drop_cached(path)
                raise
            key = fresh
            _attach(con, path, key, read_only, lock_timeout)
    except BaseException:
        con.close()
        raise
    return con, key


_host: duckdb.DuckDBPyConnection | None = None
_host_lock = threading.Lock()
_attached: dict[int, str] = {}  # id of a connection from _attach_to_host -> its alias
_aliases = itertools.count(1)


def _attach_to_host(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A connection to the plain store at `path`, attached to this process's in-memory
    DuckDB: starting a DuckDB instance costs 10-20 ms, several times more than attaching a
    file to a running one, which a long-lived process (the TUI) pays at every search. The
    instance holds no file of its own: once the store is detached (`_close`), other
    processes may write it."""
    global _host
    with _host_lock:
        if _host is None:
            _host = duckdb.connect(
                ":memory:", config={**encryption.CONNECTION_CONFIG, "temp_directory": ""}
            )
        con = _host.cursor()
        alias = f"memcli_read_{next(_aliases)}"
    quoted = str(path).replace("'", "''")
    try:
        if not read_only:
            # A brief write of a few rows leaves them in the write-ahead log (it replays in
            # a few milliseconds at the next open) rather than checkpointing the store at
            # detach (about 20 ms at 100,000 memories); the next command that writes with a
            # connection of its own checkpoints it at its close. The setting is the
            # instance's, whose other attachments are read-only.
            con.execute("PRAGMA disable_checkpoint_on_shutdown")
        mode = " (READ_ONLY)" if read_only else ""
        con.execute(f"ATTACH '{quoted}' AS {alias}{mode}")
        _attached[id(con)] = alias
        con.execute(f"USE {alias}")
    except BaseException:
        _close(con)
        raise
    return con


def _close(con: duckdb.DuckDBPyConnection) -> None:
    """Close a connection from _connect, then detach its store from the in-memory
    instance (from another connection: this one may be in a failed transaction)."""
    alias = _attached.pop(id(con), None)
    con.close()
    if alias is not None and _host is not None:
        with _host_lock:
            detaching = _host.cursor()
        try:
            detaching.execute(f"DETACH {alias}")
        finally:
            detaching.close()


def _attach(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    key: StoreKey,
    read_only: bool,
    lock_timeout: float,
) -> None:
    def attempt() -> None:
        encryption.attach(con, path, key.secret, read_only=read_only, origin=_origin(key))

    _retrying(path, attempt, lock_timeout)


def _origin(key: StoreKey) -> str:
    return keys.ENV_VAR if key.origin == keys.ENV_VAR else f"the keyring ({key.backend})"


def _retrying(path: Path, attempt: Callable[[], T], lock_timeout: float) -> T:
    """Run `attempt` (a connect or an ATTACH), retrying with jittered exponential backoff
    while the file is locked.

    The last attempt is made at the deadline itself, so a lock released just before the
    budget runs out is still taken."""
    deadline = time.monotonic() + lock_timeout
    delay = 0.02
    while True:
        try:
            return attempt()
        except duckdb.IOException as exc:
            # The word: a corrupt file's message names a "block" and is no lock conflict.
            if not re.search(r"\block\b", str(exc).lower()):
                raise NotAStore(
                    f"cannot open {path}: {_first_line(exc)}",
                    "check that it is a memcli store and that you may read it",
                ) from exc
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StoreBusy(
                    f"the store {path} is busy: another memcli process has held it for "
                    f"{lock_timeout:g}s",
                    "try again in a moment, or raise MEMCLI_LOCK_TIMEOUT",
                ) from exc
            time.sleep(min(delay * (0.5 + random.random()), remaining))
            delay = min(delay * 2, 0.5)


@contextmanager
def private_files() -> Iterator[None]:
    """Files DuckDB creates while the store is open (the store, its WAL) are owner-only."""
    old_umask = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old_umask)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
