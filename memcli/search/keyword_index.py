"""What recall reads of a store besides the vectors: the corpus (every memory's seq and
length, and which ones pass a search's filters), the postings of the query's terms, and the
lifecycle facts of the candidates.

A one-shot command reads them from the store (memcli.store.index). A long-lived process
(the TUI) keeps them in memory from the second recall of an unchanged store on, as the
semantic channel keeps its vectors: the postings as arrays sorted by term, so that a query's
postings are a few searchsorted slices, and the columns of `memories` that recall reads. The
store is not held open meanwhile; before each use one read of memories.memories_version
(changed by every write to memories or postings, in the writer's transaction) tells
whether the copy still holds, whichever process wrote.

Both ways give the same arrays in the same order (postings grouped by term, ascending), so
recall's scores are the same to the last bit with or without the copy."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import numpy as np

from memcli.store import index
from memcli.store import meta as store_meta
from memcli.store.memories import Filters

FILTER_SETS = 8  # the filters whose passing memories a copy remembers (the TUI uses two)

Facts = dict[int, tuple[int, int, bool, datetime, datetime]]


class StoreIndex:
    """The index read from the store at every call."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def corpus(self, filters: Filters) -> index.Corpus:
        return index.corpus(self.con, filters)

    def postings(self, terms: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(term, seq, term frequency) of every posting of `terms`, grouped by term in
        ascending order."""
        found_terms, seqs, tfs = index.query_postings(self.con, terms)
        order = np.argsort(found_terms, kind="stable")
        return found_terms[order], seqs[order], tfs[order]

    def doc_freqs(self) -> np.ndarray:
        """Document frequency of every indexed term, ascending."""
        return np.sort(index.all_doc_freqs(self.con))

    def facts(self, seqs: Sequence[int]) -> Facts:
        return index.lifecycle_facts(self.con, seqs)


@dataclass
class Copy:
    """Recall's columns of one version of a store, in memory."""

    seqs: np.ndarray  # int64, ascending
    doc_lens: np.ndarray  # float64
    importance: np.ndarray
    reinforcements: np.ndarray
    pinned: np.ndarray  # bool
    touched: np.ndarray  # datetime64[us], naive UTC
    created: np.ndarray  # datetime64[us], naive UTC
    terms: np.ndarray  # int64, every indexed term once, ascending
    starts: np.ndarray  # the postings of terms[i] are rows starts[i]:starts[i + 1]
    posting_seqs: np.ndarray  # int32
    posting_tfs: np.ndarray  # int32
    passes: dict[Filters, np.ndarray] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class CachedIndex(StoreIndex):
    """The index from a copy in memory (only which memories pass new filters is read)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, copy: Copy) -> None:
        super().__init__(con)
        self.copy = copy

    def corpus(self, filters: Filters) -> index.Corpus:
        copy = self.copy
        with copy.lock:
            passes = copy.passes.get(filters)
        if passes is None:
            passes = index.corpus(self.con, filters).passes
            with copy.lock:
                if len(copy.passes) >= FILTER_SETS:
                    del copy.passes[next(iter(copy.passes))]
                copy.passes[filters] = passes
        return index.Corpus(copy.seqs, copy.doc_lens, passes)

    def postings(self, terms: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        copy = self.copy
        wanted = np.unique(np.asarray(terms, dtype=np.int64))
        at = np.searchsorted(copy.terms, wanted)
        known = at < len(copy.terms)
        known[known] = copy.terms[at[known]] == wanted[known]
        at = at[known]
        counts = copy.starts[at + 1] - copy.starts[at]
        rows_at = np.concatenate(
            [np.arange(copy.starts[i], copy.starts[i + 1]) for i in at.tolist()]
            or [np.zeros(0, dtype=np.int64)]
        )
        return (
            np.repeat(copy.terms[at], counts),
            copy.posting_seqs[rows_at].astype(np.int64),
            copy.posting_tfs[rows_at].astype(np.float64),
        )

    def doc_freqs(self) -> np.ndarray:
        return np.sort(np.diff(self.copy.starts).astype(np.float64))

    def facts(self, seqs: Sequence[int]) -> Facts:
        copy = self.copy
        wanted = np.asarray(seqs, dtype=np.int64)
        at = np.searchsorted(copy.seqs, wanted)
        inside = at < len(copy.seqs)
        at = at[inside]
        at = at[copy.seqs[at] == wanted[inside]]  # the stored ones among `seqs`
        return {
            int(seq): (int(importance), int(count), bool(pinned), _utc(touched), _utc(created))
            for seq, importance, count, pinned, touched, created in zip(
                copy.seqs[at].tolist(),
                copy.importance[at].tolist(),
                copy.reinforcements[at].tolist(),
                copy.pinned[at].tolist(),
                copy.touched[at].astype("datetime64[us]").tolist(),
                copy.created[at].astype("datetime64[us]").tolist(),
                strict=True,
            )
        }


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)


def load(con: duckdb.DuckDBPyConnection) -> Copy:
    """Recall's columns of every memory and every posting (0.2-0.4 s and 13 MB at 100,000
    memories and their 970,000 postings, on the busy 2-core host)."""
    found = index.recall_columns(con)
    postings = index.all_postings(con)
    terms = np.asarray(postings["term"], dtype=np.int64)
    order = np.argsort(terms, kind="stable")
    terms = terms[order]
    starts = np.zeros(1, dtype=np.int64)  # no postings at all: no terms
    if len(terms):
        bounds = np.flatnonzero(terms[1:] != terms[:-1]) + 1
        starts = np.concatenate([[0], bounds, [len(terms)]]).astype(np.int64)
    return Copy(
        seqs=np.asarray(found["seq"], dtype=np.int64),
        doc_lens=np.asarray(found["doc_len"], dtype=np.float64),
        importance=np.asarray(found["importance"]),
        reinforcements=np.asarray(found["reinforcements"]),
        pinned=np.asarray(found["pinned"], dtype=bool),
        touched=np.asarray(found["touched"]),
        created=np.asarray(found["created_at"]),
        terms=terms[starts[:-1]],
        starts=starts,
        posting_seqs=np.asarray(postings["seq"], dtype=np.int32)[order],
        posting_tfs=np.asarray(postings["tf"], dtype=np.int32)[order],
    )


class IndexCache:
    """The copy of the store searched last, valid while its memories_version holds.

    Keyed on the version alone (random tokens: two stores share one only as byte-for-byte
    copies, whose indexes are the same). Made at a recall that finds the store as the
    previous recall did: a one-shot command never loads the whole index, and a process
    that writes between its recalls keeps reading from the store rather than reloading at
    each one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: str | None = None  # of the copy
        self._copy: Copy | None = None
        self._seen: str | None = None  # the version found by the last recall

    def reader(self, con: duckdb.DuckDBPyConnection) -> StoreIndex:
        """The index of the store behind `con`, from the copy when it holds."""
        version = store_meta.memories_version(con)
        with self._lock:
            if self._copy is not None and self._version == version:
                return CachedIndex(con, self._copy)
            previous, self._seen = self._seen, version
            if previous != version:
                return StoreIndex(con)
        copy = load(con)
        if store_meta.memories_version(con) != version:  # written meanwhile (same process)
            return StoreIndex(con)
        with self._lock:
            self._version, self._copy = version, copy
        return CachedIndex(con, copy)

    def clear(self) -> None:
        with self._lock:
            self._version = self._copy = self._seen = None


CACHE = IndexCache()
