"""Encryption at rest: init --encrypt, encrypt, decrypt, keys in the keyring or MEMCLI_KEY.

The keyring here is an in-memory backend (tests/support/keyrings.py); test_keyring_real.py
runs the same flow against a real Secret Service.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from memcli.security import keys
from memcli.store import encryption
from memcli.store import rewrite as rewrite_module
from memcli.store.connection import rewrite_leftovers
from memcli.store.rewrite import RewriteFailed
from tests.cli.helpers import add, assert_clean_error, export_all, sha256
from tests.support.keyrings import MemoryKeyring

SECRET = "zebraphone-4471 is the vault combination"
SECRET_BYTES = b"zebraphone-4471"


def stored_key(keyring: MemoryKeyring, path: Path) -> str | None:
    return keyring.secrets.get((keys.SERVICE, keys.entry_name(path)))


def assert_unreadable_without_key(path: Path) -> None:
    """A plain DuckDB open fails, and the memory's text is in neither the file nor its WAL."""
    with pytest.raises(duckdb.Error, match="without a key"):
        duckdb.connect(str(path), read_only=True)
    assert encryption.is_encrypted(path)
    for candidate in (path, path.with_name(path.name + ".wal")):
        if candidate.exists():
            assert SECRET_BYTES not in candidate.read_bytes()


def test_plain_store_shows_the_text_in_its_bytes(cli: Any, store_path: Path) -> None:
    """The control for every 'not in the bytes' check below: the check can see the text."""
    add(cli, SECRET)
    assert SECRET_BYTES in store_path.read_bytes()
    assert not encryption.is_encrypted(store_path)


def test_init_encrypt_keeps_a_random_key_in_the_keyring(
    cli: Any, store_path: Path, memory_keyring: MemoryKeyring
) -> None:
    result = cli("--json", "init", "--encrypt")
    assert result.code == 0, result
    assert result.json()["encrypted"] is True
    assert "OS keyring" in result.json()["key"]
    key = stored_key(memory_keyring, store_path)
    assert key is not None and len(bytes.fromhex(key)) == 32  # 256 random bits
    assert list(memory_keyring.secrets) == [(keys.SERVICE, str(store_path.resolve()))]
    assert key not in "".join(p.read_text("latin-1") for p in store_path.parent.iterdir())

    memory_id = add(cli, SECRET, "-t", "vault")
    assert cli("--json", "recall", "vault combination").json()[0]["id"] == memory_id
    assert_unreadable_without_key(store_path)
    # ... and readable with it.
    con = duckdb.connect()
    con.execute(f"ATTACH '{store_path}' AS s (ENCRYPTION_KEY '{key}', READ_ONLY)")
    assert con.execute("SELECT text FROM s.memories").fetchall() == [(SECRET,)]
    con.close()


def test_stats_and_doctor_say_encrypted_and_where_the_key_is(
    cli: Any, store_path: Path, memory_keyring: MemoryKeyring
) -> None:
    plain = cli("--json", "stats").json()
    assert plain["encryption"] == "off"
    cli("init", "--encrypt")
    add(cli, SECRET)
    report = cli("--json", "stats").json()
    assert report["encryption"].startswith("on")
    assert "OS keyring" in report["keyring"] and str(store_path.resolve()) in report["keyring"]
    assert report["memories"]["total"] == 1
    doctor = cli("--json", "doctor").json()
    checks = {c["name"]: c for c in doctor["checks"]}
    assert checks["encryption"]["detail"].startswith("on") and checks["store"]["ok"], doctor
    assert "MemoryKeyring" in checks["keyring"]["detail"]


def test_without_a_keyring_init_encrypt_names_memcli_key_and_creates_nothing(
    cli: Any, store_path: Path, no_keyring: object
) -> None:
    before = sorted(p.name for p in store_path.parent.iterdir())
    result = cli("init", "--encrypt")
    assert_clean_error(result, 1, "no usable OS keyring", "MEMCLI_KEY")
    assert sorted(p.name for p in store_path.parent.iterdir()) == before
    doctor = {c["name"]: c for c in cli("--json", "doctor").json()["checks"]}
    assert "none usable" in doctor["keyring"]["detail"]


def test_memcli_key_from_the_environment(
    cli: Any, store_path: Path, no_keyring: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = secrets.token_hex(32)
    monkeypatch.setenv("MEMCLI_KEY", key)
    result = cli("init", "--encrypt")
    assert result.code == 0, result
    assert "MEMCLI_KEY" in result.stderr
    memory_id = add(cli, SECRET)
    assert_unreadable_without_key(store_path)
    assert cli("--json", "stats").json()["keyring"].startswith("key from MEMCLI_KEY")

    monkeypatch.setenv("MEMCLI_KEY", secrets.token_hex(32))
    before = sha256(store_path)
    assert_clean_error(cli("show", memory_id), 1, "does not open", "MEMCLI_KEY")
    assert_clean_error(cli("add", "another"), 1, "does not open")
    assert sha256(store_path) == before
    monkeypatch.delenv("MEMCLI_KEY")
    assert_clean_error(cli("list"), 1, "MEMCLI_KEY is not set", "no usable OS keyring")
    monkeypatch.setenv("MEMCLI_KEY", key)
    assert cli("show", memory_id).code == 0


@pytest.mark.parametrize("value", ["short", " " + "x" * 40, "x" * 40 + "\n"])
def test_a_weak_or_malformed_memcli_key_is_refused(
    cli: Any, store_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("MEMCLI_KEY", value)
    assert_clean_error(cli("init", "--encrypt"), 1, "MEMCLI_KEY must be at least 32")
    assert not store_path.exists()


def test_memcli_key_wins_over_the_keyring(
    cli: Any, store_path: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMCLI_KEY", secrets.token_hex(32))
    assert cli("init", "--encrypt").code == 0
    assert memory_keyring.secrets == {}  # memcli stores nothing when the user holds the key
    monkeypatch.delenv("MEMCLI_KEY")
    assert_clean_error(cli("list"), 1, "holds no key", "MEMCLI_KEY")


def test_a_lost_keyring_entry_is_a_clear_error(
    cli: Any, store_path: Path, memory_keyring: MemoryKeyring
) -> None:
    cli("init", "--encrypt")
    memory_id = add(cli, SECRET)
    saved = dict(memory_keyring.secrets)
    memory_keyring.secrets.clear()
    keys.clear_cache()
    before = sha256(store_path)
    for args in (("show", memory_id), ("recall", "vault"), ("add", "x y z"), ("stats",)):
        assert_clean_error(cli(*args), 1, "holds no key", str(store_path.resolve()))
    assert sha256(store_path) == before
    memory_keyring.secrets.update(saved)
    assert cli("show", memory_id).code == 0


def test_a_stale_cached_key_is_looked_up_again(
    cli: Any, store_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """A long-lived process (the TUI) keeps keys; when the store was re-keyed meanwhile by
    another process, the next open fetches the new key instead of failing."""
    cli("init", "--encrypt")
    memory_id = add(cli, SECRET)
    keys._cache[keys.entry_name(store_path)] = keys.StoreKey("0" * 64, "keyring", "stale")
    assert cli("show", memory_id).code == 0
    assert keys._cache[keys.entry_name(store_path)].secret == stored_key(memory_keyring, store_path)


def _varied_store(cli: Any) -> list[str]:
    """Memories with tags, a pin, an archived one, a superseded one and history."""
    first = add(cli, "the old office phone is 555-0100", "-t", "phone")
    add(cli, "the new office phone is 555-0199", "-t", "phone", "--supersedes", first)
    pinned = add(cli, SECRET, "-t", "vault", "-i", "5", "--pin")
    archived = add(cli, "a note about bread and milk", "--at", "2024-03-01")
    assert cli("archive", archived).code == 0
    assert cli("tag", pinned, "+safe").code == 0
    return [first, pinned, archived]


def test_encrypt_then_decrypt_keeps_every_memory(
    cli: Any, store_path: Path, memory_keyring: MemoryKeyring
) -> None:
    _varied_store(cli)
    before = export_all(cli)
    result = cli("--json", "encrypt")
    assert result.code == 0, result
    assert result.json()["encrypted"] is True
    assert stored_key(memory_keyring, store_path) is not None
    assert_unreadable_without_key(store_path)
    assert export_all(cli) == before
    assert cli("--json", "recall", "vault combination").json()[0]["text"] == SECRET
    assert rewrite_leftovers(store_path) == []
    before = export_all(cli)  # recall reinforced the memory it showed

    again = cli("encrypt")
    assert_clean_error(again, 1, "already encrypted")

    result = cli("--json", "decrypt")
    assert result.code == 0, result
    assert result.json()["key_removed"] is True
    assert memory_keyring.secrets == {}
    assert not encryption.is_encrypted(store_path)
    duckdb.connect(str(store_path), read_only=True).close()
    assert export_all(cli) == before
    assert_clean_error(cli("decrypt"), 1, "not encrypted")
    assert rewrite_leftovers(store_path) == []


def test_encrypt_with_memcli_key_and_no_keyring(
    cli: Any, store_path: Path, no_keyring: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    _varied_store(cli)
    before = export_all(cli)
    assert_clean_error(cli("encrypt"), 1, "no usable OS keyring", "MEMCLI_KEY")
    assert not encryption.is_encrypted(store_path)
    monkeypatch.setenv("MEMCLI_KEY", secrets.token_hex(32))
    assert cli("encrypt").code == 0
    assert_unreadable_without_key(store_path)
    assert export_all(cli) == before
    result = cli("--json", "decrypt")
    assert result.code == 0 and result.json()["key_removed"] is False
    monkeypatch.delenv("MEMCLI_KEY")
    assert export_all(cli) == before


def test_a_failed_encrypt_leaves_the_plain_store_as_it_was(
    cli: Any, store_path: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    _varied_store(cli)
    cli("list")  # any pending checkpoint happens now, not during the comparison
    before = sha256(store_path)

    def broken(con: object, source: str) -> None:
        raise RewriteFailed("the copy of table memories does not match the original")

    monkeypatch.setattr("memcli.store.rewrite._verify", broken)
    result = cli("encrypt")
    assert result.code == 1 and "Traceback" not in result.stderr
    assert sha256(store_path) == before
    assert not encryption.is_encrypted(store_path)
    assert rewrite_leftovers(store_path) == []


def test_encrypt_and_decrypt_need_a_store(cli: Any, store_path: Path) -> None:
    assert_clean_error(cli("encrypt"), 1, "no store", "init --encrypt")
    assert_clean_error(cli("decrypt"), 1, "no store")
    assert not store_path.exists()


def test_init_encrypt_on_an_existing_plain_store_points_at_encrypt(
    cli: Any, store_path: Path, memory_keyring: MemoryKeyring
) -> None:
    add(cli, "a plain note")
    before = sha256(store_path)
    assert_clean_error(cli("init", "--encrypt"), 1, "not encrypted", "memcli encrypt")
    assert sha256(store_path) == before and memory_keyring.secrets == {}


def test_init_on_an_existing_encrypted_store_is_a_no_op(
    cli: Any, store_path: Path, memory_keyring: MemoryKeyring
) -> None:
    cli("init", "--encrypt")
    key = stored_key(memory_keyring, store_path)
    for args in (("--json", "init", "--encrypt"), ("--json", "init")):
        result = cli(*args)
        assert result.code == 0, result
        assert result.json() == {
            "store": str(store_path),
            "created": False,
            "encrypted": True,
            "key": result.json()["key"],
        }
    assert stored_key(memory_keyring, store_path) == key


def test_httpfs_is_loaded_from_the_package_with_signature_checks_on(tmp_path: Path) -> None:
    con = encryption.connection(tmp_path / "s.duckdb", writable=True)
    try:
        settings = dict(
            con.execute(
                "SELECT name, value FROM duckdb_settings() WHERE name IN "
                "('allow_unsigned_extensions', 'autoinstall_known_extensions', "
                "'temp_file_encryption', 'temp_directory')"
            ).fetchall()
        )
        loaded = con.execute(
            "SELECT loaded FROM duckdb_extensions() WHERE extension_name = 'httpfs'"
        ).fetchone()
    finally:
        con.close()
    assert settings["allow_unsigned_extensions"] == "false"
    assert settings["autoinstall_known_extensions"] == "false"
    assert settings["temp_file_encryption"] == "true"
    assert settings["temp_directory"] == str(tmp_path / "s.duckdb") + ".tmp"
    assert loaded == (True,)


def test_readers_of_an_encrypted_store_skip_httpfs_and_never_spill(tmp_path: Path) -> None:
    con = encryption.connection(tmp_path / "s.duckdb", writable=False)
    try:
        loaded = con.execute(
            "SELECT loaded FROM duckdb_extensions() WHERE extension_name = 'httpfs'"
        ).fetchone()
        temp = con.execute("SELECT current_setting('temp_directory')").fetchone()
    finally:
        con.close()
    assert loaded == (False,) and temp == ("",)


def test_the_header_tells_encrypted_from_plain(tmp_path: Path) -> None:
    plain, sealed = tmp_path / "plain.duckdb", tmp_path / "sealed.duckdb"
    duckdb.connect(str(plain)).close()
    con = encryption.connection(sealed, writable=True)
    con.execute(f"ATTACH '{sealed}' AS s ({encryption.attach_options('k' * 40)})")
    con.close()
    assert not encryption.is_encrypted(plain)
    assert encryption.is_encrypted(sealed)
    assert not encryption.is_encrypted(tmp_path / "missing.duckdb")
    assert not encryption.header_says_encrypted(b"short")


def test_a_key_with_quotes_is_passed_safely(
    cli: Any, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMCLI_KEY", "it's a 'quoted' secret; DROP TABLE x; --" + "q" * 10)
    assert cli("init", "--encrypt").code == 0
    memory_id = add(cli, SECRET)
    assert cli("show", memory_id).code == 0
    assert_unreadable_without_key(store_path)


def test_erasure_keeps_an_encrypted_store_encrypted(
    cli: Any, store_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """forget --now rewrites the store (memcli.store.rewrite): the copy is encrypted with
    the same key, never written in plain text."""
    cli("init", "--encrypt")
    keep = add(cli, "a note about bread and milk")
    gone = add(cli, SECRET)
    key = stored_key(memory_keyring, store_path)
    result = cli("forget", gone, "-y", "--now")
    assert result.code == 0, result
    assert_unreadable_without_key(store_path)
    assert stored_key(memory_keyring, store_path) == key
    assert [m["id"] for m in export_all(cli)] == [keep]


def test_a_copy_that_does_not_reopen_never_replaces_the_store(
    cli: Any, store_path: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(cli, "a plain note")
    cli("list")
    before = sha256(store_path)
    original = rewrite_module._read_back

    def with_another_key(con: Any, fresh: Path, options: str, written: Any) -> None:
        original(con, fresh, encryption.attach_options("x" * 40), written)

    monkeypatch.setattr(rewrite_module, "_read_back", with_another_key)
    result = cli("encrypt")
    assert result.code == 1 and "does not open" in result.stderr, result
    assert sha256(store_path) == before and not encryption.is_encrypted(store_path)
    assert rewrite_leftovers(store_path) == []


HOLDER = """
import sys, time
from pathlib import Path
from memcli.store.connection import open_store
with open_store(Path(sys.argv[1]), write=True):
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_a_held_encrypted_store_is_busy_then_free(
    cli: Any, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ATTACH of an encrypted store is retried like a plain connect: exit 3 only once
    the budget is spent, success when the holder lets go within it."""
    monkeypatch.setenv("MEMCLI_KEY", secrets.token_hex(32))
    cli("init", "--encrypt")
    for hold, budget, expected in ((30, "0.5", 3), (1.5, "20", 0)):
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(store_path), str(hold)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
            monkeypatch.setenv("MEMCLI_LOCK_TIMEOUT", budget)
            result = cli("add", f"a note added while held for {hold}s")
        finally:
            holder.kill()
            holder.wait()
        assert result.code == expected, result
        if expected == 3:
            assert_clean_error(result, 3, "busy")
