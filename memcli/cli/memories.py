"""show, list, edit, tag, pin, unpin, archive, restore (add is in memcli.cli.add)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from memcli.cli import complete, output
from memcli.cli.common import filters_from, memories_json, read_text_arg, when_moment
from memcli.cli.options import (
    MAX_LIMIT,
    JsonOpt,
    QuietOpt,
    SinceOpt,
    TagOpt,
    UntilOpt,
)
from memcli.cli.root import app
from memcli.cli.state import start
from memcli.errors import InvalidInput, UsageError
from memcli.records import Memory
from memcli.service import reading, writing
from memcli.service.context import Context
from memcli.service.lookup import resolve
from memcli.service.transfer import memory_json
from memcli.textutil import clean_tags, printable, tag_line
from memcli.timeparse import format_local, humanize_age, to_utc_iso

IdsArg = Annotated[
    list[str],
    typer.Argument(
        help="Memory ids (any unique prefix of 4+).", autocompletion=complete.memory_ids
    ),
]
IdArg = Annotated[str, typer.Argument(metavar="ID", autocompletion=complete.memory_ids)]


@app.command()
def show(
    ctx: typer.Context,
    memory_id: IdArg,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Show one memory in full, with its history.

    \b
    Examples:
      memcli show 7f3k
      memcli --json show 7f3k
    """
    context, out = start(ctx, json_out, quiet)
    shown = reading.show(context, memory_id, say_unwritten=sys.stderr.isatty())
    memory = shown.memory
    if out.json:
        document = memory_json(memory)
        document["strength"] = round(reading.strength(context, memory), 4)
        document["history"] = [
            {"at": to_utc_iso(e.at), "kind": e.kind, "detail": e.detail} for e in shown.events
        ]
        out.data(document)
        return
    if out.quiet:
        out.line(output.exact_or_safe(memory.text))
        return
    now = context.now()
    out.line(f"{output.id_style(memory.id)}  {memory.state}{'  pinned' if memory.pinned else ''}")
    out.line()
    out.line(printable(memory.text, keep_lines=True))
    out.line()
    details = [
        ("tags", tag_line(memory.tags) or "-"),
        ("created", f"{format_local(memory.created_at)} ({humanize_age(memory.created_at, now)})"),
        ("updated", format_local(memory.updated_at)),
        ("importance", str(memory.importance)),
        ("strength", f"{reading.strength(context, memory):.2f}"),
        ("reinforced", f"{memory.reinforcements} time(s)"),
        ("source", memory.source),
    ]
    if memory.superseded_by:
        details.append(("superseded by", memory.superseded_by))
    for label, value in details:
        out.line(output.dim(f"{label:>13}  ") + value)
    for event in shown.events:
        out.line(
            output.dim(f"{'history':>13}  ")
            + f"{format_local(event.at)}  {event.kind}"
            + (f"  {printable(event.detail)}" if event.detail else "")
        )


@app.command("list")
def list_(
    ctx: typer.Context,
    tag: TagOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    archived: Annotated[bool, typer.Option("--archived", help="Only archived memories.")] = False,
    all_: Annotated[bool, typer.Option("--all", help="Active and archived memories.")] = False,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="Only from this source (cli, tui, import, mcp; repeatable)."),
    ] = None,
    any_tag: Annotated[
        list[str] | None,
        typer.Option(
            "--any-tag",
            metavar="TAG",
            help="With any of these tags (-t: with all of them).",
            autocompletion=complete.tags,
        ),
    ] = None,
    sort: Annotated[
        str,
        typer.Option(
            "--sort",
            help="created, recalled or strength.",
            autocompletion=complete.choices(complete.SORTS),
        ),
    ] = "created",
    limit: Annotated[
        int,
        typer.Option("--limit", "-k", help="At most this many (0: all).", min=0, max=MAX_LIMIT),
    ] = 20,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """List memories, newest first. Repeated -t (or -t a,b) means all of those tags;
    --any-tag a,b means any of them. The last column is the strength (1.00 fresh or
    pinned, fading with time).

    \b
    Examples:
      memcli list -t work
      memcli list --sort strength -k 0
      memcli list --archived --since 2025-01
    """
    context, out = start(ctx, json_out, quiet)
    if sort not in reading.SORTS:
        raise UsageError(f"unknown sort {sort!r}", "use created, recalled or strength")
    states = ("archived",) if archived else ("active", "archived") if all_ else ("active",)
    filters = filters_from(context, tag, since, until, states, tuple(source or ()), any_tag)
    found = reading.list_memories(context, filters, sort, limit or None)
    if out.json:
        documents = memories_json(found)
        for document, memory in zip(documents, found, strict=True):
            document["strength"] = round(reading.strength(context, memory), 4)
        out.data(documents)
    elif out.quiet:
        out.ids(found)
    else:
        now = context.now()
        terminal = sys.stdout.isatty()
        if terminal and found:
            out.line(output.dim("id        text  ·  #tags  age  strength"))
        for memory in found:
            out.line(
                output.memory_row(memory, now, trail=f"{reading.strength(context, memory):.2f}")
            )
        if terminal and limit and len(found) == limit:
            total = reading.count_memories(context, filters)
            if total > limit:
                out.info(f"{limit} of {total}; -k 0 lists all")


@app.command()
def edit(
    ctx: typer.Context,
    memory_id: IdArg,
    text: Annotated[
        str | None,
        typer.Option("--text", help="New text ('-' reads stdin); without it $EDITOR opens."),
    ] = None,
    importance: Annotated[int | None, typer.Option("--importance", "-i", min=1, max=5)] = None,
    at: Annotated[str | None, typer.Option("--at", metavar="WHEN")] = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Change a memory's text (in $EDITOR or with --text), importance or date.

    \b
    Examples:
      memcli edit 7f3k
      memcli edit 7f3k --text "the port is now 6544"
      memcli edit 7f3k -i 5 --at 2025-03-14
    """
    context, out = start(ctx, json_out, quiet)
    expected = None
    if text is None and importance is None and at is None:
        current = _current(context, memory_id)
        expected = current.updated_at
        text = _edit_in_editor(current)
        if text is None:
            out.info("no change")
            _print_memory(out, current)
            return
    elif text is not None:
        text = read_text_arg(context, text)
    memory = writing.edit(
        context,
        memory_id,
        text=text,
        importance=importance,
        at=when_moment(context, at),
        expected_updated_at=expected,
    )
    _print_memory(out, memory)


def _current(context: Context, memory_id: str) -> Memory:
    with context.store(write=False) as store:
        return resolve(store.con, memory_id)


def _edit_in_editor(memory: Memory) -> str | None:
    """Open $EDITOR (or $VISUAL, else vi) on the text; None when nothing changed."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    fd, name = tempfile.mkstemp(prefix=f"memcli-{memory.id}-", suffix=".txt")  # 0600
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(memory.text + "\n")
        completed = subprocess.run([*shlex.split(editor), str(path)], check=False)
        if completed.returncode != 0:
            raise UsageError(f"the editor exited with status {completed.returncode}; nothing saved")
        try:
            new_text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("the edited text is not valid UTF-8; nothing saved") from None
    finally:
        path.unlink(missing_ok=True)
    return None if new_text.strip() == memory.text.strip() else new_text


def _print_memory(out: output.Output, memory: Memory) -> None:
    if out.json:
        out.data(memory_json(memory))
    else:
        out.line(memory.id)


@app.command(context_settings={"ignore_unknown_options": True})
def tag(
    ctx: typer.Context,
    memory_id: IdArg,
    changes: Annotated[
        list[str],
        typer.Argument(
            metavar="[+TAG|-TAG]...", help="+a adds tag a, -b removes tag b (a bare name adds)."
        ),
    ],
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Add and remove tags: memcli tag ID +work -draft.

    \b
    Examples:
      memcli tag 7f3k +work -draft
    """
    context, out = start(ctx, json_out, quiet)
    added: list[str] = []
    removed: list[str] = []
    for change in changes:
        if change.startswith("-"):
            removed.extend(clean_tags([change[1:]]))
        else:
            added.extend(clean_tags([change.removeprefix("+")]))
    memory = writing.retag(context, memory_id, added, removed)
    if out.json:
        out.data(memory_json(memory))
    else:
        out.line(tag_line(memory.tags) if not out.quiet else memory.id)


def _flag_command(name: str, field: str, value: object, event: str, doc: str) -> None:
    def command(
        ctx: typer.Context, memory_ids: IdsArg, json_out: JsonOpt = False, quiet: QuietOpt = False
    ) -> None:
        context, out = start(ctx, json_out, quiet)
        changed = writing.set_flag(context, memory_ids, field, value, event)
        if out.json:
            out.data(memories_json(changed))
        else:
            out.ids(changed)

    command.__doc__ = f"{doc}\n\n\b\nExamples:\n  memcli {name} 7f3k\n  memcli {name} 7f3k 9a1b\n"
    app.command(name)(command)


_flag_command("pin", "pinned", True, "pinned", "Pin memories: they never decay.")
_flag_command("unpin", "pinned", False, "unpinned", "Unpin memories: they decay again.")
_flag_command(
    "archive",
    "state",
    "archived",
    "archived",
    "Archive memories: hidden from recall unless --all; undo with restore.",
)
_flag_command(
    "restore", "state", "active", "restored", "Bring archived (or superseded) memories back."
)
