"""Encrypted stores: DuckDB's own AES-GCM encryption of the whole file and its WAL.

How memcli knows a store is encrypted before opening it: DuckDB never encrypts the file's
main header. After an 8-byte checksum come the magic bytes "DUCK", the storage version (8
bytes) and four 64-bit flag words; bit 0 of the first is DuckDB's ENCRYPTED_DATABASE_FLAG.
Reading those 28 bytes answers without a key and without opening the database, in the same
read as the magic check plain stores already had, so a plain store pays nothing more.

An encrypted store is opened through an in-memory DuckDB connection that ATTACHes the file
with its key and makes it the default database (`USE`). Reading needs nothing more: DuckDB's
built-in mbedtls decrypts. Writing needs OpenSSL's random numbers, which DuckDB takes from
its httpfs extension; memcli loads the official signed build from the PyPI package
duckdb-extension-httpfs (pinned to DuckDB's version) by path, with DuckDB's signature check
on, so it works offline. Read-only connections skip that load (~50 ms) and cannot spill to
disk (spilling would need httpfs to encrypt the temporary files); writers spill into
`<store>.tmp`, encrypted.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from memcli.errors import MemcliError

ALIAS = "memcli_store"
HEADER_BYTES = 28
_FLAGS_OFFSET = 20
_ENCRYPTED_DATABASE_FLAG = 1
HTTPFS_PACKAGE = "duckdb-extension-httpfs"

# memcli never lets DuckDB download an extension (SPEC: no network but the model download).
CONNECTION_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
}


class WrongKey(MemcliError):
    """The key does not open the encrypted store."""


class EncryptionUnavailable(MemcliError):
    """DuckDB's httpfs extension (needed to write encrypted files) cannot be loaded."""


def header_says_encrypted(head: bytes) -> bool:
    """True when DuckDB's main header (the first HEADER_BYTES bytes) flags encryption."""
    if len(head) < HEADER_BYTES:
        return False
    flags = int.from_bytes(head[_FLAGS_OFFSET:HEADER_BYTES], "little")
    return bool(flags & _ENCRYPTED_DATABASE_FLAG)


def is_encrypted(path: Path) -> bool:
    """Whether the DuckDB file at `path` is encrypted (False when it cannot be read)."""
    try:
        with path.open("rb") as handle:
            return header_says_encrypted(handle.read(HEADER_BYTES))
    except OSError:
        return False


def attach_options(secret: str) -> str:
    """The ATTACH option that encrypts (or opens) a database with `secret`."""
    return f"ENCRYPTION_KEY '{_quoted(secret)}'"


def httpfs_extension() -> Path:
    """The httpfs build shipped by duckdb-extension-httpfs for this DuckDB version."""
    wanted = f"{HTTPFS_PACKAGE}=={duckdb.__version__}"
    try:
        import duckdb_extension_httpfs
    except ImportError:
        raise EncryptionUnavailable(
            f"writing an encrypted store needs the package {wanted}, which is not installed",
            f"pip install '{wanted}' (into memcli's environment)",
        ) from None
    folder = Path(duckdb_extension_httpfs.__file__).parent / "extensions"
    candidate = folder / f"v{duckdb.__version__}" / "httpfs.duckdb_extension"
    if not candidate.is_file():
        raise EncryptionUnavailable(
            f"{HTTPFS_PACKAGE} has no httpfs build for DuckDB {duckdb.__version__}",
            f"pip install '{wanted}' (extensions must match DuckDB's version exactly)",
        )
    return candidate


def load_crypto(con: duckdb.DuckDBPyConnection) -> None:
    """Load httpfs (OpenSSL) into `con`, so it can write encrypted databases. The signature
    check stays on: DuckDB refuses a build that is not signed by the DuckDB foundation."""
    extension = httpfs_extension()
    try:
        con.execute(f"LOAD '{_quoted(str(extension))}'")
    except duckdb.Error as exc:
        raise EncryptionUnavailable(
            f"DuckDB could not load {extension}: {_first_line(exc)}",
            f"reinstall '{HTTPFS_PACKAGE}=={duckdb.__version__}'",
        ) from exc


def connection(path: Path, *, writable: bool) -> duckdb.DuckDBPyConnection:
    """An in-memory connection ready to attach the encrypted store at `path`."""
    config = dict(CONNECTION_CONFIG)
    if writable:
        config.update(temp_directory=str(path) + ".tmp", temp_file_encryption=True)
    else:
        config.update(temp_directory="")
    con = duckdb.connect(":memory:", config=config)
    if writable:
        try:
            load_crypto(con)
        except BaseException:
            con.close()
            raise
    return con


def attach(
    con: duckdb.DuckDBPyConnection, path: Path, secret: str, *, read_only: bool, origin: str
) -> None:
    """ATTACH the store with its key and make it the connection's default database.

    Raises WrongKey when the key does not open it; lock errors (duckdb.IOException) pass
    through for the caller's retries."""
    options = attach_options(secret) + (", READ_ONLY" if read_only else "")
    try:
        con.execute(f"ATTACH '{_quoted(str(path))}' AS {ALIAS} ({options})")
    except duckdb.InvalidInputException as exc:
        if "encryption key" in str(exc).lower():
            raise WrongKey(
                f"the key from {origin} does not open the encrypted store {path}",
                "set MEMCLI_KEY to the store's key (or unset it to use the keyring's)",
            ) from None
        raise
    con.execute(f"USE {ALIAS}")


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
