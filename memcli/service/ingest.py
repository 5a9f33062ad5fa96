"""Turning text into everything the store keeps about it (row, postings, vectors)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import duckdb
import numpy as np

from memcli import ids
from memcli.embed import Embedder, chunk_text
from memcli.records import Memory
from memcli.search.bm25 import term_counts
from memcli.search.tokenizer import tokenize
from memcli.store import index
from memcli.store import memories as rows
from memcli.store import meta as store_meta
from memcli.textutil import text_hash

# Set when a memory is stored without a vector (the model could not be loaded), cleared
# when none is missing any more: a cheap test for "anything to backfill?" at every add.
VECTORS_MISSING = "vectors_missing"


@dataclass(frozen=True)
class Prepared:
    """A text with its duplicate hash, BM25 postings and embedding chunks."""

    text: str
    hash: str
    terms: dict[int, int]
    doc_len: int
    chunks: list[str]


def prepare(text: str) -> Prepared:
    tokens = tokenize(text)
    return Prepared(text, text_hash(text), term_counts(tokens), len(tokens), chunk_text(text))


def embed_prepared(embedder: Embedder | None, items: list[Prepared]) -> list[np.ndarray | None]:
    """Chunk vectors per item (None for every item when there is no model)."""
    if embedder is None or not items:
        return [None] * len(items)
    flat = [chunk for item in items for chunk in item.chunks]
    vectors = embedder.embed_documents(flat)
    out: list[np.ndarray | None] = []
    start = 0
    for item in items:
        out.append(vectors[start : start + len(item.chunks)])
        start += len(item.chunks)
    return out


def unused_id(con: duckdb.DuckDBPyConnection) -> str:
    return unused_ids(con, 1)[0]


def unused_ids(
    con: duckdb.DuckDBPyConnection, count: int, also_taken: Collection[str] = ()
) -> list[str]:
    """`count` new random ids, distinct from each other, from every stored id and from
    `also_taken` (ids about to be inserted in the same transaction, such as an import's).

    The store does not enforce unique ids (migration m004 dropped the index, whose upkeep
    made every write slow), so every id a new memory gets comes from here or is checked
    like an import's; the caller must hold the write lock (its transaction) meanwhile."""
    chosen: set[str] = set()
    taken = set(also_taken)
    while len(chosen) < count:
        batch = {ids.new_id() for _ in range(count - len(chosen))} - chosen - taken
        chosen |= batch - rows.ids_present(con, list(batch))
    return list(chosen)


def write_index(
    con: duckdb.DuckDBPyConnection,
    seq: int,
    prepared: Prepared,
    vectors: np.ndarray | None,
    model: str | None,
) -> None:
    """(Re)write the postings and, when given, the vectors of one memory."""
    index.delete_postings(con, [seq])
    index.insert_postings(con, seq, list(prepared.terms), list(prepared.terms.values()))
    index.delete_vectors(con, [seq])
    if vectors is not None and model is not None:
        index.insert_vectors(con, [seq] * len(vectors), range(len(vectors)), model, vectors)


def insert_memories(
    con: duckdb.DuckDBPyConnection,
    memories: list[Memory],
    prepared: list[Prepared],
    vectors: list[np.ndarray | None],
    model: str | None,
) -> None:
    """Insert many new memories with their postings and vectors (sets each memory's seq)."""
    seqs = rows.insert_many(
        con, memories, [p.hash for p in prepared], [p.doc_len for p in prepared]
    )
    term_seqs: list[int] = []
    terms: list[int] = []
    tfs: list[int] = []
    vector_seqs: list[int] = []
    chunks: list[int] = []
    for memory, item, item_vectors in zip(memories, prepared, vectors, strict=True):
        memory.seq = seqs[memory.id]
        term_seqs.extend([memory.seq] * len(item.terms))
        terms.extend(item.terms)
        tfs.extend(item.terms.values())
        if item_vectors is not None:
            vector_seqs.extend([memory.seq] * len(item_vectors))
            chunks.extend(range(len(item_vectors)))
    index.insert_postings_bulk(
        con, np.array(term_seqs, np.int32), np.array(terms, np.int64), np.array(tfs, np.int32)
    )
    with_vectors = [v for v in vectors if v is not None]
    if with_vectors and model is not None:
        index.insert_vectors(con, vector_seqs, chunks, model, np.concatenate(with_vectors))
    if len(with_vectors) < len(vectors) or model is None:
        store_meta.set_meta(con, VECTORS_MISSING, "1")


def insert_memory(
    con: duckdb.DuckDBPyConnection,
    memory: Memory,
    prepared: Prepared,
    vectors: np.ndarray | None,
    model: str | None,
) -> int:
    seq = rows.insert(con, memory, prepared.hash, prepared.doc_len)
    index.insert_postings(con, seq, list(prepared.terms), list(prepared.terms.values()))
    if vectors is not None and model is not None:
        index.insert_vectors(con, [seq] * len(vectors), range(len(vectors)), model, vectors)
    else:
        store_meta.set_meta(con, VECTORS_MISSING, "1")
    return seq
