"""jrnl's JSON export, a mem0 export and the reference MCP memory server's memory.jsonl."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from memcli.importers import Converted, stable_id, tag_of, tags_of
from memcli.timeparse import to_utc_iso


def read_jrnl(data: Any) -> Converted:
    """`jrnl --export json`: entries with title, body, date, time, tags (@work) and starred."""
    converted = Converted()
    for number, entry in enumerate(data.get("entries", []), start=1):
        if not isinstance(entry, dict) or not str(entry.get("title", "")).strip():
            converted.skipped.append((f"entry {number}", "no title"))
            continue
        title, body = str(entry["title"]).strip(), str(entry.get("body") or "").strip()
        when = f"{entry.get('date', '')} {entry.get('time', '')}".strip()
        record: dict[str, Any] = {
            "id": stable_id("jrnl", when, title),
            "text": f"{title}\n\n{body}" if body else title,
            "tags": tags_of(list(entry.get("tags") or [])),
            "pinned": bool(entry.get("starred")),
            "origin": "jrnl",
        }
        created = _time(when)
        if created is not None:
            record["created_at"] = created
        converted.records.append(record)
    return converted


def read_mem0(data: Any) -> Converted:
    """mem0's memories: a list, or {"results": [...]} / {"memories": [...]}, each with `memory`
    (the text), `id`, `created_at`, `categories` and `metadata`."""
    converted = Converted()
    items = data.get("results", data.get("memories", [])) if isinstance(data, dict) else data
    for number, item in enumerate(items if isinstance(items, list) else [], start=1):
        text = item.get("memory") if isinstance(item, dict) else None
        if not isinstance(text, str) or not text.strip():
            converted.skipped.append((f"memory {number}", "no `memory` text"))
            continue
        source_id = str(item.get("id") or text)
        record: dict[str, Any] = {
            "id": stable_id("mem0", source_id),
            "text": text.strip(),
            "tags": tags_of(list(item.get("categories") or [])),
            "origin": "mem0",
        }
        created = _time(str(item.get("created_at") or ""))
        if created is not None:
            record["created_at"] = created
        converted.records.append(record)
    return converted


def read_mcp_memory(lines: list[Any]) -> Converted:
    """The reference server's knowledge graph: each observation of an entity a memory tagged
    with the entity (and its type), each relation a memory tagged with both ends."""
    converted = Converted()
    for number, line in enumerate(lines, start=1):
        if not isinstance(line, dict):
            converted.skipped.append((f"line {number}", "not a JSON object"))
            continue
        if line.get("type") == "entity":
            name = str(line.get("name", "")).strip()
            tags = tags_of([name, str(line.get("entityType", ""))])
            for observation in line.get("observations") or []:
                text = f"{name}: {str(observation).strip()}"
                converted.records.append(_graph(text, tags, name, str(observation)))
        elif line.get("type") == "relation":
            ends = [str(line.get("from", "")).strip(), str(line.get("to", "")).strip()]
            relation = str(line.get("relationType", "")).replace("_", " ").strip()
            if not all(ends) or not relation:
                converted.skipped.append((f"line {number}", "a relation without both ends"))
                continue
            text = f"{ends[0]} {relation} {ends[1]}"
            converted.records.append(_graph(text, tags_of(ends), *ends, relation))
        else:
            converted.skipped.append((f"line {number}", "neither an entity nor a relation"))
    return converted


def _graph(text: str, tags: list[str], *where: str) -> dict[str, Any]:
    return {
        "id": stable_id("mcpm", *where),
        "text": text,
        "tags": [t for t in tags if tag_of(t)],
        "origin": "mcp-memory",
    }


def _time(text: str) -> str | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return to_utc_iso(moment if moment.tzinfo else moment.astimezone())  # naive: local time
