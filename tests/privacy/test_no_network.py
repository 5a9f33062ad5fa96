"""Apart from the model download, memcli opens no network connection.

Every command runs as a real process with networking taken away in three ways at once, as
far as this machine allows:
- `unshare -n`: a network namespace of its own, with no interface but a downed loopback, so
  no connection can succeed (needs root or user namespaces);
- `strace -f -e trace=connect`: records every connect() of the process tree, including any
  made by native code (DuckDB, onnxruntime), and the test fails on any AF_INET/AF_INET6 one;
- a sitecustomize that makes Python's socket connect and getaddrinfo fail and records the
  attempt (the fallback where neither program is usable).
The commands must still succeed, with the local tiny model. Under CI=true, unshare and strace
must work (.ci/run installs strace); elsewhere the test says what it could not use.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import secrets
import shutil
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import Any

import pytest

GUARD = """
import json, os, socket

_LOG = os.environ["MEMCLI_TEST_NET_LOG"]
_INET = (socket.AF_INET, socket.AF_INET6)


def _record(what, detail):
    with open(_LOG, "a") as handle:
        handle.write(json.dumps([what, repr(detail)]) + "\\n")


def _guard(original):
    def guarded(self, address):
        if self.family in _INET:
            _record("connect", address)
            raise OSError(101, "network is unreachable (memcli no-network test)")
        return original(self, address)
    return guarded


def _getaddrinfo(host, *args, **kwargs):
    _record("getaddrinfo", host)
    raise socket.gaierror(-2, "name resolution is off (memcli no-network test)")


socket.socket.connect = _guard(socket.socket.connect)
socket.socket.connect_ex = _guard(socket.socket.connect_ex)
socket.getaddrinfo = _getaddrinfo
"""

SECRET = "zebraphone-4471 is the vault combination"


def _usable(command: list[str]) -> bool:
    if shutil.which(command[0]) is None:
        return False
    return subprocess.run([*command, "true"], capture_output=True).returncode == 0


class Offline:
    """Runs memcli with the network taken away and keeps the evidence."""

    def __init__(self, tmp: Path) -> None:
        self.folder = tmp / "net"
        self.folder.mkdir()
        (self.folder / "sitecustomize.py").write_text(GUARD)
        self.guard_log = self.folder / "python-attempts.log"
        self.trace_log = self.folder / "strace.log"
        self.unshare = _usable(["unshare", "-n"])
        self.strace = _usable(["strace", "-f", "-qq", "-e", "trace=connect", "-o", os.devnull])
        if os.environ.get("CI") == "true":
            assert self.unshare, "CI must run the no-network test under unshare -n (root)"
            assert self.strace, "CI must trace connect() with strace (.ci/run installs it)"
        self.env = dict(os.environ)
        self.env["PYTHONPATH"] = os.pathsep.join(
            [str(self.folder), str(Path(__file__).resolve().parents[2])]
        )
        self.env["MEMCLI_TEST_NET_LOG"] = str(self.guard_log)
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "http_proxy", "https_proxy"):
            self.env.pop(name, None)
        self.traces: list[Path] = []

    def command(self, *args: str) -> list[str]:
        prefix: list[str] = []
        if self.strace:
            trace = self.folder / f"strace-{len(self.traces)}.log"
            self.traces.append(trace)
            prefix += ["strace", "-f", "-qq", "-e", "trace=connect", "-o", str(trace)]
        if self.unshare:
            prefix += ["unshare", "-n"]
        return [*prefix, sys.executable, "-m", "memcli", *args]

    def run(self, *args: str, extra_env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            self.command(*args),
            capture_output=True,
            text=True,
            env={**self.env, **(extra_env or {})},
            timeout=300,
        )
        assert done.returncode == 0, (args, done.stderr[-2000:])
        return done.stdout

    def attempts(self) -> list[str]:
        """Every network connection attempted by any command so far."""
        found = self.guard_log.read_text().splitlines() if self.guard_log.exists() else []
        for trace in self.traces:
            found += [
                line
                for line in trace.read_text().splitlines()
                if "AF_INET" in line  # AF_INET and AF_INET6; AF_UNIX (local IPC) is not network
            ]
        return found


def test_no_command_opens_a_connection(memcli_home: Path, tmp_path: Path) -> None:
    offline = Offline(tmp_path)
    memory_id = offline.run("add", SECRET, "-t", "vault").strip()
    offline.run("add", "the dentist appointment is on tuesday", "-t", "health")
    hits = json.loads(offline.run("--json", "recall", "vault combination"))
    assert hits and hits[0]["id"] == memory_id
    offline.run("show", memory_id)
    offline.run("list")
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"text": "an imported note about trains"}) + "\n")
    offline.run("import", str(source))
    assert "imported note" in offline.run("export")
    offline.run("stats")
    offline.run("doctor")
    report = json.loads(offline.run("--json", "consolidate"))
    assert isinstance(report, dict)

    # An encrypted store loads httpfs: the extension must not reach out either.
    encrypted = tmp_path / "sealed" / "memcli.duckdb"
    key = {"MEMCLI_KEY": secrets.token_hex(32)}
    offline.run("--db", str(encrypted), "init", "--encrypt", extra_env=key)
    sealed_id = offline.run("--db", str(encrypted), "add", SECRET, extra_env=key).strip()
    sealed_hits = offline.run("--db", str(encrypted), "--json", "recall", "vault", extra_env=key)
    assert json.loads(sealed_hits)[0]["id"] == sealed_id
    offline.run("--db", str(encrypted), "consolidate", extra_env=key)

    picked = pick_in_a_terminal(offline, "vault")
    assert picked == SECRET

    assert offline.attempts() == []
    # The evidence is live: a process that does connect is caught, by strace (native code
    # included) where it runs, and by the Python guard.
    connect = "import socket; socket.create_connection(('192.0.2.1', 80), 1)"
    if offline.strace:
        trace = tmp_path / "probe.log"
        subprocess.run(
            ["strace", "-f", "-qq", "-e", "trace=connect", "-o", str(trace)]
            + (["unshare", "-n"] if offline.unshare else [])
            + [sys.executable, "-c", connect],
            capture_output=True,
        )
        assert "AF_INET" in trace.read_text()
    probe = subprocess.run([sys.executable, "-c", connect], env=offline.env, capture_output=True)
    assert probe.returncode != 0 and offline.attempts()


def pick_in_a_terminal(offline: Offline, query: str) -> str:
    """`memcli tui --pick` in a pseudo-terminal: type the query, wait for the hit, press
    Enter; returns what it printed on stdout (the terminal is its stdin and stderr)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    process = subprocess.Popen(
        offline.command("tui", "--pick"),
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=follower,
        env={**offline.env, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"},
        start_new_session=True,
    )
    os.close(follower)
    screen = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                return
            if not chunk:
                return
            screen.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        _wait_for(screen, b"zebraphone", process)
        os.write(leader, query.encode())
        time.sleep(1.0)  # the search runs as you type, in a worker
        os.write(leader, b"\r")
        stdout, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
    assert process.returncode == 0, bytes(screen[-3000:]).decode("utf-8", "replace")
    return stdout.decode().strip()


def _wait_for(screen: bytearray, marker: bytes, process: Any, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while marker not in screen:
        if process.poll() is not None or time.monotonic() > deadline:
            tail = bytes(screen[-3000:]).decode("utf-8", "replace")
            pytest.fail(f"the TUI never showed {marker!r}; it printed: {tail}")
        time.sleep(0.1)
