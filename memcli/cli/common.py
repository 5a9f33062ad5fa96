"""Small helpers shared by the command modules."""

from __future__ import annotations

import sys
from datetime import datetime

from memcli.records import Hit, Memory
from memcli.service.context import Context
from memcli.service.transfer import memory_json
from memcli.store.memories import Filters
from memcli.textutil import clean_tags, decode_stdin
from memcli.timeparse import check_in_range, parse_when


def when_start(ctx: Context, text: str | None) -> datetime | None:
    return None if text is None else parse_when(text, ctx.now()).start


def when_moment(ctx: Context, text: str | None) -> datetime | None:
    """A WHEN that is stored (--at) or that decay is computed for (--as-of): bounded years."""
    moment = when_start(ctx, text)
    return None if moment is None else check_in_range(moment, repr(text))


def when_end(ctx: Context, text: str | None) -> datetime | None:
    return None if text is None else parse_when(text, ctx.now()).end


def filters_from(
    ctx: Context,
    tags: list[str] | None,
    since: str | None,
    until: str | None,
    states: tuple[str, ...] = ("active",),
    sources: tuple[str, ...] = (),
    any_tags: list[str] | None = None,
) -> Filters:
    return Filters(
        tags=tuple(clean_tags(tags or [])),
        any_tags=tuple(clean_tags(any_tags or [])),
        since=when_start(ctx, since),
        until=when_end(ctx, until),
        states=states,
        sources=sources,
    )


def read_text_arg(ctx: Context, words: str | list[str]) -> str:
    """The TEXT argument (its words joined, so that `memcli add buy milk` works unquoted, as
    in jrnl), or stdin when it is '-'."""
    text = words if isinstance(words, str) else " ".join(words)
    if text != "-":
        return text
    return decode_stdin(sys.stdin.buffer.read(), ctx.settings.max_text_bytes)


def hit_json(hit: Hit, explain: bool) -> dict[str, object]:
    document = memory_json(hit.memory)
    document["score"] = hit.score
    # A newer hit seems to state the same thing with another value (memcli.search.conflicts).
    document["stale_candidate"] = hit.newer is not None
    if hit.newer is not None:
        document["newer"] = hit.newer
    if explain:
        p = hit.parts
        document["explain"] = {
            "bm25": p.bm25,
            "keyword": round(p.keyword, 6),
            "coverage": round(p.coverage, 6),
            "cosine": p.cosine,
            "semantic": round(p.semantic, 6),
            "fused": round(p.fused, 6),
            "context": round(p.context, 6),
            "retention": round(p.retention, 6),
            "prior": round(p.prior, 6),
        }
    return document


def memories_json(memories: list[Memory]) -> list[dict[str, object]]:
    return [memory_json(m) for m in memories]
