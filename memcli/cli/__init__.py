"""memcli's command line: thin Typer modules that parse, call one service function, render."""

from __future__ import annotations

from typing import Any

from memcli.cli.root import main

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    """`memcli.cli.app`: the Typer application with every command registered (what tests
    and tools invoke); the shell's entry point, `main`, registers only the command it runs."""
    if name == "app":
        from memcli.cli.root import app, register

        register()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
