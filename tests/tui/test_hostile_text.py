"""Stored text is untrusted (an import, a shared note, an agent): the TUI shows control
characters escaped, never as codes the terminal would act on, and never as Rich markup."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from textual.widgets import Static

from memcli.service.transfer import import_memories
from tests.tui.fixed_store import frozen_context
from tests.tui.helpers import main_screen, run_async, started

HOSTILE = "\x1b]0;pwned\x07 \x1b[2J\x1b[H hostile note\r overwritten\x08 [bold red]markup[/]"
RAW = ("\x1b", "\x07", "\r", "\x08")


def rendered(renderable: Any) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None, force_terminal=False)
    console.print(renderable)
    output = console.file.getvalue()
    assert isinstance(output, str)
    return output


@run_async
async def test_rows_and_detail_show_control_characters_escaped(store: Path) -> None:
    line = {"id": "hostile1", "text": HOSTILE, "tags": ["ok"], "created_at": "2025-03-19T10:00:00Z"}
    assert import_memories(frozen_context(), [json.dumps(line).encode()], skip_bad=False).imported
    async with started("hostile note") as pilot:
        screen = main_screen(pilot.app)
        assert screen.results.rows[0].memory.id == "hostile1"
        row = rendered(screen.results.get_option_at_index(0).prompt)
        detail = rendered(screen.detail.query_one("#detail-body", Static).content)
        for shown in (row, detail):
            assert not any(code in shown for code in RAW), repr(shown)
            assert "\\x1b]0;pwned\\x07 \\x1b[2J\\x1b[H hostile note" in shown
        # The row shows the first line (a CR ends one); the detail shows all of it.
        assert "\\x0d overwritten\\x08 [bold red]markup[/]" in detail
