"""One Output object per command: rich-ish text for people, one JSON document for --json,
ids only for -q. stdout carries data only; notices and errors go to stderr."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from memcli.records import Memory
from memcli.textutil import printable, tag_line
from memcli.timeparse import humanize_age


def use_colour(stream: Any) -> bool:
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


@dataclass
class Output:
    json: bool = False
    quiet: bool = False

    def data(self, document: Any) -> None:
        """The --json document: exactly one per command."""
        sys.stdout.write(json_text(document) + "\n")

    def line(self, text: str = "") -> None:
        sys.stdout.write(text + "\n")

    def info(self, text: str) -> None:
        """A message for people (stderr), silenced by -q."""
        if not self.quiet:
            sys.stderr.write(f"{printable(text, keep_lines=True)}\n")

    def ids(self, memories: list[Memory]) -> None:
        for memory in memories:
            self.line(memory.id)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def json_text(document: Any) -> str:
    """`document` as JSON, non-ASCII text kept as it is. A lone surrogate (an import line's
    field name or value such as "\\ud800", echoed back in a report) has no UTF-8 encoding,
    so it is written as JSON's own escape instead: it can only stand inside a string."""
    text = json.dumps(document, ensure_ascii=False, indent=2)
    return _LONE_SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def notice(text: str) -> None:
    sys.stderr.write(_style(f"memcli: {printable(text, keep_lines=True)}", "33") + "\n")


def error(message: str, hint: str | None) -> None:
    """Messages may quote what the user gave (a file's field, a path): made safe to show."""
    sys.stderr.write(_style(f"memcli: error: {printable(message, keep_lines=True)}", "31") + "\n")
    if hint:
        sys.stderr.write(f"hint: {printable(hint, keep_lines=True)}\n")


def _style(text: str, code: str) -> str:
    return f"\033[{code}m{text}\033[0m" if use_colour(sys.stderr) else text


def id_style(memory_id: str) -> str:
    return f"\033[1;36m{memory_id}\033[0m" if use_colour(sys.stdout) else memory_id


def dim(text: str) -> str:
    return f"\033[2m{text}\033[0m" if use_colour(sys.stdout) else text


def exact_or_safe(text: str) -> str:
    """Text printed alone for a script (show -q, tui --pick): exact when stdout is a pipe or
    a file, made safe (see textutil.printable) when it is a terminal."""
    return text if not sys.stdout.isatty() else printable(text, keep_lines=True)


def one_line(text: str, width: int) -> str:
    first = printable(" ".join(text.split()))
    return first if len(first) <= width else first[: max(width - 1, 1)] + "…"


def text_width(reserved: int) -> int:
    columns = shutil.get_terminal_size((100, 24)).columns if sys.stdout.isatty() else 100
    return max(columns - reserved, 20)


def memory_row(
    memory: Memory, now: datetime, lead: str = "", trail: str = "", plain: bool = False
) -> str:
    """`id  [lead]  text…  #tags  age` on one line (`plain`: without colours, for a row the
    caller styles as a whole)."""
    tags = tag_line(memory.tags)
    age = humanize_age(memory.created_at, now)
    marks = "📌 " if memory.pinned else ""
    if memory.state != "active":
        marks += f"[{memory.state}] "
    elif memory.needs_review:
        marks += "[unreviewed] "
    meta = "  ".join(p for p in (tags, age, trail) if p)
    width = text_width(len(memory.id) + len(lead) + len(meta) + len(marks) + 8)
    shown_id, shown_meta = (memory.id, meta) if plain else (id_style(memory.id), dim(meta))
    parts = [shown_id, lead, marks + one_line(memory.text, width), shown_meta]
    return "  ".join(p for p in parts if p)


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr when it is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True, console=None) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
