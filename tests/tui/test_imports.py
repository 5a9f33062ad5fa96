"""Import hygiene: only `memcli tui` pays for textual; the rest of memcli never imports it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.cli.helpers import assert_clean_error

CHECK = """
import sys
from typer.testing import CliRunner
from memcli.cli import app
result = CliRunner().invoke(app, ["--help"])
assert result.exit_code == 0 and "tui" in result.stdout, result.stdout
import memcli.service.browse, memcli.tui.backend, memcli.tui.settings
print(sorted(name for name in sys.modules if name.split(".")[0] == "textual"))
"""


def test_cli_and_headless_modules_do_not_import_textual() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_tui_is_in_the_help(cli: Any) -> None:
    result = cli("tui", "--help")
    assert result.code == 0
    assert "--pick" in result.stdout and "exit 1" in result.stdout


def test_a_bad_tui_config_is_reported_before_the_terminal_is_needed(
    cli: Any, memcli_home: Path
) -> None:
    path = memcli_home / "config.toml"
    path.write_text('[tui.keys]\nadd = "ctrl+e"\n' + path.read_text())
    assert_clean_error(cli("tui"), 1, "tui.keys gives 'ctrl+e' to both")
