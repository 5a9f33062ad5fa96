"""Every test gets its own MEMCLI_HOME with a config pointing at the tiny test model.

The tiny model (tests/support/tiny_model.py) is built once per session and loaded through
fastembed's real custom-model path, so the real embedding code runs in every test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.support.tiny_model import TINY_DIM, TINY_MODEL_NAME, build_tiny_model

REAL_MODEL = Path(__file__).resolve().parents[2] / "shared" / "models" / "all-MiniLM-L6-v2-onnx"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(autouse=True)
def memcli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        f'[model]\nname = "{TINY_MODEL_NAME}"\npath = "{tiny_model_dir}"\n'
        f'pooling = "mean"\ndim = {TINY_DIM}\n'
    )
    monkeypatch.setenv("MEMCLI_HOME", str(home))
    for name in (
        "MEMCLI_MODEL",
        "MEMCLI_MODEL_PATH",
        "MEMCLI_DEBUG",
        "MEMCLI_LOCK_TIMEOUT",
        "MEMCLI_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    return home


@pytest.fixture
def store_path(memcli_home: Path) -> Path:
    return memcli_home / "memcli.duckdb"


class Result:
    """What a memcli invocation did: exit code, stdout, stderr (and stdout parsed as JSON)."""

    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.code, self.stdout, self.stderr = code, stdout, stderr

    def json(self) -> Any:
        return json.loads(self.stdout)

    def __repr__(self) -> str:
        return f"Result(code={self.code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


@pytest.fixture
def cli() -> Any:
    """Run memcli in-process through Typer's runner: cli("add", "text", input=...)."""
    from memcli.cli import app

    runner = CliRunner()

    def run(*args: str, input: str | bytes | None = None) -> Result:
        result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture
def memcli_proc() -> Any:
    """Run the real `memcli` console script in a subprocess."""

    def run(
        *args: str,
        input: bytes | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> Result:
        completed = subprocess.run(
            [sys.executable, "-m", "memcli", *args],
            input=input,
            capture_output=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )
        return Result(
            completed.returncode,
            completed.stdout.decode("utf-8", "replace"),
            completed.stderr.decode("utf-8", "replace"),
        )

    return run
