"""`memcli schedule`: run `memcli consolidate` every night from cron, a systemd user timer
or a launchd agent.

The entry calls this very Python with `-m memcli` and the store's absolute path, so it runs
the same memcli on the same store whatever PATH and environment the scheduler gives it
(MEMCLI_HOME and the model settings are passed on; a key never is). `install` replaces
memcli's own entry and nothing else; `remove` removes only it.

Only what happened is reported: a scheduler is used only when it works here (a crontab that
can be read, a systemd user bus, launchd on macOS), an activation that fails undoes the
files it was for and is an error, and `show` reads the installed entry back.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from memcli.config import Settings
from memcli.errors import MemcliError, UsageError

KINDS = ("cron", "systemd", "launchd")
CRON_MARKER = "# memcli-consolidate (managed by memcli schedule)"
UNIT = "memcli-consolidate"
LAUNCHD_LABEL = "io.github.memcli.consolidate"
_PASSED_ON = ("MEMCLI_HOME", "MEMCLI_MODEL", "MEMCLI_MODEL_PATH", "MEMCLI_LOCK_TIMEOUT")


class ScheduleError(MemcliError):
    """The scheduler refused the change (crontab, systemctl or launchctl failed)."""


@dataclass(frozen=True)
class Entry:
    """What `install` puts in place: a crontab line or files, and commands that activate them."""

    kind: str
    hour: int
    minute: int
    cron_line: str | None = None
    files: dict[Path, str] = field(default_factory=dict)
    activate: list[list[str]] = field(default_factory=list)
    deactivate: list[list[str]] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    entry: Entry
    installed: bool  # after the action
    changed: bool
    notes: list[str] = field(default_factory=list)


def unusable(kind: str) -> str | None:
    """Why `kind` cannot schedule anything on this machine (None: it can)."""
    if kind == "launchd":
        if sys.platform != "darwin" or shutil.which("launchctl") is None:
            return "launchd is macOS's (no launchctl here)"
        return None
    if kind == "cron":
        if shutil.which("crontab") is None:
            return "there is no crontab program"
        done = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
        if done.returncode != 0 and "no crontab" not in done.stderr.lower():
            return f"crontab -l failed: {done.stderr.strip()[:200]}"
        return None
    if shutil.which("systemctl") is None:
        return "there is no systemctl program"
    done = subprocess.run(
        ["systemctl", "--user", "show-environment"], capture_output=True, text=True
    )
    if done.returncode != 0:
        return f"systemctl --user cannot reach a user bus: {done.stderr.strip()[:200]}"
    return None


def default_kind() -> str:
    """The first scheduler that works here: launchd on macOS, else cron, else systemd."""
    order = ("launchd", "cron", "systemd") if sys.platform == "darwin" else ("cron", "systemd")
    reasons = []
    for kind in order:
        why = unusable(kind)
        if why is None:
            return kind
        reasons.append(f"{kind}: {why}")
    raise ScheduleError(
        f"no scheduler works on this machine ({'; '.join(reasons)}); nothing was installed",
        "install cron (e.g. apt install cron), or run `memcli consolidate` nightly from a "
        "scheduler of your own (memcli schedule show --kind cron prints the line)",
    )


def parse_time(text: str) -> tuple[int, int]:
    try:
        hour, minute = (int(part) for part in text.split(":"))
    except ValueError:
        raise UsageError(f"bad time {text!r}", "give it as HH:MM, e.g. 03:17") from None
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise UsageError(f"bad time {text!r}", "give it as HH:MM, e.g. 03:17")
    return hour, minute


def entry_for(settings: Settings, kind: str, hour: int, minute: int) -> Entry:
    if kind not in KINDS:
        raise UsageError(f"unknown scheduler {kind!r}", f"use one of {', '.join(KINDS)}")
    command = [sys.executable, "-m", "memcli", "--db", str(settings.db_path), "consolidate"]
    env = {name: os.environ[name] for name in _PASSED_ON if os.environ.get(name)}
    log = settings.home / "consolidate.log"
    if kind == "cron":
        assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        run = " ".join(shlex.quote(part) for part in command)
        line = f"{minute} {hour} * * * {assignments + ' ' if assignments else ''}{run} "
        line += f">> {shlex.quote(str(log))} 2>&1 {CRON_MARKER}"
        return Entry(kind, hour, minute, cron_line=line)
    if kind == "systemd":
        folder = Path.home() / ".config" / "systemd" / "user"
        environment = "".join(f'Environment="{k}={v}"\n' for k, v in env.items())
        service = (
            "[Unit]\nDescription=memcli nightly consolidation\n\n"
            "[Service]\nType=oneshot\n"
            f"{environment}ExecStart={' '.join(shlex.quote(p) for p in command)}\n"
        )
        timer = (
            "[Unit]\nDescription=Run memcli consolidate every night\n\n"
            f"[Timer]\nOnCalendar=*-*-* {hour:02d}:{minute:02d}:00\nPersistent=true\n\n"
            "[Install]\nWantedBy=timers.target\n"
        )
        systemctl = ["systemctl", "--user"]
        return Entry(
            kind,
            hour,
            minute,
            files={folder / f"{UNIT}.service": service, folder / f"{UNIT}.timer": timer},
            activate=[
                [*systemctl, "daemon-reload"],
                [*systemctl, "enable", "--now", f"{UNIT}.timer"],
            ],
            deactivate=[[*systemctl, "disable", "--now", f"{UNIT}.timer"]],
        )
    plist = Path.home() / "Library" / "LaunchAgents" / f"{LAUNCHD_LABEL}.plist"
    return Entry(
        kind,
        hour,
        minute,
        files={plist: _plist(command, env, hour, minute, log)},
        activate=[["launchctl", "load", "-w", str(plist)]],
        deactivate=[["launchctl", "unload", "-w", str(plist)]],
    )


def _plist(command: list[str], env: dict[str, str], hour: int, minute: int, log: Path) -> str:
    from xml.sax.saxutils import escape

    arguments = "".join(f"    <string>{escape(part)}</string>\n" for part in command)
    variables = "".join(
        f"    <key>{escape(k)}</key><string>{escape(v)}</string>\n" for k, v in env.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" '
        '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
        '<plist version="1.0">\n<dict>\n'
        f"  <key>Label</key><string>{LAUNCHD_LABEL}</string>\n"
        f"  <key>ProgramArguments</key>\n  <array>\n{arguments}  </array>\n"
        f"  <key>EnvironmentVariables</key>\n  <dict>\n{variables}  </dict>\n"
        "  <key>StartCalendarInterval</key>\n"
        f"  <dict><key>Hour</key><integer>{hour}</integer>"
        f"<key>Minute</key><integer>{minute}</integer></dict>\n"
        f"  <key>StandardOutPath</key><string>{escape(str(log))}</string>\n"
        f"  <key>StandardErrorPath</key><string>{escape(str(log))}</string>\n"
        "</dict>\n</plist>\n"
    )


def installed_entry(entry: Entry) -> Entry | None:
    """The entry of `entry`'s kind as it is installed (its real time and text), or None."""
    if entry.kind == "cron":
        if shutil.which("crontab") is None:
            return None
        line = next((line for line in _read_crontab() if CRON_MARKER in line), None)
        if line is None:
            return None
        minute, hour = (int(field) for field in line.split()[:2])
        return Entry("cron", hour, minute, cron_line=line)
    if not all(path.exists() for path in entry.files):
        return None
    files = {path: path.read_text() for path in entry.files}
    text = "".join(files.values())
    found = re.search(r"OnCalendar=\*-\*-\* (\d\d):(\d\d)", text) or re.search(
        r"<key>Hour</key><integer>(\d+)</integer><key>Minute</key><integer>(\d+)</integer>",
        text,
    )
    hour, minute = (int(found[1]), int(found[2])) if found else (entry.hour, entry.minute)
    return Entry(
        entry.kind, hour, minute, files=files, activate=entry.activate, deactivate=entry.deactivate
    )


def install(entry: Entry) -> Outcome:
    why = unusable(entry.kind)
    if why is not None:
        raise ScheduleError(
            f"{entry.kind} cannot be used here: {why}; nothing was installed",
            "memcli schedule show prints the entry to put in place by hand",
        )
    if entry.kind == "cron":
        lines = _read_crontab()
        assert entry.cron_line is not None
        if entry.cron_line in lines:
            return Outcome(entry, installed=True, changed=False)
        kept = [line for line in lines if CRON_MARKER not in line]
        _write_crontab([*kept, entry.cron_line])
        return Outcome(entry, installed=True, changed=True)
    before = {p: p.read_text() if p.exists() else None for p in entry.files}
    unchanged = all(before[p] == text for p, text in entry.files.items())
    for path, text in entry.files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    failed = _run_all(entry.activate)
    if failed:
        for path, old in before.items():  # put back what was there: nothing was installed
            if old is None:
                path.unlink(missing_ok=True)
            else:
                path.write_text(old)
        raise ScheduleError(
            f"{'; '.join(failed)}; nothing was installed",
            "memcli schedule show prints the entry to put in place by hand",
        )
    return Outcome(entry, installed=True, changed=not unchanged)


def remove(entry: Entry) -> Outcome:
    if entry.kind == "cron":
        lines = _read_crontab()
        kept = [line for line in lines if CRON_MARKER not in line]
        if kept == lines:
            return Outcome(entry, installed=False, changed=False)
        _write_crontab(kept)
        return Outcome(entry, installed=False, changed=True)
    present = [path for path in entry.files if path.exists()]
    notes = _run_all(entry.deactivate) if present else []
    for path in present:
        path.unlink()
    return Outcome(entry, installed=False, changed=bool(present), notes=notes)


def _read_crontab() -> list[str]:
    crontab = _crontab_program()
    result = subprocess.run([crontab, "-l"], capture_output=True, text=True)
    if result.returncode != 0:
        if "no crontab" in result.stderr.lower():
            return []
        raise ScheduleError(f"crontab -l failed: {result.stderr.strip()}", "check cron's setup")
    return result.stdout.splitlines()


def _write_crontab(lines: list[str]) -> None:
    text = "".join(line + "\n" for line in lines)
    result = subprocess.run([_crontab_program(), "-"], input=text, capture_output=True, text=True)
    if result.returncode != 0:
        raise ScheduleError(
            f"crontab refused the change: {result.stderr.strip()}",
            "your crontab was left as it was; memcli schedule show prints the line to add by hand",
        )


def _crontab_program() -> str:
    program = shutil.which("crontab")
    if program is None:
        raise ScheduleError(
            "there is no crontab program on this machine",
            "install cron, or use --kind systemd; memcli schedule show prints the entry",
        )
    return program


def _run_all(commands: list[list[str]]) -> list[str]:
    """Run activation (or deactivation) commands; returns what failed, in words."""
    notes = []
    for command in commands:
        shown = " ".join(command)
        if shutil.which(command[0]) is None:
            notes.append(f"{command[0]} is not available here; run `{shown}` where it is")
            continue
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            notes.append(f"`{shown}` failed: {result.stderr.strip()[:200]}")
    return notes
