"""README's command table and the registered commands agree (as sqlite-utils checks its docs)."""

from __future__ import annotations

import re
from pathlib import Path

from memcli.cli import app
from memcli.cli.root import register

README = Path(__file__).resolve().parents[1] / "README.md"


def _table_commands() -> set[str]:
    text = README.read_text()
    table = text[text.index("## Commands") :].split("\n\n", 2)[1]
    first_cells = [row.split("|")[1] for row in table.splitlines()[2:] if row.startswith("|")]
    return {word for cell in first_cells for word in re.findall(r"`([a-z]+)", cell)}


def test_every_command_is_in_the_readme_table_and_every_row_is_a_command() -> None:
    register()
    registered = {
        c.name or c.callback.__name__.replace("_", "-")  # type: ignore[union-attr]
        for c in app.registered_commands
    }
    registered |= {g.typer_instance.info.name for g in app.registered_groups}  # type: ignore[misc]
    assert registered == _table_commands()
