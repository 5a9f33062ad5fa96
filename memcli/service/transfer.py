"""Import and export in JSON Lines (SPEC §2), and Markdown export."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from memcli import ids
from memcli.errors import ImportFailed, MemcliError
from memcli.records import SOURCES, STATES, Memory
from memcli.service import writing
from memcli.service.context import Context
from memcli.service.ingest import Prepared, embed_prepared, insert_memories, prepare, unused_ids
from memcli.store import events as event_log
from memcli.store import memories as rows
from memcli.store.connection import NoStore
from memcli.store.memories import Filters
from memcli.textutil import check_text, clean_tags, printable, tag_line
from memcli.timeparse import check_in_range, format_local, parse_iso_utc, to_utc_iso

_FIELDS = {
    "id",
    "text",
    "tags",
    "created_at",
    "importance",
    "pinned",
    "state",
    "source",
    "superseded_by",
    "updated_at",
    "added_at",
    "reinforcements",
    "origin",
    "reviewed_at",
}


def memory_json(memory: Memory) -> dict[str, Any]:
    """The JSON Lines form of a memory (also the base of every --json output)."""
    return {
        "id": memory.id,
        "text": memory.text,
        "tags": memory.tags,
        "created_at": to_utc_iso(memory.created_at),
        "importance": memory.importance,
        "pinned": memory.pinned,
        "state": memory.state,
        "source": memory.source,
        "superseded_by": memory.superseded_by,
        "added_at": to_utc_iso(memory.added_at),
        "updated_at": to_utc_iso(memory.updated_at),
        "reinforcements": memory.reinforcements,
        "origin": memory.origin,
        "reviewed_at": None if memory.reviewed_at is None else to_utc_iso(memory.reviewed_at),
    }


def export_memories(ctx: Context, include_archived: bool) -> list[Memory]:
    states = STATES if include_archived else ("active",)
    try:
        with ctx.store(write=False) as store:
            return rows.select(store.con, Filters(states=states), "m.created_at, m.seq", None)
    except NoStore:
        return []


def jsonl_lines(memories: Iterable[Memory]) -> Iterator[str]:
    for memory in memories:
        yield json.dumps(memory_json(memory), ensure_ascii=False) + "\n"


def markdown_lines(memories: Iterable[Memory]) -> Iterator[str]:
    yield "# memcli export\n"
    for memory in memories:
        text = printable(memory.text, keep_lines=True)
        yield f"\n## {memory.id} · {format_local(memory.created_at)}\n\n{text}\n"
        details = [f"importance {memory.importance}"]
        if memory.tags:
            details.insert(0, tag_line(memory.tags))
        if memory.pinned:
            details.append("pinned")
        if memory.state != "active":
            details.append(memory.state)
        yield "\n_" + " · ".join(details) + "_\n"


@dataclass
class ImportReport:
    imported: int = 0
    skipped_existing: int = 0
    skipped_duplicate: int = 0
    bad_lines: list[tuple[int, str]] = field(default_factory=list)
    without_vector: int = 0


@dataclass(frozen=True)
class _Incoming:
    line: int
    memory: Memory
    prepared: Prepared
    id_given: bool


def parse_jsonl(
    lines: Iterable[bytes], ctx: Context, now: datetime
) -> tuple[list[_Incoming], list[tuple[int, str]]]:
    """Validate every line; returns the good records and (line number, reason) for the bad."""
    good: list[_Incoming] = []
    bad: list[tuple[int, str]] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            good.append(_parse_line(number, raw, ctx, now))
        except (MemcliError, ValueError) as exc:
            bad.append((number, exc.message if isinstance(exc, MemcliError) else str(exc)))
    return good, bad


def _parse_line(number: int, raw: bytes, ctx: Context, now: datetime) -> _Incoming:
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    unknown = set(data) - _FIELDS
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("'text' is missing or not a string")
    text = check_text(text, ctx.settings.max_text_bytes, "'text'")
    memory_id = data.get("id")
    if memory_id is not None and (not isinstance(memory_id, str) or not ids.is_valid_id(memory_id)):
        raise ValueError(f"'id' {memory_id!r} is not a valid id (4-64 of a-z, 0-9, - and _)")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError("'tags' must be a list of strings")
    created = _time_field(data, "created_at", now)
    importance = data.get("importance", 3)
    if not isinstance(importance, int) or isinstance(importance, bool) or not 1 <= importance <= 5:
        raise ValueError("'importance' must be an integer from 1 to 5")
    pinned = data.get("pinned", False)
    if not isinstance(pinned, bool):
        raise ValueError("'pinned' must be true or false")
    state = data.get("state", "active")
    if state not in STATES:
        raise ValueError(f"'state' must be one of {', '.join(STATES)}")
    source = data.get("source", "import")
    if source not in SOURCES:
        raise ValueError(f"'source' must be one of {', '.join(SOURCES)}")
    memory = Memory(
        id=memory_id or "",
        text=text,
        tags=clean_tags(tags),
        created_at=created,
        added_at=now,
        updated_at=now,
        importance=importance,
        pinned=pinned,
        state=state,
        source=source,
        superseded_by=_link(data),
        origin=_origin(data),
        reviewed_at=None
        if data.get("reviewed_at") is None
        else _time_field(data, "reviewed_at", now),
        reinforced_at=None,
        reinforcements=0,
    )
    return _Incoming(number, memory, prepare(text), memory_id is not None)


def _origin(data: dict[str, Any]) -> str | None:
    value = data.get("origin")
    if value is not None and (not isinstance(value, str) or len(value) > 200):
        raise ValueError("'origin' must be a string of at most 200 characters")
    return value


def _link(data: dict[str, Any]) -> str | None:
    value = data.get("superseded_by")
    if value is not None and (not isinstance(value, str) or not ids.is_valid_id(value)):
        raise ValueError(f"'superseded_by' {value!r} is not a valid id")
    return value


def _time_field(data: dict[str, Any], key: str, default: datetime) -> datetime:
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValueError(f"'{key}' must be an ISO time string")
    return check_in_range(parse_iso_utc(value), repr(value))


def import_memories(
    ctx: Context,
    lines: Iterable[bytes],
    *,
    skip_bad: bool,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import JSON Lines in one transaction; idempotent by id (and by text for id-less lines)."""
    now = ctx.now()
    incoming, bad = parse_jsonl(lines, ctx, now)
    report = ImportReport(bad_lines=bad)
    if bad and not skip_bad:
        first = "; ".join(f"line {n}: {why}" for n, why in bad[:3])
        more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
        raise ImportFailed(
            f"{len(bad)} bad line(s), nothing imported: {first}{more}",
            "fix those lines, or pass --skip-bad to import the good ones",
        )
    incoming = _drop_known(ctx, incoming, report)
    embedder = ctx.embedder()
    ctx.model_notice("imported without vectors (memcli reindex adds them)")
    vectors = _embed_in_batches(embedder, [i.prepared for i in incoming], progress)
    if not incoming:
        return report
    with ctx.store(write=True, create=True) as store, store.transaction() as con:
        # Checked again under the writer's lock: another import of the same file may have
        # committed since _drop_known looked (two imports at once give one copy).
        taken = rows.ids_present(con, [i.memory.id for i in incoming if i.memory.id])
        stored = rows.hashes_present(con, [i.prepared.hash for i in incoming if not i.id_given])
        kept: list[tuple[_Incoming, Any]] = []
        for item, item_vectors in zip(incoming, vectors, strict=True):
            if item.memory.id in taken:
                report.skipped_existing += 1
            elif not item.id_given and item.prepared.hash in stored:
                report.skipped_duplicate += 1
            else:
                kept.append((item, item_vectors))
        given = {item.memory.id for item, _ in kept if item.memory.id}
        new_ids = iter(unused_ids(con, sum(not item.memory.id for item, _ in kept), given))
        for item, _ in kept:
            item.memory.id = item.memory.id or next(new_ids)
        memories = [item.memory for item, _ in kept]
        insert_memories(
            con,
            memories,
            [item.prepared for item, _ in kept],
            [v for _, v in kept],
            embedder.name if embedder else None,
        )
        event_log.add_events(con, [m.id for m in memories], now, "created", "source=import")
        report.imported = len(kept)
        report.without_vector = sum(v is None for _, v in kept)
    return report


def update_changed(ctx: Context, records: list[dict[str, Any]]) -> list[str]:
    """For a source imported before (a note edited since): the ids whose stored text differs
    from the record's, edited to it (a history event, the index and vector renewed)."""
    wanted = {str(r["id"]): str(r["text"]).strip() for r in records if r.get("id")}
    try:
        with ctx.store(write=False) as store:
            stored = rows.select(
                store.con,
                Filters(ids=tuple(wanted), states=STATES),
                "m.seq",
                None,
            )
    except NoStore:
        return []
    changed = [m.id for m in stored if m.text != wanted[m.id]]
    for memory_id in changed:
        writing.edit(ctx, memory_id, text=wanted[memory_id])
    return changed


def _drop_known(ctx: Context, incoming: list[_Incoming], report: ImportReport) -> list[_Incoming]:
    """Skip ids already stored, and id-less lines whose text is already stored or repeated."""
    try:
        with ctx.store(write=False) as store:
            known_ids = rows.ids_present(store.con, [i.memory.id for i in incoming if i.id_given])
            known_hashes = rows.hashes_present(store.con, [i.prepared.hash for i in incoming])
    except NoStore:
        known_ids, known_hashes = set(), set()
    kept: list[_Incoming] = []
    seen_ids: set[str] = set()
    for item in incoming:
        if item.id_given and (item.memory.id in known_ids or item.memory.id in seen_ids):
            report.skipped_existing += 1
            continue
        if not item.id_given and item.prepared.hash in known_hashes:
            report.skipped_duplicate += 1
            continue
        seen_ids.add(item.memory.id)
        known_hashes.add(item.prepared.hash)
        kept.append(item)
    return kept


def _embed_in_batches(
    embedder: Any, items: list[Prepared], progress: Callable[[int, int], None] | None
) -> list[Any]:
    out: list[Any] = []
    batch = 256
    for start in range(0, len(items), batch):
        out.extend(embed_prepared(embedder, items[start : start + batch]))
        if progress is not None:
            progress(min(start + batch, len(items)), len(items))
    return out
