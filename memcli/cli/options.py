"""Option types reused across commands."""

from __future__ import annotations

from typing import Annotated

import typer

from memcli.cli import complete

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only ids on stdout.")]
TagOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--tag",
        "-t",
        help="Tag (repeatable, or comma-separated).",
        metavar="TAG",
        autocompletion=complete.tags,
    ),
]
SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since", help="Only memories from WHEN on (2025-03-14, 3d, last week).", metavar="WHEN"
    ),
]
UntilOpt = Annotated[
    str | None,
    typer.Option("--until", help="Only memories before the end of WHEN.", metavar="WHEN"),
]
# A store holds far fewer memories than this; a larger count only overflows SQL's integers.
MAX_LIMIT = 10_000_000
LimitOpt = Annotated[
    int, typer.Option("--limit", "-k", help="At most this many results.", min=1, max=MAX_LIMIT)
]
ImportanceOpt = Annotated[
    int, typer.Option("--importance", "-i", min=1, max=5, help="1 (trivia) to 5 (vital).")
]
