"""The real `memcli tui` in a real terminal: tmux runs it, send-keys types, capture-pane reads.

Needs tmux (Debian: apt-get install tmux; .ci/run installs it). Skipped without tmux, except
under CI=true, where a missing tmux fails the run instead of hiding the test.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(
    TMUX is None and os.environ.get("CI") != "true",
    reason="tmux is not installed (apt-get install tmux); under CI=true this test runs",
)


class Terminal:
    """One tmux server of our own (its own socket) running one command in a 140x40 pane."""

    def __init__(self, socket: str, command: str) -> None:
        assert TMUX is not None, "tmux is required under CI=true (apt-get install tmux)"
        self.base = [TMUX, "-L", socket, "-f", os.devnull]
        # The shell reports how the command ended, then keeps the pane for capture-pane.
        script = f'{command}; echo "[exit=$?]"; sleep 120'
        self._tmux("new-session", "-d", "-x", "140", "-y", "40", "-s", "t", "sh", "-c", script)

    def _tmux(self, *args: str) -> str:
        # os.environ, not the C environment: under pytest, readline has put COLUMNS=80 and
        # LINES=24 in the latter, and the first tmux call starts the server with it.
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        done = subprocess.run(
            [*self.base, *args], capture_output=True, text=True, timeout=30, env=env
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "t", *keys)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "t", "-l", text)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t")

    def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            assert "Traceback" not in screen, screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the screen shows:\n{screen}")
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True, timeout=30)


@pytest.fixture
def terminal(store: Path, tmp_path: Path) -> Iterator[type[Terminal]]:
    opened: list[Terminal] = []
    socket = f"memcli-test-{os.getpid()}-{tmp_path.name}"

    def start(command: str) -> Terminal:
        term = Terminal(socket, command)
        opened.append(term)
        return term

    yield start  # type: ignore[misc]
    for term in opened:
        term.close()


def _memcli(*args: str) -> str:
    env = f"MEMCLI_HOME={shlex.quote(os.environ['MEMCLI_HOME'])} TZ=UTC"
    return f"env {env} {shlex.quote(sys.executable)} -m memcli " + " ".join(args)


def test_open_search_read_and_quit(terminal: type[Terminal]) -> None:
    term = terminal(_memcli("tui"))
    term.wait_for("9 recent")
    term.type("dentist")
    assert "dentist appointment on friday at 10" in term.wait_for("1 found")
    term.keys("Enter")  # open: the detail pane shows its history
    term.wait_for("(reinforced once)")
    term.keys("Escape")  # back to the search
    time.sleep(1)
    term.keys("Escape")  # clear the search box: the recent list again
    term.wait_for("9 recent")
    term.keys("Escape")  # quit
    screen = term.wait_for("[exit=0]")
    assert "Traceback" not in screen


def test_pick_prints_the_chosen_text_for_the_shell(terminal: type[Terminal]) -> None:
    term = terminal(f'x=$({_memcli("tui", "--pick")}); echo "rc=$? picked=[$x]"')
    screen = term.wait_for("9 recent")
    # Drawn at the terminal's size although stdout is a pipe (memcli.tui.driver).
    line = screen.splitlines()[1]  # the search input, across the whole width, drawn once
    assert len(line) == 140 and line.endswith("▎") and line.count("▎") == 1, screen
    term.type("wifi password")
    term.wait_for("2 found")
    term.keys("Enter")
    screen = term.wait_for("[exit=0]")
    assert "rc=0 picked=[home wifi password is correct-horse-battery]" in screen


def test_pick_without_a_choice_prints_nothing_and_fails(terminal: type[Terminal]) -> None:
    term = terminal(f'x=$({_memcli("tui", "--pick")}); echo "rc=$? picked=[$x]"')
    term.wait_for("9 recent")
    term.keys("Escape")
    screen = term.wait_for("[exit=0]")
    assert "rc=1 picked=[]" in screen
