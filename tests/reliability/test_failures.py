"""What an attack run found, each through a real `memcli` process: stored text that would
drive the terminal, input that used to end in "unexpected ... this is a bug", a full disk, a
read-only store and a read-only export folder. Every failure is a plain message and its exit
code; the "this is a bug" path is left to real bugs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import ID_RE

HOSTILE = "\x1b]0;pwned\x07 \x1b[2J\x1b[H hostile\r note\x08 end"
RAW_CODES = ("\x1b", "\x07", "\r", "\x08")


def run(*args: str | bytes, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "memcli", *args], input=stdin, capture_output=True, timeout=120
    )
    return subprocess.CompletedProcess(
        done.args,
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )


def refused(result: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    """A clean refusal: the exit code, a one- or two-line message, no traceback."""
    assert result.returncode == code, result
    assert "this is a bug" not in result.stderr and "Traceback" not in result.stderr, result
    assert len(result.stderr.strip().splitlines()) <= 2, result
    for word in words:
        assert word in result.stderr, result


# --- stored text never drives the terminal ------------------------------------------------


def test_every_human_rendering_shows_control_characters_escaped(tmp_path: Path) -> None:
    added = run("add", HOSTILE, "-t", "ok")
    assert added.returncode == 0, added
    memory_id = added.stdout.strip()
    target = tmp_path / "export.md"
    renderings = {
        "show": run("show", memory_id),
        "list": run("list"),
        "recall": run("recall", "hostile", "--mode", "keyword"),
        "history": run("history", memory_id),
        "forget --dry-run": run("forget", "--query", "hostile", "--dry-run"),
        "export md": run("export", "--format", "md", str(target)),
    }
    renderings["export md"].stdout = target.read_text()
    for name, result in renderings.items():
        assert result.returncode == 0, (name, result)
        shown = result.stdout + result.stderr
        assert not any(code in shown for code in RAW_CODES), (name, shown)
    for name in ("show", "list", "recall", "forget --dry-run", "export md"):
        assert "\\x1b]0;pwned\\x07" in renderings[name].stdout, name
    # JSON and the JSON Lines export stay exact (JSON escapes the codes itself).
    assert json.loads(run("--json", "show", memory_id).stdout)["text"] == HOSTILE.strip()
    exported = run("export")
    assert json.loads(exported.stdout)["text"] == HOSTILE.strip()
    # show -q into a pipe is the text for a script: exact.
    assert run("show", "-q", memory_id).stdout == HOSTILE.strip() + "\n"


def test_tags_refuse_control_characters_and_bytes_that_are_not_utf8() -> None:
    for args in (
        ["add", "x", "-t", b"bad\xff"],
        ["list", "--tag", b"bad\xff"],
        ["recall", "x", "-t", b"bad\xff"],
    ):
        refused(run(*args), 2, "not valid UTF-8")
    refused(run("add", "x", "-t", "a\x1b[2Jb"), 2, "control or invisible")
    refused(run("add", "x", "-t", "a\u200bb"), 2, "control or invisible")
    imported = run("import", "-", stdin=b'{"text": "x", "tags": ["\\ud800"]}\n')
    refused(imported, 1, "line 1", "not valid UTF-8")
    assert run("--json", "list").stdout.strip() in ("", "[]")


def test_numbers_and_dates_out_of_range_are_usage_errors() -> None:
    assert run("add", "a memory so the store exists").returncode == 0
    refused(run("list", "-k", "10000000000000000000"), 2)
    refused(run("recall", "memory", "-k", "99999999999999999999"), 2)
    refused(run("forget", "--query", "memory", "-k", "10000000000000000000"), 2)
    for bad in ("nan", "-0.5", "1.5", "inf"):
        refused(run("recall", "memory", "--min-score", bad), 2, "--min-score")
    refused(run("add", "far future", "--at", "9999-12-31"), 2, "1900 to 2200")
    refused(run("add", "far past", "--at", "1850-01-01"), 2, "1900 to 2200")
    refused(run("consolidate", "--as-of", "9999-01-01"), 2, "1900 to 2200")
    line = b'{"text": "an old line", "created_at": "0001-01-01T00:00:00+01:00"}\n'
    refused(run("import", "-", stdin=line), 1, "1900 to 2200")
    tags = ",".join(f"t{i}" for i in range(10_000))
    refused(run("add", "many tags", "-t", tags), 2, "over the limit")
    memory_id = run("-q", "list").stdout.split()[0]
    assert run("tag", memory_id, *(f"+t{i}" for i in range(64))).returncode == 0
    refused(run("tag", memory_id, "+one-too-many"), 2, "65 tags, over the limit of 64")
    texts = [d["text"] for d in json.loads(run("--json", "list", "--all").stdout)]
    assert texts == ["a memory so the store exists"]


# --- a full disk, a read-only store, a read-only export folder ----------------------------

NAMESPACE_SCRIPT = textwrap.dedent(
    """
    import json, os, subprocess, sys
    mount, options, steps = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", mount], check=True)
    results = []
    for step in steps:
        if step[0] == "sh":
            subprocess.run(step[1], shell=True, check=False)
            continue
        done = subprocess.run(
            [sys.executable, "-m", "memcli", *step], capture_output=True, text=True
        )
        results.append([done.returncode, done.stdout, done.stderr])
    print(json.dumps(results))
    """
)


def in_private_mount(mount: Path, options: str, steps: list[list[str]]) -> list[Any]:
    """Run memcli `steps` (or ["sh", command]) with a fresh tmpfs at `mount`, in a private
    user and mount namespace (no privileges needed where the kernel allows it)."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run(["unshare", "-r", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"no user namespaces here: {probe.stderr.decode().strip()}")
    mount.mkdir(exist_ok=True)
    command = ["unshare", "-r", "-m", sys.executable, "-c", NAMESPACE_SCRIPT, str(mount)]
    done = subprocess.run(
        [*command, options, json.dumps(steps)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    results: list[Any] = json.loads(done.stdout)
    return results


def test_a_full_disk_is_a_plain_error_and_changes_nothing(tmp_path: Path) -> None:
    mount = tmp_path / "small"
    db = ["--db", str(mount / "memcli.duckdb")]
    source = tmp_path / "lines.jsonl"
    source.write_text(json.dumps({"text": "an imported line"}) + "\n")
    fill = f"dd if=/dev/zero of={mount}/filler bs=64k 2>/dev/null"
    steps = [
        [*db, "add", "the first note"],
        ["sh", fill],
        [*db, "add", "a note that does not fit"],
        [*db, "import", str(source)],
        [*db, "consolidate"],
        [*db, "forget", "--now", "-y", "--query", "first note"],
        [*db, "recall", "first note"],
        ["sh", f"rm {mount}/filler"],
        [*db, "--json", "list", "--all"],
        [*db, "doctor"],
    ]
    first, *full, recalled, listed, doctor = in_private_mount(mount, "size=4m", steps)
    assert first[0] == 0 and ID_RE.fullmatch(first[1].strip()), first
    store = mount / "memcli.duckdb"
    for code, stdout, stderr in full:
        assert code == 1, (code, stdout, stderr)
        assert f"no space left on the device holding {store}; nothing was changed" in stderr
        assert "this is a bug" not in stderr
    assert recalled[0] == 0 and "the first note" in recalled[1], recalled  # not reinforced
    assert [m["text"] for m in json.loads(listed[1])] == ["the first note"], listed
    assert doctor[0] in (0, 1) and "BAD  store" not in doctor[1], doctor


def test_read_only_store_answers_recall_and_export_says_it_cannot_write(tmp_path: Path) -> None:
    mount = tmp_path / "ro"
    db = ["--db", str(mount / "memcli.duckdb")]
    steps = [
        [*db, "add", "the staging port is 6543"],
        ["sh", f"mount -o remount,ro {mount}"],
        [*db, "recall", "staging port", "--explain"],
        [*db, "--json", "recall", "staging port"],
        [*db, "show", "-q", "--", "--json"],  # an id that does not exist: a plain NotFound
        [*db, "export", str(mount / "backup.jsonl")],
    ]
    added, explained, as_json, missing, exported = in_private_mount(mount, "size=8m", steps)
    assert added[0] == 0, added
    assert explained[0] == 0 and "staging port is 6543" in explained[1], explained
    assert "read-only here: not counted as recalled" in explained[2], explained
    assert as_json[0] == 0 and json.loads(as_json[1])[0]["text"] == "the staging port is 6543"
    assert as_json[2] == "", as_json  # a script is not told (no terminal, no --explain)
    assert missing[0] != 0 and "this is a bug" not in missing[2], missing
    assert exported[0] == 1 and "cannot write" in exported[2], exported
    assert "this is a bug" not in exported[2], exported


def test_an_export_whose_cleanup_fails_too_is_a_plain_error(
    cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A folder that lets memcli create the temporary file but neither rename nor remove
    it (a sticky folder owned by someone else): one message, the original error."""
    assert cli("add", "something to export").code == 0

    def refuse(*_: object, **__: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "replace", refuse)
    monkeypatch.setattr(Path, "unlink", refuse)
    result = cli("export", str(tmp_path / "out.jsonl"))
    assert result.code == 1 and "cannot write" in result.stderr, result
    assert "Permission denied" in result.stderr and "bug" not in result.stderr, result
