"""mcp (the server for AI agents) and review (a person's look at what agents wrote).

The `mcp` SDK is an optional extra, imported only when `memcli mcp` runs."""

from __future__ import annotations

from typing import Annotated

import typer

from memcli.cli import output
from memcli.cli.common import memories_json
from memcli.cli.options import JsonOpt, QuietOpt
from memcli.cli.root import app
from memcli.cli.state import start
from memcli.errors import MemcliError
from memcli.mcp.settings import load_mcp_settings
from memcli.service import agents


@app.command("mcp")
def mcp_command(
    ctx: typer.Context,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Serve recall, list and get only.")
    ] = False,
) -> None:
    """Serve the memory to AI agents over MCP (stdio): recall, remember, forget,
    list_recent, get. Configure it in the agent's client (README, Agents).

    \b
    Examples:
      claude mcp add memcli -- "$(which memcli)" mcp
      memcli mcp --read-only
    """
    context, _ = start(ctx)
    settings = load_mcp_settings(context.settings, read_only=read_only)
    try:
        from memcli.mcp.server import serve
    except ImportError as exc:
        raise MemcliError(
            f"memcli mcp needs the MCP SDK, which is not installed ({exc.name or exc})",
            "pip install 'memcli[mcp]' (or pipx inject memcli mcp)",
        ) from None
    serve(context, settings)


@app.command("review")
def review_command(
    ctx: typer.Context,
    approve: Annotated[
        list[str] | None,
        typer.Option("--approve", "-a", metavar="ID", help="Approve these (repeatable)."),
    ] = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """What agents wrote that you have not reviewed: approve it (--approve ID), change it
    (memcli edit ID) or forget it (memcli forget ID). Pending notes are recalled once
    approved.

    \b
    Examples:
      memcli review
      memcli review --approve 7f3k --approve 9a1b
    """
    context, out = start(ctx, json_out, quiet)
    if approve:
        done = agents.approve(context, approve)
        if out.json:
            out.data({"approved": [m.id for m in done]})
        elif out.quiet:
            out.ids(done)
        else:
            out.info(f"approved {len(done)} of {len(approve)}")
        return
    waiting = agents.unreviewed(context)
    if out.json:
        out.data(memories_json(waiting))
        return
    if out.quiet:
        out.ids(waiting)
        return
    now = context.now()
    for memory in waiting:
        out.line(output.memory_row(memory, now, trail=f"by {memory.origin or 'an agent'}"))
    if waiting:
        out.info(
            f"{len(waiting)} to review: memcli review --approve ID, memcli edit ID, "
            "memcli forget ID"
        )
    else:
        out.info("nothing to review")
