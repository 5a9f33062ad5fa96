"""import and export (JSON Lines, Markdown)."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from memcli import importers
from memcli.cli import complete, output
from memcli.cli.common import memories_json
from memcli.cli.options import JsonOpt, QuietOpt
from memcli.cli.output import progress_bar
from memcli.cli.root import app
from memcli.cli.state import start
from memcli.errors import InvalidInput, UsageError
from memcli.service.transfer import (
    export_memories,
    import_memories,
    jsonl_lines,
    markdown_lines,
    update_changed,
)


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Argument(
            metavar="PATH",
            help="A file, a folder of Markdown notes, or - for JSON Lines on stdin.",
        ),
    ],
    from_: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="FORMAT",
            help="jsonl, markdown, jrnl, mem0 or mcp-memory (default: told from the file).",
            autocompletion=complete.choices(complete.IMPORT_FORMATS),
        ),
    ] = None,
    split: Annotated[
        str | None,
        typer.Option(
            "--split", metavar="headings", help="Markdown: one memory per heading's section."
        ),
    ] = None,
    skip_bad: Annotated[
        bool,
        typer.Option(
            "--skip-bad",
            help="Import the good lines and "
            "report the bad ones (default: import nothing if any line is bad).",
        ),
    ] = False,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Import memories: memcli's JSON Lines (an export), Markdown notes (a file or a folder:
    Obsidian, nb, basic-memory), a jrnl JSON export, a mem0 export or the MCP memory
    server's memory.jsonl. Importing the same source again adds nothing twice and updates
    what changed.

    \b
    Examples:
      memcli import backup.jsonl
      memcli import ~/vault --split headings
      memcli import journal.json --from jrnl
    """
    context, out = start(ctx, json_out, quiet)
    if split not in (None, "headings"):
        raise UsageError(f"unknown --split {split!r}", "use --split headings")
    kind = from_ or ("jsonl" if file == "-" else importers.detect(Path(file)))
    if kind not in importers.FORMATS:
        raise UsageError(f"unknown format {kind!r}", f"use one of {', '.join(importers.FORMATS)}")
    skipped: list[tuple[str, str]] = []
    updated: list[str] = []
    if kind == "jsonl":
        lines = _jsonl_bytes(file)
    else:
        if file == "-":
            raise UsageError(f"--from {kind} reads a file or folder, not stdin")
        converted = importers.convert(Path(file), kind, split_headings=split == "headings")
        skipped = converted.skipped
        updated = update_changed(context, converted.records)
        lines = [json.dumps(r).encode() for r in converted.records]
    with progress_bar("embedding") as progress:
        report = import_memories(context, lines, skip_bad=skip_bad, progress=progress)
    report.skipped_existing -= len(updated)
    for where, why in skipped:
        output.notice(f"skipped {where}: {why}")
    if out.json:
        out.data(
            {
                "imported": report.imported,
                "skipped_existing": report.skipped_existing,
                "skipped_duplicate": report.skipped_duplicate,
                "without_vector": report.without_vector,
                "bad_lines": [{"line": n, "error": why} for n, why in report.bad_lines],
                "format": kind,
                "updated": updated,
                "skipped_sources": [{"where": w, "why": why} for w, why in skipped],
            }
        )
        return
    for number, why in report.bad_lines:
        output.notice(f"skipped line {number}: {why}")
    out.info(
        f"imported {report.imported}"
        + (f", updated {len(updated)}" if updated else "")
        + f", skipped {report.skipped_existing} already present "
        f"and {report.skipped_duplicate} duplicate text(s)"
    )


def _jsonl_bytes(file: str) -> list[bytes]:
    if file == "-":
        return sys.stdin.buffer.read().splitlines()
    try:
        return Path(file).read_bytes().splitlines()
    except IsADirectoryError:
        raise InvalidInput(
            f"{file} is a folder", "for a folder of Markdown notes use --from markdown"
        ) from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror}") from None


@app.command("export")
def export_command(
    ctx: typer.Context,
    file: Annotated[
        str | None, typer.Argument(metavar="[FILE]", help="Write here (default or -: stdout).")
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format", help="jsonl or md.", autocompletion=complete.choices(complete.FORMATS)
        ),
    ] = "jsonl",
    active: Annotated[
        bool, typer.Option("--active", help="Only active memories (not a full backup).")
    ] = False,
    all_: Annotated[
        bool, typer.Option("--all", help="Every memory (the default; kept for scripts).")
    ] = False,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Export every memory, with its state (archived, pending ones too), as JSON Lines (or
    Markdown with --format md): a backup that `memcli import` restores.

    \b
    Examples:
      memcli export backup.jsonl
      memcli export --format md notes.md
      memcli export --active | head
    """
    context, out = start(ctx, json_out, quiet)
    if fmt not in ("jsonl", "md"):
        raise UsageError(f"unknown format {fmt!r}", "use jsonl or md")
    if out.json and fmt == "md" and file in (None, "-"):
        raise UsageError(
            "--json and --format md both describe stdout", "drop one, or write md to a FILE"
        )
    if active and all_:
        raise UsageError("--active and --all ask for different sets", "give one of them")
    memories = export_memories(context, include_archived=not active)
    lines = jsonl_lines(memories) if fmt == "jsonl" else markdown_lines(memories)
    if file in (None, "-"):
        if out.json and fmt == "jsonl":
            out.data(memories_json(memories))
            return
        sys.stdout.writelines(lines)
        return
    target = Path(file)
    tmp = target.with_name(target.name + ".tmp")
    try:
        # An export is a backup of private notes: owner-only, like the store.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with open(fd, "w", encoding="utf-8") as handle:
            handle.writelines(lines)
        tmp.replace(target)
    except OSError as exc:
        with contextlib.suppress(OSError):  # a read-only folder refuses the cleanup too
            tmp.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {file}: {exc.strerror}") from None
    if out.json:
        out.data({"exported": len(memories), "file": str(target), "format": fmt})
    else:
        out.info(f"exported {len(memories)} memories to {target}")
