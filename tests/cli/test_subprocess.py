"""The real `python -m memcli` in a subprocess: an end-to-end flow, store permissions, colour,
MEMCLI_DEBUG, Ctrl-C (exit 130), a busy store (exit 3 and retries), running without a model,
lazy imports, and a closed stdout pipe."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.helpers import ID_RE, jsonl

HOLD_LOCK = (
    "import duckdb, sys, time\n"
    "con = duckdb.connect(sys.argv[1])\n"
    "print('ready', flush=True)\n"
    "time.sleep(float(sys.argv[2]))\n"
    "con.close()\n"
)


def ok(result, stdout_json: bool = False):
    assert result.code == 0, result
    assert "Traceback" not in result.stderr, result
    return result.json() if stdout_json else result


def test_add_recall_forget_end_to_end(memcli_proc) -> None:
    added = ok(memcli_proc("--json", "add", "staging db is on port 6543", "-t", "work"), True)
    memory_id = added["id"]
    assert ID_RE.fullmatch(memory_id) and added["status"] == "added"
    piped = ok(memcli_proc("add", "-", input=b"the vpn profile lives in ~/vpn\n"))
    assert ID_RE.fullmatch(piped.stdout.strip())
    hits = ok(memcli_proc("--json", "recall", "staging port"), True)
    assert hits[0]["id"] == memory_id and hits[0]["tags"] == ["work"]
    forgotten = ok(memcli_proc("--json", "forget", memory_id, "-y"), True)
    assert forgotten["forgotten"] == [memory_id]
    hits = ok(memcli_proc("--json", "recall", "staging port", "--mode", "keyword"), True)
    assert hits == []
    missing = memcli_proc("show", memory_id)
    assert missing.code == 1 and "Traceback" not in missing.stderr


def test_errors_in_a_subprocess_are_short(memcli_proc) -> None:
    result = memcli_proc("add", "-", input=b"\xff\xfe bad")
    assert result.code == 1
    assert result.stderr.count("\n") <= 2 and "UTF-8" in result.stderr
    usage = memcli_proc("recall", "x", "--mode", "fuzzy")
    assert usage.code == 2 and "Traceback" not in usage.stderr


def test_new_store_is_private(memcli_proc, tmp_path: Path) -> None:
    store = tmp_path / "nested" / "memories" / "store.duckdb"
    ok(memcli_proc("--db", str(store), "add", "a private note"))
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.parent.stat().st_mode) == 0o700
    listed = ok(memcli_proc("--json", "--db", str(store), "list"), True)
    assert [m["text"] for m in listed] == ["a private note"]


def test_no_colour_when_output_is_not_a_terminal(memcli_proc, monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    memory_id = ok(memcli_proc("add", "the staging db is on port 6543", "-t", "work")).stdout
    outputs = [
        memcli_proc("recall", "staging port"),
        memcli_proc("list"),
        memcli_proc("show", memory_id.strip()),
        memcli_proc("show", "zzzz9999"),
    ]
    assert outputs[0].code == 0 and memory_id.strip() in outputs[0].stdout
    for result in outputs:
        assert "\x1b[" not in result.stdout + result.stderr, result


def test_debug_shows_the_traceback(memcli_proc) -> None:
    quiet = memcli_proc("show", "zzzz9999")
    assert quiet.code == 1 and "Traceback" not in quiet.stderr
    debug = memcli_proc("show", "zzzz9999", env={"MEMCLI_DEBUG": "1"})
    assert debug.code == 1
    assert "memcli: error:" in debug.stderr and "Traceback" in debug.stderr


def test_interrupt_exits_130(store_path: Path) -> None:
    waiting = subprocess.Popen(
        [sys.executable, "-m", "memcli", "add", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(2)  # memcli is now blocked reading the note from stdin
    waiting.send_signal(signal.SIGINT)
    _, stderr = waiting.communicate(timeout=60)
    assert waiting.returncode == 130, stderr
    assert b"Traceback" not in stderr
    assert not store_path.exists()


def hold_lock(store: Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(store), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "ready"
    return holder


@pytest.fixture
def existing_store(memcli_proc, store_path: Path) -> Path:
    ok(memcli_proc("add", "the store exists before anyone locks it"))
    return store_path


def test_busy_store_exits_3(memcli_proc, existing_store: Path) -> None:
    holder = hold_lock(existing_store, 30)
    try:
        started = time.monotonic()
        result = memcli_proc("add", "blocked note", env={"MEMCLI_LOCK_TIMEOUT": "1"})
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert result.code == 3, result
    assert "busy" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
    assert elapsed < 20
    listed = ok(memcli_proc("--json", "list"), True)
    assert "blocked note" not in [m["text"] for m in listed]


def test_busy_store_is_retried_until_it_is_free(memcli_proc, existing_store: Path) -> None:
    # Held for 2 s: longer than memcli needs to start and embed, so the add must wait.
    holder = hold_lock(existing_store, 2.0)
    try:
        started = time.monotonic()
        result = memcli_proc("add", "waited for the lock", env={"MEMCLI_LOCK_TIMEOUT": "10"})
        elapsed = time.monotonic() - started
    finally:
        holder.wait(timeout=30)
    ok(result)
    assert elapsed >= 1.8
    memory_id = result.stdout.strip()
    listed = ok(memcli_proc("--json", "list"), True)
    assert memory_id in [m["id"] for m in listed]


def test_without_a_model(memcli_proc, tmp_path: Path) -> None:
    empty = tmp_path / "no-model"
    empty.mkdir()
    no_model = {"MEMCLI_MODEL_PATH": str(empty)}

    added = ok(memcli_proc("add", "the plumber comes on tuesday", env=no_model))
    assert ID_RE.fullmatch(added.stdout.strip())
    memory_id = added.stdout.strip()
    notices = [line for line in added.stderr.splitlines() if "model" in line]
    assert len(notices) == 1, added
    ok(memcli_proc("add", "bought milk and bread at the market", env=no_model))
    ok(memcli_proc("add", "the train to the station was late", env=no_model))

    recalled = ok(memcli_proc("--json", "recall", "plumber", env=no_model))
    assert [hit["id"] for hit in recalled.json()] == [memory_id]
    # The first add said why there is no model; within the hour nothing repeats it.
    assert recalled.stderr == "", recalled

    stats = ok(memcli_proc("--json", "stats", env=no_model), True)
    assert stats["model"]["available"] is False
    assert str(empty) in stats["model"]["reason"]
    assert stats["vectors"]["missing"] == 3

    doctor = memcli_proc("doctor", env=no_model)
    assert doctor.code == 1, doctor
    assert "model" in doctor.stdout and str(empty) in doctor.stdout
    assert "reindex" in doctor.stdout  # what to do about the missing vectors

    # With the model back, the missing vectors are filled in.
    reindexed = ok(memcli_proc("--json", "reindex", "--missing"), True)
    assert reindexed["embedded"] == 3
    stats = ok(memcli_proc("--json", "stats"), True)
    assert stats["vectors"]["missing"] == 0 and stats["vectors"]["current"] == 3
    assert ok(memcli_proc("doctor")).code == 0


def loaded_modules(code: str) -> list[str]:
    probe = (
        f"import sys, json\n{code}\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    modules: list[str] = json.loads(completed.stdout.splitlines()[-1])
    return modules


def test_importing_the_cli_is_light() -> None:
    modules = loaded_modules("import memcli.cli")
    assert "memcli" in modules
    assert "fastembed" not in modules and "textual" not in modules
    assert "onnxruntime" not in modules and "mcp" not in modules


def test_help_does_not_load_the_model() -> None:
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "memcli", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "Usage: memcli" in completed.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in completed.stderr.splitlines()}
    assert "memcli.cli" in imported  # the probe works
    for heavy in ("fastembed", "onnxruntime", "textual", "mcp"):
        assert heavy not in imported


@pytest.mark.parametrize("args", [["add", "a note"], ["--json", "recall", "a note"], ["list"]])
def test_commands_do_not_import_pydantic(args: list[str]) -> None:
    # typer 0.29 built a pydantic TypeAdapter for every parameter: 60-80 ms per command.
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "memcli", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in completed.stderr.splitlines()}
    assert "memcli.cli" in imported  # the probe works
    assert not {name for name in imported if name.split(".")[0] == "pydantic"}


def test_closed_stdout_pipe_is_not_an_error(memcli_proc) -> None:
    lines = jsonl(*({"text": f"memory {n} " + "padding words " * 30} for n in range(400)))
    ok(memcli_proc("import", "-", input=lines.encode()))
    reader = subprocess.Popen(
        [sys.executable, "-m", "memcli", "export"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    assert reader.stdout is not None and reader.stderr is not None
    assert reader.stdout.readline()  # like `| head -1`: read one line, then hang up
    reader.stdout.close()
    stderr = reader.stderr.read().decode()
    code = reader.wait(timeout=60)
    assert code in (0, 141, -signal.SIGPIPE), (code, stderr)
    assert "error" not in stderr.lower() and "Traceback" not in stderr, stderr
