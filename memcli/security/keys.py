"""The keys of encrypted stores: 256 random bits each, kept in the OS keyring, or MEMCLI_KEY.

A key lives in the keyring under service `memcli`, with the store's resolved path as the user
name: one entry per store, never a file next to it. `MEMCLI_KEY`, when set, is the key of every
store this process opens and nothing is read from or written to the keyring (headless servers,
CI). Without a usable keyring and without MEMCLI_KEY, encrypting fails with a message that
names MEMCLI_KEY: memcli never falls back to a plain-text store on its own.

`keyring` is imported only here and only when a key is needed: it costs ~50 ms, and plain
stores never pay it.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memcli.errors import MemcliError

SERVICE = "memcli"
ENV_VAR = "MEMCLI_KEY"
MIN_ENV_KEY_CHARS = 32
GENERATE_HINT = "e.g. export MEMCLI_KEY=$(openssl rand -hex 32)"

# Keys read from the keyring in this process (a TUI opens the store for every search, and a
# Secret Service lookup is a D-Bus round trip). Never written anywhere.
_cache: dict[str, StoreKey] = {}


@dataclass(frozen=True)
class StoreKey:
    """A store's key and where it came from."""

    secret: str
    origin: str
    """ENV_VAR, or "keyring"."""
    backend: str | None = None
    """The keyring backend's name (None for MEMCLI_KEY)."""

    def where(self, path: Path) -> str:
        """Where the key lives, for stats, doctor and messages."""
        if self.origin == ENV_VAR:
            return f"{ENV_VAR} (environment; memcli does not store it)"
        return f"OS keyring ({self.backend}), service {SERVICE}, entry {entry_name(path)}"


class KeyUnavailable(MemcliError):
    """No key for an encrypted store, or no way to keep a new one."""


def entry_name(path: Path) -> str:
    """The keyring user name of the store at `path`: its absolute, resolved path."""
    return str(path.expanduser().resolve())


def key_for(path: Path, *, refresh: bool = False) -> StoreKey:
    """The key of the encrypted store at `path` (MEMCLI_KEY first, then the keyring)."""
    env = env_key()
    if env is not None:
        return env
    entry = entry_name(path)
    if not refresh and entry in _cache:
        return _cache[entry]
    backend = usable_backend(
        f"the store {path} is encrypted and {ENV_VAR} is not set",
        f"set {ENV_VAR} to the store's key (or open it where its keyring is)",
    )
    secret = _call(backend, "get_password", SERVICE, entry)
    if not secret:
        raise KeyUnavailable(
            f"the store {path} is encrypted and the keyring ({backend.name}) holds no key "
            f"for it (service {SERVICE}, entry {entry})",
            f"set {ENV_VAR} to its key; keys are kept per path, so a moved store needs "
            "its key under the new path",
        )
    key = StoreKey(secret, "keyring", backend.name)
    _cache[entry] = key
    return key


def new_key(path: Path) -> StoreKey:
    """A key for a store about to be encrypted: MEMCLI_KEY, or 256 random bits saved in the
    keyring (and read back, so a backend that silently drops secrets is caught before any
    data depends on the key)."""
    env = env_key()
    if env is not None:
        return env
    backend = usable_backend("encryption keeps the store's key in the OS keyring")
    entry = entry_name(path)
    secret = secrets.token_hex(32)
    _call(backend, "set_password", SERVICE, entry, secret)
    if _call(backend, "get_password", SERVICE, entry) != secret:
        raise KeyUnavailable(
            f"the keyring ({backend.name}) did not keep the new key; nothing was encrypted",
            f"check the keyring, or set {ENV_VAR} ({GENERATE_HINT})",
        )
    key = StoreKey(secret, "keyring", backend.name)
    _cache[entry] = key
    return key


def forget_key(path: Path) -> bool:
    """Remove the store's key from the keyring (after decrypting it); True when one was
    removed. With MEMCLI_KEY set the keyring is not touched."""
    if env_key() is not None:
        return False
    entry = entry_name(path)
    _cache.pop(entry, None)
    backend = usable_backend("removing the key from the keyring")
    if _call(backend, "get_password", SERVICE, entry) is None:
        return False
    _call(backend, "delete_password", SERVICE, entry)
    return True


def drop_cached(path: Path) -> None:
    _cache.pop(entry_name(path), None)


def clear_cache() -> None:
    _cache.clear()


def env_key() -> StoreKey | None:
    """MEMCLI_KEY as a key, or None when unset; refuses a short or malformed one."""
    value = os.environ.get(ENV_VAR)
    if value is None or value == "":
        return None
    if len(value) < MIN_ENV_KEY_CHARS or not value.isprintable() or value.strip() != value:
        raise KeyUnavailable(
            f"{ENV_VAR} must be at least {MIN_ENV_KEY_CHARS} printable characters, "
            "without spaces at either end",
            f"use a random secret, {GENERATE_HINT}, and keep a copy of it",
        )
    return StoreKey(value, ENV_VAR)


def keyring_status() -> tuple[bool, str]:
    """(usable, description) of the OS keyring, for doctor."""
    backend, why = _backend()
    if backend is None:
        return False, f"none usable ({why}); encryption needs {ENV_VAR}"
    return True, f"{backend.name} (service {SERVICE}, one entry per store path)"


def usable_backend(purpose: str, hint: str | None = None) -> Any:
    """keyring's backend; KeyUnavailable saying `purpose` and `hint` (default: how to make
    a MEMCLI_KEY) when there is none (a headless machine)."""
    backend, why = _backend()
    if backend is None:
        raise KeyUnavailable(
            f"{purpose}, but there is no usable OS keyring ({why})",
            hint
            or f"set {ENV_VAR} to a random secret of {MIN_ENV_KEY_CHARS}+ characters "
            f"({GENERATE_HINT}) and keep a copy: without it the store cannot be read",
        )
    return backend


def _backend() -> tuple[Any, str]:
    """(keyring's backend, "") or (None, why): its 'fail' and 'null' backends do not count."""
    try:
        import keyring
        from keyring.backends import fail, null
    except ImportError:  # pragma: no cover - keyring is a dependency
        return None, "the keyring package is not installed"
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring | null.Keyring):
        return None, "no Secret Service, Keychain or Credential Locker"
    return backend, ""


def _call(backend: Any, method: str, *args: str) -> Any:
    """One keyring call; a backend's failure (locked, D-Bus gone, denied) becomes a
    KeyUnavailable naming MEMCLI_KEY. Backends raise their own exception types (jeepney,
    secretstorage, Windows errors), hence the broad catch at this boundary."""
    try:
        return getattr(backend, method)(*args)
    except Exception as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise KeyUnavailable(
            f"the keyring ({backend.name}) failed: {detail}",
            f"unlock the keyring and retry, or set {ENV_VAR} ({GENERATE_HINT})",
        ) from exc
