"""The key in a real Secret Service: gnome-keyring inside its own D-Bus session.

CI installs gnome-keyring and dbus (.ci/run) and this test must run there (CI=true makes a
missing program a failure). Elsewhere it is skipped, with the reason, when they are absent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

NEEDED = ("dbus-run-session", "dbus-send", "gnome-keyring-daemon")
SESSION = Path(__file__).with_name("keyring_session.py")


@pytest.fixture
def secret_service_programs() -> None:
    missing = [name for name in NEEDED if shutil.which(name) is None]
    if not missing:
        return
    message = f"needs {', '.join(missing)} (Debian: apt-get install gnome-keyring dbus)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the real keyring test: {message}")
    pytest.skip(message)


def test_the_key_lives_in_a_real_secret_service(
    secret_service_programs: None, memcli_home: Path, tmp_path: Path
) -> None:
    user_home = tmp_path / "user"
    runtime = tmp_path / "runtime"
    for folder in (user_home, runtime):
        folder.mkdir(mode=0o700)
    env = {
        **os.environ,
        "HOME": str(user_home),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_DATA_HOME": str(user_home / ".local" / "share"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    for name in ("DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND", "MEMCLI_KEY"):
        env.pop(name, None)
    done = subprocess.run(
        ["dbus-run-session", "--", sys.executable, str(SESSION)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    store = memcli_home / "memcli.duckdb"

    assert "SecretService" in seen["backend"]
    assert seen["init"]["code"] == 0, seen["init"]
    assert "SecretService" in json.loads(seen["init"]["stdout"])["key"]
    assert seen["key_length"] == 64  # 256 random bits, hex
    assert seen["add"]["code"] == 0, seen["add"]
    memory_id = seen["add"]["stdout"].strip()
    assert [hit["id"] for hit in json.loads(seen["recall"]["stdout"])] == [memory_id]
    stats = json.loads(seen["stats"]["stdout"])
    assert stats["encryption"].startswith("on") and "SecretService" in stats["keyring"]
    assert seen["secret_in_file"] is False

    # A wrong key and a missing one are refused with a message that says what to do.
    assert seen["wrong_key"]["code"] == 1
    assert "does not open the encrypted store" in seen["wrong_key"]["stderr"]
    assert "Traceback" not in seen["wrong_key"]["stderr"]
    assert seen["missing_key"]["code"] == 1
    assert "holds no key" in seen["missing_key"]["stderr"]
    assert "MEMCLI_KEY" in seen["missing_key"]["stderr"]
    assert [m["id"] for m in json.loads(seen["restored"]["stdout"])] == [memory_id]

    assert seen["decrypt"]["code"] == 0, seen["decrypt"]
    assert json.loads(seen["decrypt"]["stdout"])["key_removed"] is True
    assert seen["key_after_decrypt"] is None
    assert [m["id"] for m in json.loads(seen["after_decrypt"]["stdout"])] == [memory_id]
    duckdb.connect(str(store), read_only=True).close()  # plain again
