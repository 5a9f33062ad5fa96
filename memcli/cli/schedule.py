"""schedule install|show|remove: the nightly `memcli consolidate` in cron, systemd or launchd."""

from __future__ import annotations

from typing import Annotated

import typer

from memcli.cli import complete
from memcli.cli.options import JsonOpt, QuietOpt
from memcli.cli.output import Output
from memcli.cli.root import app
from memcli.cli.state import start
from memcli.service import schedule

schedule_app = typer.Typer(
    name="schedule",
    help="Run `memcli consolidate` every night: show, install or remove the cron line, "
    "systemd user timer or launchd agent.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(schedule_app)

KindOpt = Annotated[
    str | None,
    typer.Option(
        "--kind",
        help="cron, systemd or launchd (default: the first that works here: launchd on "
        "macOS, else cron, else a systemd user timer).",
        autocompletion=complete.choices(complete.KINDS),
    ),
]
TimeOpt = Annotated[str, typer.Option("--time", metavar="HH:MM", help="When to run, local time.")]


def _entry(
    ctx: typer.Context, kind: str | None, time: str, json_out: bool, quiet: bool
) -> tuple[schedule.Entry, Output]:
    context, out = start(ctx, json_out, quiet)
    hour, minute = schedule.parse_time(time)
    entry = schedule.entry_for(context.settings, kind or schedule.default_kind(), hour, minute)
    return entry, out


def _shown_kind(kind: str | None) -> str:
    """show's scheduler: the one asked for, the first that works, or cron to print."""
    if kind is not None:
        return kind
    try:
        return schedule.default_kind()
    except schedule.ScheduleError:
        return "cron"


def _document(
    entry: schedule.Entry, installed: bool, changed: bool | None = None
) -> dict[str, object]:
    document: dict[str, object] = {
        "kind": entry.kind,
        "time": f"{entry.hour:02d}:{entry.minute:02d}",
        "installed": installed,
        "cron_line": entry.cron_line,
        "files": {str(path): text for path, text in entry.files.items()},
    }
    if changed is not None:
        document["changed"] = changed
    return document


def _print_entry(out: Output, entry: schedule.Entry) -> None:
    if entry.cron_line is not None:
        out.line(entry.cron_line)
    for path, text in entry.files.items():
        out.line(f"# {path}")
        out.line(text.rstrip("\n"))


@schedule_app.command("show")
def show(
    ctx: typer.Context,
    kind: KindOpt = None,
    time: Annotated[
        str | None,
        typer.Option(
            "--time", metavar="HH:MM", help="For an entry not installed yet (default 03:17)."
        ),
    ] = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Print the installed entry as it is (its time included), or what `install` would
    put in place.

    \b
    Examples:
      memcli schedule show
    """
    wanted, out = _entry(ctx, _shown_kind(kind), time or "03:17", json_out, quiet)
    real = schedule.installed_entry(wanted)
    entry = real or wanted
    if out.json:
        out.data(_document(entry, real is not None))
        return
    _print_entry(out, entry)
    at = f"{entry.hour:02d}:{entry.minute:02d}"
    if real is not None:
        out.info(f"{entry.kind}: installed, memcli consolidate every night at {at}")
    else:
        why = schedule.unusable(entry.kind)
        usable = f" ({entry.kind} cannot be used here: {why})" if why else ""
        out.info(f"{entry.kind}: not installed; memcli schedule install puts this in place{usable}")


@schedule_app.command("install")
def install(
    ctx: typer.Context,
    kind: KindOpt = None,
    time: TimeOpt = "03:17",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Install (or update) memcli's nightly entry; running it again changes nothing.

    \b
    Examples:
      memcli schedule install
      memcli schedule install --time 04:30
    """
    entry, out = _entry(ctx, kind, time, json_out, quiet)
    outcome = schedule.install(entry)
    if out.json:
        out.data(_document(entry, outcome.installed, outcome.changed))
        return
    what = "installed" if outcome.changed else "already installed"
    out.info(f"{what}: memcli consolidate every night at {time} ({entry.kind})")


@schedule_app.command("remove")
def remove(
    ctx: typer.Context,
    kind: KindOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Remove memcli's nightly entry (and nothing else).

    \b
    Examples:
      memcli schedule remove
    """
    entry, out = _entry(ctx, _shown_kind(kind), "03:17", json_out, quiet)
    outcome = schedule.remove(entry)
    for note in outcome.notes:
        out.info(f"note: {note}")
    if out.json:
        out.data(_document(entry, outcome.installed, outcome.changed))
        return
    out.info(f"removed memcli's {entry.kind} entry" if outcome.changed else "nothing to remove")
