"""What people already have, as memcli's own JSON Lines records: Markdown notes (Obsidian,
nb, basic-memory: front matter, #tags), a jrnl JSON export, a mem0 export and the reference
MCP memory server's memory.jsonl.

Each reader returns records in the shape of `memcli export` (id, text, tags, created_at,
origin, ...), with an id derived from where the record came from, so that a second import
of the same source finds the same ids (memcli.service.transfer skips or updates them), and
the reasons for what it skipped. The import itself (validation, all or nothing, embedding)
is memcli.service.transfer's, the same as for JSON Lines.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memcli.errors import InvalidInput, UsageError

FORMATS = ("jsonl", "markdown", "jrnl", "mem0", "mcp-memory")


@dataclass
class Converted:
    """Records to import, and what was left out (where, why)."""

    records: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def stable_id(prefix: str, *parts: str) -> str:
    """The same id for the same source on every import: prefix-<hash of where it came from>."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return f"{prefix}-{digest[:16]}"


_TAG_CHARS = re.compile(r"[^\w/-]+")


def tag_of(raw: str) -> str | None:
    """A tag memcli accepts, from a word of another tool (@work, #Project X, people/Ann)."""
    tag = _TAG_CHARS.sub("-", raw.strip().lstrip("#@").lower()).strip("-")
    return tag[:64] or None


def tags_of(raws: list[Any]) -> list[str]:
    found: list[str] = []
    for raw in raws:
        tag = tag_of(str(raw))
        if tag is not None and tag not in found:
            found.append(tag)
    return found


def detect(path: Path) -> str:
    """The format of `path`, from what it is and how it starts."""
    if path.is_dir() or path.suffix.lower() in (".md", ".markdown"):
        return "markdown"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    lines = [line for line in text.splitlines() if line.strip()]
    first = _json(lines[0]) if lines else None
    if isinstance(first, dict) and first.get("type") in ("entity", "relation"):
        return "mcp-memory"
    if isinstance(first, dict) and "text" in first:
        return "jsonl"
    whole = _json(text)
    if isinstance(whole, dict) and isinstance(whole.get("entries"), list):
        return "jrnl"
    if isinstance(whole, list) or (
        isinstance(whole, dict) and ("results" in whole or "memories" in whole)
    ):
        return "mem0"
    raise UsageError(
        f"cannot tell the format of {path}", f"name it with --from ({', '.join(FORMATS)})"
    )


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def convert(path: Path, kind: str, split_headings: bool = False) -> Converted:
    """Read `path` (a file, or a folder of Markdown notes) as `kind`."""
    if kind == "markdown":
        from memcli.importers.markdown import read_markdown

        return read_markdown(path, split_headings)
    if split_headings:
        raise UsageError("--split headings is for Markdown notes")
    data = _load(path, kind)
    if kind == "jrnl":
        from memcli.importers.others import read_jrnl

        return read_jrnl(data)
    if kind == "mem0":
        from memcli.importers.others import read_mem0

        return read_mem0(data)
    from memcli.importers.others import read_mcp_memory

    return read_mcp_memory(data)


def _load(path: Path, kind: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text", "convert it to UTF-8 first") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    try:
        if kind == "mcp-memory":
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        return json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"{path} is not a {kind} export: not valid JSON ({exc})") from None
