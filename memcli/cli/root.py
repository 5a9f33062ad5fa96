"""The Typer application, the global options and the one place errors become exit codes.

Commands register on `app` when their module is imported: `memcli.cli.app` (the package's
attribute) is the application with every command; `main` imports only what the command
line needs."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer

# typer 0.28 (pinned in pyproject.toml) ships its own copy of click; its usage errors are
# this class, not click's.
from typer._click.exceptions import UsageError as ClickUsageError
from typer.core import TyperGroup

from memcli import __version__
from memcli.cli import output
from memcli.cli.state import GlobalOptions
from memcli.errors import MemcliError, unexpected


class ShortUsageError(ClickUsageError):
    """A usage error in memcli's own two lines (what was wrong; where the options are)
    instead of click's usage line, hint, blank line and message."""

    dash_hint = False  # an unknown option, which may be text that starts with "-"

    def show(self, file: Any = None) -> None:
        if self.dash_hint and self.ctx is not None:
            hint = f'text that starts with "-" goes after "--": {self.ctx.command_path} -- -v2'
        elif self.ctx is None or isinstance(self.ctx.command, TyperGroup):
            hint = "memcli -h lists the commands and the global options"
        else:
            hint = f"{self.ctx.command_path} -h shows its options"
        output.error(self.format_message(), hint)


def _short(exc: ClickUsageError) -> ClickUsageError:
    if isinstance(exc, ShortUsageError) or type(exc).__name__ == "NoArgsIsHelpError":
        return exc  # memcli with no arguments shows its help
    short = ShortUsageError(exc.format_message(), exc.ctx)
    short.dash_hint = type(exc).__name__ == "NoSuchOption" and exc.ctx is not None
    return short


class MemcliGroup(TyperGroup):
    """Maps memcli's exceptions to a short message and the exit code of SPEC §2."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except ClickUsageError as exc:
            raise _short(exc) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except MemcliError as exc:
            _flush_notices(ctx)
            output.error(exc.message, exc.hint)
            if os.environ.get("MEMCLI_DEBUG"):
                traceback.print_exc()
            raise typer.Exit(exc.exit_code) from None
        except ClickUsageError as exc:
            raise _short(exc) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            _flush_notices(ctx)
            raise
        except BrokenPipeError:
            # The reader went away (memcli export | head -1): not an error of ours.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None
        except Exception as exc:
            if os.environ.get("MEMCLI_DEBUG"):
                raise
            if type(exc).__module__.startswith(("typer", "click")):
                raise  # usage errors: Typer prints them and exits 2
            told = unexpected(exc)
            output.error(told.message, told.hint)
            raise typer.Exit(1) from None
        finally:
            _flush_notices(ctx)


def _flush_notices(ctx: Any) -> None:
    state = ctx.obj if isinstance(ctx.obj, GlobalOptions) else None
    if state is not None and state.context is not None:
        for text in state.context.notices:
            output.notice(text)
        state.context.notices.clear()


app = typer.Typer(
    cls=MemcliGroup,
    name="memcli",
    help="A personal memory for the shell: add notes, recall them by meaning or exact words, "
    "forget them for good. Everything stays in one local DuckDB file.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"memcli {__version__}\n")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            help="Store file (default: the data dir; MEMCLI_HOME overrides).",
            metavar="PATH",
            dir_okay=False,
        ),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON document on stdout.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only ids (or nothing) on stdout.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Global options; no I/O happens here."""
    ctx.obj = GlobalOptions(db=db, json=json_out, quiet=quiet)


# Each command's module, which registers it on `app` when imported; MODULES is --help's
# order. A command typed in the shell imports only its own module (main), not the others'
# services (about 20 ms of a cold command); --help, completion and an unknown or missing
# command import them all. tests/cli/test_commands.py checks this table against `app`.
MODULES = (
    "add",
    "memories",
    "recall",
    "forget",
    "lifecycle",
    "schedule",
    "transfer",
    "admin",
    "privacy",
    "tui",
    "agents",
)
COMMAND_MODULES = {
    "add": "add",
    **dict.fromkeys(
        ("show", "list", "edit", "tag", "pin", "unpin", "archive", "restore"), "memories"
    ),
    "recall": "recall",
    "forget": "forget",
    "consolidate": "lifecycle",
    "runs": "lifecycle",
    "history": "lifecycle",
    "schedule": "schedule",
    "import": "transfer",
    "export": "transfer",
    **dict.fromkeys(("init", "reindex", "stats", "doctor", "completion"), "admin"),
    "encrypt": "privacy",
    "decrypt": "privacy",
    "tui": "tui",
    "mcp": "agents",
    "review": "agents",
}
_GLOBAL_OPTIONS_WITH_A_VALUE = ("--db",)
_ALL_COMMANDS_OPTIONS = ("-h", "--help", "--version")


def register(modules: tuple[str, ...] = MODULES) -> None:
    """Import the command modules (each registers its commands on `app`); idempotent."""
    for module in modules:
        importlib.import_module(f"memcli.cli.{module}")


def modules_for(args: list[str]) -> tuple[str, ...]:
    """The command modules a command line needs: the named command's, or all of them."""
    rest = iter(args)
    for arg in rest:
        if arg in _ALL_COMMANDS_OPTIONS:
            return MODULES
        if arg in _GLOBAL_OPTIONS_WITH_A_VALUE:
            next(rest, None)
        elif not arg.startswith("-"):
            module = COMMAND_MODULES.get(arg)
            return MODULES if module is None else (module,)
    return MODULES


def main() -> None:
    """Console-script entry point."""
    if "_MEMCLI_COMPLETE" in os.environ:
        # Shell completion request: register Typer's completion classes (bash, zsh, fish).
        from typer._completion_classes import completion_init

        completion_init()
        register()
    else:
        register(modules_for(sys.argv[1:]))
    try:
        app(prog_name="memcli")
    except KeyboardInterrupt:
        sys.exit(130)
