"""consolidate (the nightly job) and history."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from memcli.cli import complete, output
from memcli.cli.common import when_moment
from memcli.cli.options import JsonOpt, QuietOpt
from memcli.cli.root import app
from memcli.cli.state import start
from memcli.lifecycle.plan import Plan
from memcli.records import Memory
from memcli.service.consolidation import Report, consolidate
from memcli.service.history import history, nightly_runs
from memcli.store.consolidation import Run
from memcli.textutil import printable
from memcli.timeparse import format_local, to_utc_iso


@contextmanager
def stage_bars() -> Iterator[Callable[[str, int, int], None] | None]:
    """One progress bar per stage (embedding, comparing) on stderr when it is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress, TaskID

    with Progress(transient=True) as bars:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=total)
            bars.update(tasks[stage], completed=done, total=total)

        yield update


@app.command("consolidate")
def consolidate_command(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; change nothing.")
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="WHEN",
            help="Run as if it were WHEN (decay is computed for that moment).",
        ),
    ] = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """The nightly job: decay, merge duplicates, supersede stale facts, backfill vectors,
    erase forgotten data from the file. Safe to run while other memcli commands run.

    \b
    Examples:
      memcli consolidate --dry-run
      memcli consolidate --as-of 2026-01-01
      memcli --json consolidate
    """
    context, out = start(ctx, json_out, quiet)
    moment = when_moment(context, as_of)
    with stage_bars() as progress:
        report, plan, memories = consolidate(
            context, as_of=moment, dry_run=dry_run, progress=progress
        )
    for text in report.notices:
        context.notice(text)
    if out.json:
        out.data(report.as_dict())
        return
    if dry_run and not out.quiet:
        for line in plan_lines(plan, memories):
            out.line(line)
    out.info(summary(report))


def plan_lines(plan: Plan, memories: dict[int, Memory]) -> list[str]:
    """One line per planned change: what, which memory, why, and the start of its text."""

    def text_of(seq: int) -> str:
        memory = memories.get(seq)
        return output.one_line(memory.text, 60) if memory else ""

    lines = []
    for merge in plan.merges:
        lines.append(
            f"merge      {output.id_style(merge.merged.id)} into {merge.keeper.id}  "
            f"({merge.kind})  {text_of(merge.merged.seq)}"
        )
    for supersession in plan.supersessions:
        lines.append(
            f"supersede  {output.id_style(supersession.old.id)} by {supersession.new.id}  "
            f"{text_of(supersession.old.seq)}"
        )
    for fade in plan.fades:
        lines.append(
            f"archive    {output.id_style(fade.memory_id)}  (faded: retention {fade.retention:.3f})"
        )
    return lines


def summary(report: Report) -> str:
    """One line for people: what the run did (or, dry, would do)."""
    counts = [
        (len(report.merged), "merged", "merge"),
        (len(report.superseded), "superseded", "supersede"),
        (len(report.archived), "archived (faded)", "archive (faded)"),
        (report.backfilled or report.backfill_pending, "vectors backfilled", "embed"),
    ]
    if report.dry_run:
        parts = [f"{verb} {count}" for count, _, verb in counts if count] or ["no change"]
    else:
        parts = [f"{count} {done}" for count, done, _ in counts if count] or ["no change"]
    if report.erase or report.compact:
        why = "erase forgotten data" if report.erase else "compact"
        sizes = ""
        if report.bytes_before is not None and report.bytes_after is not None:
            sizes = f", {_mb(report.bytes_before)} -> {_mb(report.bytes_after)}"
        parts.append(f"{'rewrite' if report.dry_run else 'rewrote'} the file ({why}{sizes})")
    when = report.as_of[:16].replace("T", " ")
    head = "would, as of" if report.dry_run else "consolidated as of"
    compared = f"{report.compared} new or changed memor{'y' if report.compared == 1 else 'ies'}"
    return f"{head} {when} UTC ({compared} compared): {', '.join(parts)}; {report.seconds:.1f} s"


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


@app.command("history")
def history_command(
    ctx: typer.Context,
    memory_id: Annotated[str, typer.Argument(metavar="ID", autocompletion=complete.memory_ids)],
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """A memory's history: added, edited, reinforced, merged, superseded, archived,
    restored. `memcli restore ID` undoes a merge, a supersession or decay.

    \b
    Examples:
      memcli history 7f3k
    """
    context, out = start(ctx, json_out, quiet)
    found = history(context, memory_id)
    memory = found.memory
    if out.json:
        out.data(
            {
                "id": memory.id,
                "state": memory.state,
                "merged_into": found.merged_into,
                "superseded_by": found.superseded_by,
                "absorbed": found.absorbed,
                "events": [
                    {
                        "at": to_utc_iso(e.at),
                        "kind": e.kind,
                        "detail": e.detail,
                    }
                    for e in found.events
                ],
            }
        )
        return
    if out.quiet:
        return
    out.line(output.memory_row(memory, context.now()))
    if found.merged_into:
        out.line(f"merged into {found.merged_into} (memcli restore {memory.id} undoes it)")
    if found.superseded_by:
        out.line(f"superseded by {found.superseded_by} (memcli restore {memory.id} undoes it)")
    if found.absorbed:
        out.line(f"absorbed {', '.join(found.absorbed)}")
    for event in found.events:
        detail = f"  {printable(event.detail)}" if event.detail else ""
        out.line(f"{format_local(event.at)}  {event.kind}{detail}")


_CHANGES = ("merged", "superseded", "archived")


@app.command("runs")
def runs_command(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", "-k", help="How many runs, newest first.", min=1, max=1000)
    ] = 10,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """What the nightly job did, run by run: counts and the ids it merged, superseded and
    archived (memcli history ID tells more; memcli restore ID undoes it).

    \b
    Examples:
      memcli runs
      memcli --json runs -k 1
    """
    context, out = start(ctx, json_out, quiet)
    found = nightly_runs(context, limit)
    if out.json:
        out.data([_run_json(run) for run in found])
        return
    if out.quiet:
        for run in found:
            out.line(str(run.run_id))
        return
    if not found:
        out.info("consolidate has not run yet (memcli schedule install runs it nightly)")
    for run in found:
        report = run.report
        parts = [f"{len(report[key])} {key}" for key in _CHANGES if report.get(key)]
        if report.get("backfilled"):
            parts.append(f"{report['backfilled']} vectors backfilled")
        if run.erased:
            parts.append("rewrote the file")
        when = format_local(run.started_at)
        out.line(
            f"{when}  run {run.run_id}: {', '.join(parts) or 'no change'}; {run.seconds:.1f} s"
        )
        for key, link in (("merged", "into"), ("superseded", "by"), ("archived", None)):
            for item in report.get(key, []):
                target = f" {link} {item[link]}" if link and item.get(link) else ""
                out.line(f"    {key:<10} {item.get('id')}{target}")


def _run_json(run: Run) -> dict[str, object]:
    report = run.report
    return {
        "run_id": run.run_id,
        "at": to_utc_iso(run.started_at),
        "as_of": to_utc_iso(run.as_of),
        "seconds": run.seconds,
        "merged": report.get("merged", []),
        "superseded": report.get("superseded", []),
        "archived": report.get("archived", []),
        "backfilled": report.get("backfilled", 0),
        "rewrote_file": run.erased,
    }
