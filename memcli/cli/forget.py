"""forget: remove memories for good."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from memcli.cli import complete, output
from memcli.cli.common import memories_json, when_start
from memcli.cli.options import MAX_LIMIT, JsonOpt, QuietOpt
from memcli.cli.root import app
from memcli.cli.state import start
from memcli.errors import UsageError
from memcli.service.forgetting import ForgetSelector, forget, names_a_memory, select_for_forget
from memcli.textutil import clean_tag


@app.command("forget")
def forget_command(
    ctx: typer.Context,
    memory_ids: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[ID]...",
            help="Memory ids (any unique prefix of 4+).",
            autocompletion=complete.memory_ids,
        ),
    ] = None,
    query: Annotated[
        str | None,
        typer.Option("--query", help="Forget the best match for this query (-k N for the top N)."),
    ] = None,
    k: Annotated[
        int,
        typer.Option(
            "-k",
            "--limit",
            min=1,
            max=MAX_LIMIT,
            help="With --query: how many of the best matches.",
        ),
    ] = 1,
    tag: Annotated[
        str | None, typer.Option("--tag", "-t", help="Every memory carrying this tag.")
    ] = None,
    before: Annotated[
        str | None, typer.Option("--before", metavar="WHEN", help="Every memory from before WHEN.")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would go; change nothing.")
    ] = False,
    erase_now: Annotated[
        bool,
        typer.Option(
            "--now",
            help="Also erase the deleted bytes from the file now (rewrites it), instead of "
            "at the next consolidate.",
        ),
    ] = False,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Remove memories for good: text, vectors, index entries and history.

    The file itself is scrubbed of them by the next `memcli consolidate`, or at once with
    --now.

    \b
    Examples:
      memcli forget 7f3k
      memcli forget --query old wifi password --dry-run
      memcli forget --tag scratch --before 1y -y
    """
    context, out = start(ctx, json_out, quiet)
    ids = list(memory_ids or ())
    if query is not None and ids and not names_a_memory(context, ids):
        # `forget --query wifi password`: the words after the query are more of it (unless
        # one of them is a memory's id: ids and a query together stay a usage error).
        query, ids = " ".join([query, *ids]), []
    selector = ForgetSelector(
        ids=tuple(ids),
        query=query,
        limit=k,
        tag=clean_tag(tag) if tag else None,
        before=when_start(context, before),
    )
    chosen = select_for_forget(context, selector)
    if dry_run or not chosen:
        if out.json:
            out.data({"forgotten": [], "would_forget": memories_json(chosen), "dry_run": dry_run})
        elif out.quiet:
            out.ids(chosen)
        else:
            now = context.now()
            for memory in chosen:
                out.line(output.memory_row(memory, now))
            out.info(
                f"{'would forget' if dry_run else 'nothing to forget:'} "
                f"{len(chosen)} memor{'y' if len(chosen) == 1 else 'ies'}"
            )
        return
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(
                "forget asks for confirmation, and there is no terminal to ask on",
                "pass -y to confirm, or --dry-run to see what would go",
            )
        now = context.now()
        for memory in chosen:
            sys.stderr.write(output.memory_row(memory, now) + "\n")
        if not typer.confirm(
            f"Forget {len(chosen)} memor{'y' if len(chosen) == 1 else 'ies'} for good?",
            default=False,
            err=True,
        ):
            out.info("nothing forgotten")
            return
    count = forget(context, chosen, erase_now=erase_now)
    if out.json:
        out.data(
            {
                "forgotten": [m.id for m in chosen],
                "memories": [{"id": m.id, "first_line": _first_line(m.text)} for m in chosen],
                "dry_run": False,
                "erased": erase_now,
            }
        )
    elif out.quiet:
        out.ids(chosen)
    else:
        for memory in chosen:
            out.info(f"forgot {memory.id}  {output.one_line(_first_line(memory.text), 70)}")
        erased = " and erased them from the file" if erase_now else ""
        out.info(f"forgot {count} memor{'y' if count == 1 else 'ies'}{erased}")


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
