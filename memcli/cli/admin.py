"""init, reindex, stats, doctor, completion."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from memcli.cli.options import JsonOpt, QuietOpt
from memcli.cli.output import Output, progress_bar
from memcli.cli.root import app
from memcli.cli.state import GlobalOptions, start
from memcli.errors import UsageError
from memcli.service import maintenance, privacy

SHELLS = ("bash", "zsh", "fish")


@app.command()
def init(
    ctx: typer.Context,
    encrypt: Annotated[
        bool,
        typer.Option(
            "--encrypt",
            help="Encrypt the new store; its key goes to the OS keyring (or comes from "
            "MEMCLI_KEY).",
        ),
    ] = False,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Create the store (memcli add also creates it on first use).

    \b
    Examples:
      memcli init
      memcli init --encrypt
    """
    context, out = start(ctx, json_out, quiet)
    report = privacy.init_store(context, encrypt=encrypt)
    if out.json:
        out.data(
            {
                "store": str(report.store),
                "created": report.created,
                "encrypted": report.encrypted,
                "key": report.key,
            }
        )
        return
    kind = "encrypted store" if report.encrypted else "store"
    if report.created:
        out.info(f"created the {kind} at {report.store}")
    else:
        out.info(f"the {kind} already exists at {report.store}")
    if report.key:
        out.info(f"its key: {report.key}")


@app.command()
def reindex(
    ctx: typer.Context,
    missing: Annotated[
        bool,
        typer.Option(
            "--missing", help="Only embed memories that have no vector for the current model."
        ),
    ] = False,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Rebuild the keyword index and re-embed every memory (after a model change).

    \b
    Examples:
      memcli reindex --missing
      memcli reindex
    """
    context, out = start(ctx, json_out, quiet)
    with progress_bar("embedding") as progress:
        report = maintenance.reindex(context, missing_only=missing, progress=progress)
    if out.json:
        out.data({"memories": report.memories, "embedded": report.embedded, "model": report.model})
    else:
        out.info(f"re-indexed {report.memories} memories with {report.model}")


@app.command()
def stats(ctx: typer.Context, json_out: JsonOpt = False, quiet: QuietOpt = False) -> None:
    """Counts, sizes, model status and schema version.

    \b
    Examples:
      memcli stats
      memcli --json stats
    """
    context, out = start(ctx, json_out, quiet)
    report = maintenance.stats(context)
    if out.json:
        out.data(report)
        return
    for key, value in report.items():
        out.line(f"{key:>18}  {_flat(value)}")


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_flat(v)}" for k, v in value.items() if v is not None)
    return str(value)


@app.command()
def doctor(ctx: typer.Context, json_out: JsonOpt = False, quiet: QuietOpt = False) -> None:
    """Check the store, the indexes and the model; explain what is wrong. Exit 1 on a problem.

    \b
    Examples:
      memcli doctor
    """
    context, out = start(ctx, json_out, quiet)
    report = maintenance.doctor(context)
    if out.json:
        out.data({"ok": report.ok, "checks": [c.__dict__ for c in report.checks]})
    else:
        for check in report.checks:
            out.line(f"{'ok ' if check.ok else 'BAD'}  {check.name:<14} {check.detail}")
            if not check.ok and check.hint:
                out.line(f"     {'':<14} hint: {check.hint}")
    if not report.ok:
        raise typer.Exit(1)


def completion_script(shell: str) -> str:
    from typer._completion_shared import get_completion_script

    return get_completion_script(prog_name="memcli", complete_var="_MEMCLI_COMPLETE", shell=shell)


@app.command()
def completion(
    ctx: typer.Context,
    shell: Annotated[str, typer.Argument(help="bash, zsh or fish.")],
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Print the shell completion script for bash, zsh or fish (README: Completion).

    \b
    Install it:
      memcli completion bash > ~/.local/share/bash-completion/completions/memcli
      memcli completion zsh > ~/.zfunc/_memcli   # with fpath+=(~/.zfunc) in ~/.zshrc
      memcli completion fish > ~/.config/fish/completions/memcli.fish
    """
    if shell not in SHELLS:
        raise UsageError(f"unknown shell {shell!r}", f"use one of {', '.join(SHELLS)}")
    script = completion_script(shell).rstrip("\n") + "\n"
    options = ctx.find_object(GlobalOptions) or GlobalOptions()
    if json_out or options.json:
        Output(json=True).data({"shell": shell, "script": script})
    else:
        sys.stdout.write(script)
