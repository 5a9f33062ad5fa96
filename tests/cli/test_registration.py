"""A command typed in the shell imports only its own command module (memcli.cli.root.main);
the application that tests and tools invoke (memcli.cli.app) has every command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from memcli.cli import app
from memcli.cli.root import COMMAND_MODULES, MODULES, modules_for

# Runs main() with a command line, then prints which command modules were imported.
PROBE = """
import sys
from memcli.cli.root import MODULES, main
sys.argv = ["memcli", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
loaded = [m for m in MODULES if f"memcli.cli.{m}" in sys.modules]
print("LOADED", ",".join(loaded), file=sys.stderr)
"""


def _module_of(command: Any) -> str:
    if hasattr(command, "commands"):  # a group (schedule): its subcommands' module
        return _module_of(next(iter(command.commands.values())))
    assert command.callback is not None
    return str(command.callback.__module__).rsplit(".", 1)[1]


def test_the_table_names_every_command_and_its_module() -> None:
    group: Any = typer.main.get_command(app)
    found = {name: _module_of(command) for name, command in group.commands.items()}
    assert found == COMMAND_MODULES
    assert set(COMMAND_MODULES.values()) == set(MODULES)


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        (["recall", "x"], ("recall",)),
        (["--db", "add", "add", "x"], ("add",)),  # --db's value is no command
        (["--db=s.duckdb", "--json", "-q", "schedule", "show"], ("schedule",)),
        (["recall", "--help"], ("recall",)),
        ([], MODULES),
        (["--help"], MODULES),
        (["-h", "recall"], MODULES),
        (["--version"], MODULES),
        (["recal", "x"], MODULES),  # unknown: click suggests among all commands
        (["--db"], MODULES),
    ],
)
def test_modules_for_a_command_line(args: list[str], wanted: tuple[str, ...]) -> None:
    assert modules_for(args) == wanted


def _loaded(*args: str, home: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"MEMCLI_HOME": str(home), "PATH": "/usr/bin:/bin"},
    )
    [line] = [x for x in done.stderr.splitlines() if x.startswith("LOADED ")]
    return line.removeprefix("LOADED ").split(",")


def test_a_command_imports_only_its_module_and_help_imports_all(tmp_path: Path) -> None:
    assert _loaded("--json", "stats", home=tmp_path) == ["admin"]
    assert _loaded("history", "nope", home=tmp_path) == ["lifecycle"]
    assert _loaded("--help", home=tmp_path) == list(MODULES)
