"""add: the most frequent command, in a module of its own, so that it does not import what
reading a memory needs (recall, fusion, the keyword copy: about 7 ms of a cold add)."""

from __future__ import annotations

from typing import Annotated

import typer

from memcli.cli.common import read_text_arg, when_moment
from memcli.cli.options import ImportanceOpt, JsonOpt, QuietOpt, TagOpt
from memcli.cli.root import app
from memcli.cli.state import start
from memcli.errors import UsageError
from memcli.records import SOURCES
from memcli.service import writing
from memcli.service.transfer import memory_json
from memcli.textutil import clean_tags


@app.command()
def add(
    ctx: typer.Context,
    text: Annotated[
        list[str],
        typer.Argument(
            metavar="TEXT...",
            help="The memory's text (quoted or not), or - to read it from stdin. A text that "
            "starts with - goes after --.",
        ),
    ],
    tag: TagOpt = None,
    importance: ImportanceOpt = 3,
    pin: Annotated[bool, typer.Option("--pin", help="Never let it decay.")] = False,
    at: Annotated[
        str | None, typer.Option("--at", metavar="WHEN", help="When it happened (default: now).")
    ] = None,
    source: Annotated[str, typer.Option("--source", help="Where it came from.")] = "cli",
    supersedes: Annotated[
        str | None,
        typer.Option(
            "--supersedes", metavar="ID", help="This replaces an older memory, which is archived."
        ),
    ] = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Store a memory and print its id. Re-adding the same text reinforces it instead.

    \b
    Examples:
      memcli add the staging db is on port 6543 -t work
      memcli add "Alice's number is now 555-4444" --supersedes 7f3k
      pbpaste | memcli add - -t clipboard
    """
    context, out = start(ctx, json_out, quiet)
    if source not in SOURCES:
        raise UsageError(f"unknown source {source!r}", f"use one of {', '.join(SOURCES)}")
    result = writing.add(
        context,
        read_text_arg(context, text),
        tags=clean_tags(tag or []),
        importance=importance,
        pinned=pin,
        at=when_moment(context, at),
        source=source,
        supersedes=supersedes,
    )
    if out.json:
        out.data(
            {
                "id": result.memory.id,
                "status": result.status,
                "superseded": result.superseded,
                "memory": memory_json(result.memory),
            }
        )
        return
    out.line(result.memory.id)
    if result.status == "reinforced":
        out.info(f"already stored as {result.memory.id}: reinforced it instead of adding a copy")
    if result.superseded:
        out.info(f"archived {result.superseded}, which this memory supersedes")
