"""memcli schedule: the cron line against the real crontab program, systemd and launchd files."""

from __future__ import annotations

import os
import plistlib
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memcli.service.schedule import CRON_MARKER

IN_CI = os.environ.get("CI") == "true"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "user-home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    return folder


def _need(condition: bool, reason: str) -> None:
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must run this test: {reason} (.ci/run installs cron)")
    pytest.skip(reason)


@pytest.fixture
def throwaway_crontab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A new system user whose crontab memcli edits through the real `crontab` program.

    memcli runs `crontab` from PATH; a two-line shim first on PATH adds `-u USER`, so the
    real program edits the throwaway user's crontab, never the tester's own."""
    real = shutil.which("crontab")
    _need(real is not None, "the crontab program (Debian's cron package) is not installed")
    _need(os.geteuid() == 0 and shutil.which("useradd") is not None, "needs root and useradd")
    user = f"memcli{secrets.token_hex(3)}"
    subprocess.run(["useradd", "--no-create-home", user], check=True)
    shims = tmp_path / "shims"
    shims.mkdir()
    shim = shims / "crontab"
    shim.write_text(f'#!/bin/sh\nexec {real} -u {user} "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shims}{os.pathsep}{os.environ['PATH']}")
    try:
        yield user
    finally:
        subprocess.run([str(real), "-u", user, "-r"], capture_output=True)
        subprocess.run(["userdel", user], capture_output=True)


def _crontab(user: str) -> list[str]:
    result = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    assert result.returncode == 0 or "no crontab" in result.stderr, result
    return result.stdout.splitlines()


def test_cron_install_is_idempotent_and_remove_keeps_other_lines(
    cli: Any, throwaway_crontab: str, store_path: Path
) -> None:
    own = "30 5 * * 1 /usr/bin/backup --weekly"
    subprocess.run(["crontab", "-"], input=own + "\n", text=True, check=True)

    shown = cli("schedule", "show", "--kind", "cron")
    assert shown.code == 0, shown
    assert "not installed" in shown.stderr
    assert _crontab(throwaway_crontab) == [own]  # show changes nothing

    first = cli("--json", "schedule", "install", "--kind", "cron")
    assert first.code == 0, first
    assert first.json()["changed"] is True
    lines = _crontab(throwaway_crontab)
    assert lines[0] == own and len(lines) == 2
    ours = lines[1]
    assert ours.startswith("17 3 * * * ") and ours.endswith(CRON_MARKER)
    assert f"--db {store_path}" in ours and " consolidate " in ours

    again = cli("--json", "schedule", "install", "--kind", "cron")
    assert again.json()["changed"] is False
    assert _crontab(throwaway_crontab) == lines

    moved = cli("schedule", "install", "--kind", "cron", "--time", "04:05")
    assert moved.code == 0, moved
    lines = _crontab(throwaway_crontab)
    assert len(lines) == 2 and lines[1].startswith("5 4 * * * ")

    assert "installed" in cli("schedule", "show", "--kind", "cron").stderr
    removed = cli("schedule", "remove", "--kind", "cron")
    assert removed.code == 0 and "removed" in removed.stderr
    assert _crontab(throwaway_crontab) == [own]
    assert "nothing to remove" in cli("schedule", "remove", "--kind", "cron").stderr


def test_the_cron_line_runs_consolidate(cli: Any, throwaway_crontab: str, memcli_home) -> None:
    """The command of the installed line, run by a shell as cron would, consolidates."""
    assert cli("add", "a note for the nightly job").code == 0
    assert cli("schedule", "install", "--kind", "cron").code == 0
    line = _crontab(throwaway_crontab)[-1]
    command = line.split(" ", 5)[5].split(" #", 1)[0]
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}  # cron's sparse environment
    subprocess.run(["/bin/sh", "-c", command], env=env, check=True, timeout=120)
    log = (memcli_home / "consolidate.log").read_text()
    assert "consolidated as of" in log and "Traceback" not in log


def test_systemd_without_a_user_bus_installs_nothing_and_says_so(
    cli: Any, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a newcomer met: "Failed to connect to bus", then "installed" and exit 0."""
    shims = tmp_path / "no-bus"
    shims.mkdir()
    systemctl = shims / "systemctl"
    systemctl.write_text(
        '#!/bin/sh\necho "Failed to connect to bus: No medium found" >&2\nexit 1\n'
    )
    systemctl.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shims}{os.pathsep}/usr/bin:/bin")
    folder = home / ".config" / "systemd" / "user"
    shown = cli("--json", "schedule", "show", "--kind", "systemd", "--time", "02:30")
    assert shown.code == 0 and shown.json()["installed"] is False
    timer = shown.json()["files"][str(folder / "memcli-consolidate.timer")]
    assert "OnCalendar=*-*-* 02:30:00" in timer and "Persistent=true" in timer
    installed = cli("schedule", "install", "--kind", "systemd", "--time", "02:30")
    assert installed.code == 1, installed
    assert "cannot reach a user bus" in installed.stderr
    assert "nothing was installed" in installed.stderr and "installed:" not in installed.stderr
    assert not folder.exists() or not any(folder.iterdir())
    assert cli("--json", "schedule", "show", "--kind", "systemd").json()["installed"] is False


def test_no_scheduler_at_all_is_an_error(
    cli: Any, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no crontab, no systemctl
    installed = cli("schedule", "install")
    assert installed.code == 1, installed
    assert "no scheduler works on this machine" in installed.stderr
    assert "there is no crontab program" in installed.stderr
    shown = cli("schedule", "show")
    assert shown.code == 0 and "cannot be used here" in shown.stderr


def test_show_reads_back_the_installed_time(
    cli: Any, throwaway_crontab: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("schedule", "install", "--kind", "cron", "--time", "04:30").code == 0
    shown = cli("--json", "schedule", "show", "--kind", "cron")
    assert shown.json()["installed"] is True and shown.json()["time"] == "04:30"
    assert shown.json()["cron_line"].startswith("30 4 * * * ")
    text = cli("schedule", "show", "--kind", "cron")
    assert "every night at 04:30" in text.stderr and text.stdout.startswith("30 4 * * * ")


def test_launchd_agent_is_a_valid_plist(cli: Any, home: Path) -> None:
    result = cli("--json", "schedule", "show", "--kind", "launchd", "--time", "01:05")
    assert result.code == 0, result
    ((path, text),) = result.json()["files"].items()
    assert path.endswith("Library/LaunchAgents/io.github.memcli.consolidate.plist")
    plist = plistlib.loads(text.encode())
    assert plist["StartCalendarInterval"] == {"Hour": 1, "Minute": 5}
    assert plist["ProgramArguments"][-1] == "consolidate"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("schedule", "show", "--time", "25:00"), "bad time"),
        (("schedule", "show", "--time", "noon"), "bad time"),
        (("schedule", "show", "--kind", "atd"), "unknown scheduler"),
    ],
)
def test_bad_schedule_input_is_a_usage_error(
    cli: Any, args: tuple[str, ...], fragment: str
) -> None:
    result = cli(*args)
    assert result.code == 2 and fragment in result.stderr and "Traceback" not in result.stderr
