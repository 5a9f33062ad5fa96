"""recall: hybrid search."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from memcli.cli import complete, output
from memcli.cli.common import filters_from, hit_json
from memcli.cli.options import JsonOpt, LimitOpt, QuietOpt, SinceOpt, TagOpt, UntilOpt
from memcli.cli.root import app
from memcli.cli.state import start
from memcli.errors import UsageError
from memcli.search.fusion import DEFAULT_PARAMS
from memcli.search.recall import MODES, RecallRequest
from memcli.service.reading import recall_memories

FLOOR = DEFAULT_PARAMS.floor


@app.command()
def recall(
    ctx: typer.Context,
    words: Annotated[
        list[str],
        typer.Argument(
            metavar="QUERY...",
            help="What you are looking for, in your own words (quoted or not; after -- when "
            "it starts with -).",
        ),
    ],
    limit: LimitOpt = 10,
    tag: TagOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            help="hybrid, keyword or semantic.",
            autocompletion=complete.choices(complete.MODES),
        ),
    ] = "hybrid",
    all_: Annotated[bool, typer.Option("--all", help="Include archived memories.")] = False,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain", help="Show the BM25, cosine, fusion and lifecycle parts of each score."
        ),
    ] = False,
    min_score: Annotated[
        float | None,
        typer.Option(
            "--min-score",
            help=f"Keep hits scoring at least this (0..1; default: the floor, {FLOOR:g}).",
        ),
    ] = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Find memories by meaning and by exact words, best first. Prints nothing when nothing
    is relevant. An older hit that a newer one seems to update comes after it, dimmed
    (stale_candidate in --json).

    \b
    Examples:
      memcli recall db port
      memcli recall who is allergic to nuts -k 3 --since 6mo
      memcli --json recall OPS-1423 --mode keyword
    """
    context, out = start(ctx, json_out, quiet)
    query = " ".join(words)
    if mode not in MODES:
        raise UsageError(f"unknown mode {mode!r}", "use hybrid, keyword or semantic")
    if not query.strip():
        raise UsageError("the query is empty", 'give some words, e.g. memcli recall "db port"')
    if min_score is not None and not 0 <= min_score <= 1:  # NaN fails both comparisons
        raise UsageError(f"--min-score {min_score} is not a number from 0 to 1")
    states = ("active", "archived") if all_ else ("active",)
    request = RecallRequest(
        query=query,
        limit=limit,
        filters=filters_from(context, tag, since, until, states),
        mode=mode,
        min_score=min_score,
    )
    hits = recall_memories(context, request, say_unwritten=explain or sys.stderr.isatty())
    if not hits and sys.stderr.isatty() and not out.quiet:
        # An empty answer is a result (exit 0): say so to a person, never to a script.
        output.notice("nothing relevant found (--min-score 0 shows weaker matches)")
    if out.json:
        out.data([hit_json(hit, explain) for hit in hits])
        return
    if out.quiet:
        out.ids([hit.memory for hit in hits])
        return
    now = context.now()
    for hit in hits:
        if hit.newer is None:
            out.line(output.memory_row(hit.memory, now, lead=f"{hit.score:.2f}"))
        else:  # an older value of what a newer hit says: dimmed, with the newer one's id
            row = output.memory_row(hit.memory, now, lead=f"{hit.score:.2f}", plain=True)
            out.line(output.dim(f"{row}  (older than {hit.newer})"))
        if explain:
            p = hit.parts
            bm25 = "-" if p.bm25 is None else f"{p.bm25:.3f}"
            cosine = "-" if p.cosine is None else f"{p.cosine:.3f}"
            out.line(
                output.dim(
                    f"          keyword {p.keyword:.3f} (coverage {p.coverage:.2f}, bm25 {bm25})  "
                    f"cosine {cosine}  own {p.fused:.3f}  context +{p.context:.3f}  "
                    f"retention {p.retention:.2f}  prior x{p.prior:.3f}"
                )
            )
