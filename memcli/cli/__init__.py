"""memcli's command line: thin Typer modules that parse, call one service function, render."""

from __future__ import annotations

from memcli.cli.app import app, main

__all__ = ["app", "main"]
