"""Read-only looks for the terminal browser: a memory's detail without reinforcing it.

The TUI previews whichever memory the cursor is on; only opening one (Enter, pick, copy)
goes through `reading.show`, which counts as a reinforcement.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter

from memcli.service.context import Context
from memcli.service.lookup import resolve
from memcli.service.reading import Shown
from memcli.store import events as event_log
from memcli.store import memories as rows
from memcli.store.connection import NoStore


class Words:
    """The words of the stored memories, to finish the word being typed: "how do i take my
    cof" searches for "coffee" (the most frequent stored word that starts with "cof") until
    a space ends the word. The keyword index keeps only hashes of stemmed terms, so the
    words are read from the texts once, when the browser starts."""

    def __init__(self, counts: dict[str, int]) -> None:
        self._sorted = sorted(counts)
        self._counts = counts

    def finish(self, query: str) -> str:
        """`query` with its last word completed, when it is unfinished and no stored word."""
        match = _LAST_WORD.search(query)
        if match is None or query.endswith((" ", "\t")):
            return query
        typed = match.group().lower()
        if len(typed) < 2 or typed in self._counts:
            return query
        start = bisect.bisect_left(self._sorted, typed)
        end = bisect.bisect_left(self._sorted, typed + "\uffff")
        if start == end:
            return query
        best = max(self._sorted[start:end], key=lambda word: self._counts[word])
        return query[: match.start()] + best


_WORD = re.compile(r"[^\W_]+")
_LAST_WORD = re.compile(r"[^\W_]+$")


def stored_words(ctx: Context) -> Words:
    counts: Counter[str] = Counter()
    try:
        with ctx.store(write=False) as store:
            for text in rows.all_texts(store.con):
                counts.update(_WORD.findall(text.lower()))
    except NoStore:
        pass
    return Words(dict(counts))


def peek(ctx: Context, ref: str) -> Shown:
    """One memory with its history, read-only (no reinforcement, no write lock)."""
    with ctx.store(write=False) as store:
        memory = resolve(store.con, ref)
        return Shown(memory, event_log.events(store.con, memory.id))
