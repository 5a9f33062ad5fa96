"""tui: the terminal browser. Textual is imported only when the command runs."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from memcli.cli import output
from memcli.cli.root import app
from memcli.cli.state import start
from memcli.errors import UsageError
from memcli.tui.settings import load_tui_settings

PICK_NOTHING_EXIT = 1  # --pick left without choosing (Escape, quit): nothing on stdout


@app.command()
def tui(
    ctx: typer.Context,
    pick: Annotated[
        bool,
        typer.Option(
            "--pick",
            help="Enter prints the chosen memory's text on stdout and exits 0, so "
            "$(memcli tui --pick) works; leaving without a choice prints nothing, exit 1.",
        ),
    ] = False,
) -> None:
    """Browse memories in a terminal UI: search as you type, read, add, edit, tag, pin,
    archive, forget. F1 lists the keys.

    \b
    Examples:
      memcli tui
      cd "$(memcli tui --pick)"
    """
    context, _ = start(ctx)
    settings = load_tui_settings(context.settings)  # a bad config is reported first
    # Textual draws on stderr (stdout stays free for --pick), reads keys from stdin.
    if not (sys.stdin.isatty() and sys.__stderr__ is not None and sys.__stderr__.isatty()):
        raise UsageError(
            "memcli tui needs a terminal (stdin and stderr must be a tty)",
            "in scripts use memcli recall or memcli list",
        )
    # Imported here: textual costs ~0.2 s to import and only this command uses it.
    from memcli.tui.app import run_tui

    picked = run_tui(context, settings, pick)
    if pick:
        if picked is None:
            raise typer.Exit(PICK_NOTHING_EXIT)
        sys.stdout.write(output.exact_or_safe(picked) + "\n")
