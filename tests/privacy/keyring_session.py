"""Run inside `dbus-run-session` by test_keyring_real.py: start gnome-keyring's Secret Service,
unlocked with a throwaway password, then use memcli against it and print what happened as
one JSON document (the test makes the assertions).

Environment: MEMCLI_HOME (a test's home with the tiny model's config), HOME and
XDG_RUNTIME_DIR pointing at empty private folders.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SECRET = "zebraphone-4471 is the vault combination"
THROWAWAY_PASSWORD = b"throwaway-test-password"


def start_secret_service() -> subprocess.Popen[bytes]:
    daemon = subprocess.Popen(
        ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert daemon.stdin is not None
    daemon.stdin.write(THROWAWAY_PASSWORD)  # --unlock reads the password from stdin
    daemon.stdin.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        owner = subprocess.run(
            [
                "dbus-send",
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ],
            capture_output=True,
            text=True,
        )
        if "boolean true" in owner.stdout:
            return daemon
        time.sleep(0.1)
    daemon.terminate()
    raise SystemExit("gnome-keyring-daemon did not register org.freedesktop.secrets")


def memcli(*args: str, key: str | None = None) -> dict[str, Any]:
    env = dict(os.environ)
    env.pop("MEMCLI_KEY", None)
    if key is not None:
        env["MEMCLI_KEY"] = key
    done = subprocess.run(
        [sys.executable, "-m", "memcli", *args], capture_output=True, text=True, env=env
    )
    return {"code": done.returncode, "stdout": done.stdout, "stderr": done.stderr}


def main() -> None:
    daemon = start_secret_service()
    try:
        import keyring

        from memcli.security.keys import SERVICE, entry_name

        store = Path(os.environ["MEMCLI_HOME"]) / "memcli.duckdb"
        entry = entry_name(store)
        seen: dict[str, Any] = {"backend": str(keyring.get_keyring())}
        seen["init"] = memcli("--json", "init", "--encrypt")
        key = keyring.get_password(SERVICE, entry)
        seen["key_length"] = len(key or "")
        seen["add"] = memcli("add", SECRET, "-t", "vault")
        seen["recall"] = memcli("--json", "recall", "vault combination")
        seen["stats"] = memcli("--json", "stats")
        seen["secret_in_file"] = SECRET.encode() in store.read_bytes()
        seen["wrong_key"] = memcli("list", key="f" * 64)
        keyring.delete_password(SERVICE, entry)
        seen["missing_key"] = memcli("list")
        keyring.set_password(SERVICE, entry, key or "")
        seen["restored"] = memcli("--json", "list")
        seen["decrypt"] = memcli("--json", "decrypt")
        seen["key_after_decrypt"] = keyring.get_password(SERVICE, entry)
        seen["after_decrypt"] = memcli("--json", "list")
        print(json.dumps(seen))
    finally:
        daemon.terminate()
        daemon.wait(10)


if __name__ == "__main__":
    main()
