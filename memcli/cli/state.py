"""Per-invocation state shared by the root callback and the commands."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from memcli.cli.output import Output
    from memcli.service.context import Context


@dataclass
class GlobalOptions:
    db: Path | None = None
    json: bool = False
    quiet: bool = False
    context: Context | None = None


def start(ctx: Any, json_out: bool = False, quiet: bool = False) -> tuple[Context, Output]:
    """The service context and output for a command (per-command --json/-q add to global)."""
    from memcli.cli.output import Output
    from memcli.config import load_settings
    from memcli.service.context import Context

    options = ctx.find_object(GlobalOptions) or GlobalOptions()
    context = Context(load_settings(options.db))
    options.context = context
    root = ctx.find_root()
    if isinstance(root.obj, GlobalOptions):
        root.obj.context = context
    return context, Output(json=options.json or json_out, quiet=options.quiet or quiet)
