"""Owner-only files: the encrypted store and its WAL, rewrite copies, spill files, exports,
and doctor's check. (The plain store's 0600 / 0700 is tested in tests/store/test_store.py.)"""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from memcli.security.keys import StoreKey
from memcli.store import encryption
from memcli.store import rewrite as rewrite_module
from memcli.store.connection import open_store, rewrite_leftovers
from tests.cli.helpers import add
from tests.support.keyrings import MemoryKeyring

KEY = StoreKey(secrets.token_hex(32), "MEMCLI_KEY")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_encrypted_store_is_private(
    memcli_proc: Any, tmp_path: Path, memcli_home: Path, umask_022: None
) -> None:
    db = tmp_path / "new" / "deeper" / "memcli.duckdb"
    env = {"MEMCLI_KEY": secrets.token_hex(32)}
    assert memcli_proc("--db", str(db), "init", "--encrypt", env=env).code == 0
    assert memcli_proc("--db", str(db), "add", "a private note", env=env).code == 0
    assert mode(db) == 0o600
    assert mode(db.parent) == 0o700 and mode(db.parent.parent) == 0o700


KILLED_WRITER = """
import os, sys
from pathlib import Path
from memcli.store.connection import open_store
with open_store(Path(sys.argv[1]), write=True) as store:
    store.con.execute("SET checkpoint_threshold = '1GB'")
    store.con.execute("CREATE TABLE scratch (t VARCHAR)")
    store.con.execute("INSERT INTO scratch VALUES ('walsecret-9931')")
    os._exit(0)  # as if killed: no checkpoint, the change lives only in the WAL
"""


def test_encrypted_wal_is_private_encrypted_and_replayed(
    store_path: Path, monkeypatch: pytest.MonkeyPatch, umask_022: None
) -> None:
    monkeypatch.setenv("MEMCLI_KEY", KEY.secret)  # the writer subprocess inherits it
    with open_store(store_path, write=True, create=True, new_key=KEY):
        pass
    assert encryption.is_encrypted(store_path)
    subprocess.run([sys.executable, "-c", KILLED_WRITER, str(store_path)], check=True)
    wal = store_path.with_name(store_path.name + ".wal")
    assert wal.exists() and mode(wal) == 0o600
    assert b"walsecret-9931" not in wal.read_bytes()
    with open_store(store_path, write=False) as store:
        assert store.con.execute("SELECT t FROM scratch").fetchall() == [("walsecret-9931",)]


def test_rewrite_copies_are_private_while_they_exist(
    cli: Any, store_path: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(cli, "a note to copy")
    seen: dict[str, int] = {}
    original = rewrite_module._verify

    def watching(con: Any, source: str) -> None:
        for copy in rewrite_leftovers(store_path):
            seen[copy.name] = mode(copy)
        original(con, source)

    monkeypatch.setattr(rewrite_module, "_verify", watching)
    old = os.umask(0o022)
    try:
        assert cli("encrypt").code == 0
    finally:
        os.umask(old)
    assert seen and set(seen.values()) == {0o600}, seen
    assert rewrite_leftovers(store_path) == []


def test_spill_files_of_an_encrypted_writer_are_private(tmp_path: Path, umask_022: None) -> None:
    """A writer that outgrows its memory spills into <store>.tmp: a 0700 folder of 0600
    files (encrypted: temp_file_encryption is on, see test_encryption.py)."""
    path = tmp_path / "s.duckdb"
    with open_store(path, write=True, create=True, new_key=KEY) as store:
        spill = Path(str(path) + ".tmp")
        modes: dict[str, int] = {}
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                for item in spill.glob("*") if spill.exists() else []:
                    try:
                        modes[item.name] = mode(item)
                        modes["<folder>"] = mode(spill)
                    except FileNotFoundError:
                        pass
                time.sleep(0.005)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            store.con.execute("SET memory_limit = '40MB'")
            store.con.execute("SET threads = 1")
            store.con.execute(
                "SELECT count(*) FROM (SELECT 'spill' || i::VARCHAR || repeat('x', 40) AS s "
                "FROM range(1500000) t(i) ORDER BY s DESC)"
            ).fetchall()
        finally:
            done.set()
            watcher.join()
    assert modes.pop("<folder>") == 0o700
    assert modes and set(modes.values()) == {0o600}, modes


def test_export_files_are_private(cli: Any, tmp_path: Path, umask_022: None) -> None:
    add(cli, "a note to back up")
    target = tmp_path / "backup.jsonl"
    target.write_text("old")
    os.chmod(target, 0o644)
    assert cli("export", str(target)).code == 0
    assert mode(target) == 0o600 and "a note to back up" in target.read_text()
    fresh = tmp_path / "notes.md"
    assert cli("export", "--format", "md", str(fresh)).code == 0
    assert mode(fresh) == 0o600


def test_doctor_flags_loose_permissions(cli: Any, store_path: Path) -> None:
    add(cli, "one note")
    os.chmod(store_path.parent, 0o700)

    def permissions() -> dict[str, Any]:
        checks = {c["name"]: c for c in cli("--json", "doctor").json()["checks"]}
        return dict(checks["permissions"])

    assert permissions()["ok"] is True
    os.chmod(store_path, 0o644)
    check = permissions()
    assert check["ok"] is False and f"chmod 600 {store_path}" in check["hint"]
    os.chmod(store_path, 0o600)
    os.chmod(store_path.parent, 0o775)  # others could replace the store or plant a WAL
    check = permissions()
    assert check["ok"] is False and f"chmod 700 {store_path.parent}" in check["hint"]
    os.chmod(store_path.parent, 0o755)  # others only see the names: reported, accepted
    check = permissions()
    assert check["ok"] is True and "0755" in check["detail"]
    assert cli("doctor").code == 0
