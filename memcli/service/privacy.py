"""init (plain or encrypted), encrypt and decrypt.

Encrypting and decrypting are safe rewrites (memcli.store.rewrite): the store is copied into
a fresh file, verified table by table, and renamed over the old one while the write lock is
held, so a kill at any moment leaves either the old store or the complete new one. The key is
saved in the keyring (and read back) before any file depends on it, and removed from the
keyring only after the decrypted file has taken the store's place, also under the lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from memcli.errors import MemcliError, NotFound
from memcli.security import keys
from memcli.service.context import Context
from memcli.store import encryption
from memcli.store.connection import open_store
from memcli.store.rewrite import rewrite_store


@dataclass(frozen=True)
class InitReport:
    store: Path
    created: bool
    encrypted: bool
    key: str | None
    """Where the key lives (None for a plain store)."""


@dataclass(frozen=True)
class ConvertReport:
    store: Path
    bytes_before: int
    bytes_after: int
    key: str | None
    """Where the key now lives (encrypt), or None (decrypt)."""
    key_removed: bool = False
    """decrypt: the key was removed from the keyring."""


def init_store(ctx: Context, *, encrypt: bool) -> InitReport:
    """Create the store (encrypted when asked); an existing store is only checked."""
    path = ctx.settings.db_path
    if path.exists():
        with ctx.store(write=True) as store:
            key = store.key
        if encrypt and key is None:
            raise MemcliError(
                f"the store {path} already exists and is not encrypted",
                "memcli encrypt encrypts it in place",
            )
        return InitReport(path, False, key is not None, key.where(path) if key else None)
    if not encrypt:
        with ctx.store(write=True, create=True):
            pass
        return InitReport(path, True, False, None)
    encryption.httpfs_extension()  # fail before a key is saved for nothing
    key = keys.new_key(path)
    with open_store(
        path, write=True, create=True, lock_timeout=ctx.settings.lock_timeout, new_key=key
    ):
        pass
    return InitReport(path, True, True, key.where(path))


def encrypt(ctx: Context) -> ConvertReport:
    """Encrypt the plain store in place with a new key (keyring) or MEMCLI_KEY."""
    path = _existing_store(ctx, "memcli init --encrypt creates an encrypted store")
    encryption.httpfs_extension()
    with ctx.store(write=True) as store:
        if store.key is not None:
            raise MemcliError(
                f"the store {path} is already encrypted (key: {store.key.where(path)})",
                "to change the key: memcli decrypt, then memcli encrypt",
            )
        # Under the write lock, so no concurrent encrypt can replace the key in between.
        key = keys.new_key(path)
        encryption.load_crypto(store.con)
        result = rewrite_store(store, encryption.attach_options(key.secret))
    return ConvertReport(path, result.bytes_before, result.bytes_after, key.where(path))


def decrypt(ctx: Context) -> ConvertReport:
    """Rewrite the encrypted store as a plain one, then drop its key from the keyring."""
    path = _existing_store(ctx, 'memcli add "..." creates a store')
    with ctx.store(write=True) as store:
        key = store.key
        if key is None:
            raise MemcliError(f"the store {path} is not encrypted", "nothing to do")
        result = rewrite_store(store, attach_options="")  # "": a plain copy
        removed = False
        if key.origin == "keyring":
            # Still under the lock: a concurrent `memcli encrypt` cannot have saved a new
            # key for this path that we would delete.
            try:
                removed = keys.forget_key(path)
            except keys.KeyUnavailable as exc:
                ctx.notice(f"the store is decrypted, but its old key stays: {exc.message}")
    return ConvertReport(path, result.bytes_before, result.bytes_after, None, removed)


def _existing_store(ctx: Context, hint: str) -> Path:
    path = ctx.settings.db_path
    if not path.exists():
        raise NotFound(f"there is no store at {path}", hint)
    return path
