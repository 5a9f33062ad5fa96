"""A tiny run of bench/tui_keystroke.py (tiny model, 30 notes), so the benchmark cannot rot."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support.tiny_model import TINY_DIM, TINY_MODEL_NAME

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_keystroke_bench_measures_and_records(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    for name in ("MEMCLI_HOME", "MEMCLI_MODEL_PATH", "PYTHONPATH"):
        monkeypatch.setenv(name, "")  # restored after the test: the script sets them
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\nIntro.\n\n## older section\n\nold\n")
    cold = "1" if shutil.which("tmux") else "0"
    script = importlib.import_module("tui_keystroke")
    script.main(
        [
            "--size", "30", "--rounds", "1", "--queries", "2", "--cps", "50",
            "--cold-runs", cold, "--cache", str(tmp_path / "cache"),
            "--model", str(tiny_model_dir), "--model-name", TINY_MODEL_NAME,
            "--dim", str(TINY_DIM), "--results", str(results),
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    rows = {
        line.split("|")[1].strip(): [cell.strip() for cell in line.strip("|").split("|")[1:]]
        for line in out.splitlines()
        if line.startswith("| ") and not line.startswith("| step")
    }
    assert rows["keystroke"][0] == "2" and rows["typing"][0] == "2"
    assert rows["first screen"][0] == "1" and rows["model ready"][0] == "1"
    assert rows["open"][0] == "2" and rows["open again"][0] == "2"  # each query's first hit
    assert ("cold open" in rows) == (cold == "1")
    assert all(float(cells[1]) > 0 for cells in rows.values())
    recorded = results.read_text()
    assert recorded.index("TUI: open and keystroke to results") < recorded.index("older section")
    assert "python bench/tui_keystroke.py --size 30" in recorded and "cores" in recorded
