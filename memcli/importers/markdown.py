"""Markdown notes, one file or a folder of them (Obsidian, nb, basic-memory): YAML front
matter (`tags`, `date` or `created`, `title`), #tags in the text, one memory per file or,
with --split headings, per heading's section.

Only the front matter keys memcli uses are read, by a small reader of their usual forms
(`tags: [a, b]`, `tags: a, b`, a `- a` list, `date: 2025-03-14`), so no YAML library is
needed. Hidden folders (.obsidian, .git, .trash) and files that are not Markdown
(attachments) are skipped and reported.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from memcli.importers import Converted, stable_id, tags_of
from memcli.timeparse import to_utc_iso

_SUFFIXES = (".md", ".markdown")
_FENCE = re.compile(r"^(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
# A #tag: after a space or at the start, not a heading, a number (#4521) or a URL fragment.
_BODY_TAG = re.compile(r"(?:(?<=\s)|^)#([^\W\d][\w/-]*)", re.UNICODE)


def read_markdown(path: Path, split_headings: bool) -> Converted:
    converted = Converted()
    root = path if path.is_dir() else path.parent
    files = sorted(path.rglob("*")) if path.is_dir() else [path]
    for file in files:
        relative = file.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue  # .obsidian, .git, .trash: a tool's own files
        if file.is_dir():
            continue
        if file.suffix.lower() not in _SUFFIXES:
            converted.skipped.append((str(relative), "not a Markdown file"))
            continue
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            converted.skipped.append((str(relative), "not UTF-8 text"))
            continue
        except OSError as exc:
            converted.skipped.append((str(relative), exc.strerror or "cannot be read"))
            continue
        records = _note(text, relative.as_posix(), file, split_headings)
        if not records:
            converted.skipped.append((str(relative), "empty"))
        converted.records.extend(records)
    return converted


def _note(text: str, relative: str, file: Path, split: bool) -> list[dict[str, object]]:
    meta, body = _front_matter(text)
    created = _date(meta) or datetime.fromtimestamp(file.stat().st_mtime, UTC)
    title = meta.get("title") if isinstance(meta.get("title"), str) else None
    tags = tags_of(_list(meta.get("tags")) + _list(meta.get("tag")))
    sections = _sections(body) if split else [("", body)]
    records: list[dict[str, object]] = []
    for index, (heading, content) in enumerate(sections):
        content = content.strip()
        if not content:
            continue
        if not split and title and not content.startswith("#"):
            content = f"# {title}\n\n{content}"
        records.append(
            {
                "id": stable_id("md", relative, *((heading, str(index)) if split else ())),
                "text": content,
                "tags": tags_of([*tags, *_body_tags(content)]),
                "created_at": to_utc_iso(created),
                "origin": f"markdown:{relative}" + (f"#{heading}" if split and heading else ""),
            }
        )
    return records


def _front_matter(text: str) -> tuple[dict[str, object], str]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            return _yaml_keys(lines[1:end]), "\n".join(lines[end + 1 :])
    return {}, text


def _yaml_keys(lines: list[str]) -> dict[str, object]:
    """`key: value`, `key: [a, b]` and `key:` followed by `- item` lines."""
    found: dict[str, object] = {}
    key: str | None = None
    for line in lines:
        item = re.match(r"^\s*-\s+(.*)$", line)
        if item and key is not None:
            current = found.setdefault(key, [])
            if isinstance(current, list):
                current.append(_scalar(item[1]))
            continue
        pair = re.match(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$", line)
        if not pair:
            continue
        key, value = pair[1].lower(), pair[2].strip()
        if value.startswith("[") and value.endswith("]"):
            found[key] = [_scalar(v) for v in value[1:-1].split(",") if v.strip()]
        elif value:
            found[key] = _scalar(value)
    return found


def _scalar(value: str) -> str:
    return value.strip().strip("'\"")


def _list(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [v for v in re.split(r"[,\s]+", value) if v]
    return []


def _date(meta: dict[str, object]) -> datetime | None:
    for key in ("date", "created", "created_at"):
        value = meta.get(key)
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _sections(body: str) -> list[tuple[str, str]]:
    """(heading, the heading line and what follows it up to the next heading)."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    fenced = False
    for line in body.splitlines():
        if _FENCE.match(line.strip()):
            fenced = not fenced
        heading = None if fenced else _HEADING.match(line)
        if heading:
            sections.append((heading[2], []))
        sections[-1][1].append(line)
    return [(heading, "\n".join(lines)) for heading, lines in sections]


def _body_tags(text: str) -> list[str]:
    tags: list[str] = []
    fenced = False
    for line in text.splitlines():
        if _FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if fenced or _HEADING.match(line):
            continue
        tags.extend(_BODY_TAG.findall(re.sub(r"`[^`]*`", "", line)))
    return tags
