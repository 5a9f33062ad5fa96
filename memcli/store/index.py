"""SQL for the keyword index (postings) and the vectors."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import numpy as np

from memcli.search.quant import quantize
from memcli.store import meta as store_meta
from memcli.store.memories import Filters


def insert_postings(
    con: duckdb.DuckDBPyConnection, seq: int, terms: Sequence[int], tfs: Sequence[int]
) -> None:
    if terms:
        con.execute(
            "INSERT INTO postings SELECT unnest(?::BIGINT[]), ?, unnest(?::INTEGER[])",
            [list(terms), seq, list(tfs)],
        )
        store_meta.bump_memories_version(con)


def insert_postings_bulk(
    con: duckdb.DuckDBPyConnection, seqs: np.ndarray, terms: np.ndarray, tfs: np.ndarray
) -> None:
    """Many postings at once; numpy columns are scanned by DuckDB without Python loops."""
    incoming = {
        "term": terms.astype(np.int64),
        "seq": seqs.astype(np.int32),
        "tf": tfs.astype(np.int32),
    }
    con.register("incoming_postings", incoming)
    try:
        con.execute("INSERT INTO postings SELECT term, seq, tf FROM incoming_postings")
    finally:
        con.unregister("incoming_postings")
    store_meta.bump_memories_version(con)


def delete_postings(con: duckdb.DuckDBPyConnection, seqs: Sequence[int]) -> None:
    con.execute("DELETE FROM postings WHERE seq IN (SELECT unnest(?::INTEGER[]))", [list(seqs)])
    store_meta.bump_memories_version(con)


def postings_counts(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(postings, distinct terms) of the keyword index."""
    row = con.execute("SELECT count(*), count(DISTINCT term) FROM postings").fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def postings_match_memories(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the keyword index agrees with the memories: as many term occurrences in the
    postings as the memories' lengths add up to, and no posting of a memory that is gone."""
    row = con.execute(
        "SELECT (SELECT coalesce(sum(doc_len), 0) FROM memories), "
        "(SELECT coalesce(sum(tf), 0) FROM postings), "
        "(SELECT count(*) FROM postings WHERE seq NOT IN (SELECT seq FROM memories))"
    ).fetchone()
    assert row is not None
    return bool(row[0] == row[1] and row[2] == 0)


def corpus_stats(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(number of documents, sum of their lengths) over every stored memory."""
    row = con.execute("SELECT count(*), coalesce(sum(doc_len), 0) FROM memories").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def all_doc_freqs(con: duckdb.DuckDBPyConnection) -> np.ndarray:
    """Document frequency of every indexed term (needed only for BM25's idf floor)."""
    result = con.execute("SELECT count(*) AS n FROM postings GROUP BY term").fetchnumpy()
    return np.asarray(result["n"], dtype=np.float64)


@dataclass(frozen=True)
class Corpus:
    """Every stored memory, by seq: its length in terms and whether it passes the filters
    of a search (BM25's statistics count every memory; a search returns those passing)."""

    seqs: np.ndarray  # int64, ascending
    doc_lens: np.ndarray  # float64
    passes: np.ndarray  # bool

    def positions(self, seqs: np.ndarray) -> np.ndarray:
        """Where each of `seqs` (all stored) sits in this corpus."""
        found: np.ndarray = np.searchsorted(self.seqs, seqs)
        return found


def corpus(con: duckdb.DuckDBPyConnection, filters: Filters) -> Corpus:
    where, params = filters.sql()
    result = con.execute(
        f"SELECT seq, doc_len, coalesce(({where}), false) AS passes FROM memories m", params
    ).fetchnumpy()
    seqs = np.asarray(result["seq"], dtype=np.int64)
    order = np.argsort(seqs, kind="stable")
    return Corpus(
        seqs[order],
        np.asarray(result["doc_len"], dtype=np.float64)[order],
        np.asarray(result["passes"], dtype=bool)[order],
    )


def query_postings(
    con: duckdb.DuckDBPyConnection, terms: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(term, seq, term frequency) of every posting of `terms`, in one scan."""
    result = con.execute(
        "SELECT term, seq, tf FROM postings WHERE term IN (SELECT unnest(?::BIGINT[]))",
        [list(terms)],
    ).fetchnumpy()
    return (
        np.asarray(result["term"], dtype=np.int64),
        np.asarray(result["seq"], dtype=np.int64),
        np.asarray(result["tf"], dtype=np.float64),
    )


def lifecycle_facts(
    con: duckdb.DuckDBPyConnection, seqs: Sequence[int]
) -> dict[int, tuple[int, int, bool, datetime, datetime]]:
    """{seq: (importance, reinforcements, pinned, last touched, created_at)}: what recall
    needs of its candidates before it knows which ones it shows (times aware UTC)."""
    if not seqs:
        return {}
    found = con.execute(
        "SELECT seq, importance, reinforcements, pinned, coalesce(reinforced_at, added_at), "
        "created_at FROM memories WHERE seq IN (SELECT unnest(?::INTEGER[]))",
        [list(seqs)],
    ).fetchall()
    return {
        int(seq): (int(importance), int(count), bool(pinned), _utc(touched), _utc(created))
        for seq, importance, count, pinned, touched, created in found
    }


def recall_columns(con: duckdb.DuckDBPyConnection) -> dict[str, np.ndarray]:
    """The columns of every memory that recall reads (seq, doc_len, importance,
    reinforcements, pinned, touched, created_at), by seq: the in-process keyword copy."""
    found: dict[str, np.ndarray] = con.execute(
        "SELECT seq, doc_len, importance, reinforcements, pinned, "
        "coalesce(reinforced_at, added_at) AS touched, created_at FROM memories ORDER BY seq"
    ).fetchnumpy()
    return found


def all_postings(con: duckdb.DuckDBPyConnection) -> dict[str, np.ndarray]:
    """Every posting (term, seq, tf), in no particular order."""
    found: dict[str, np.ndarray] = con.execute("SELECT term, seq, tf FROM postings").fetchnumpy()
    return found


def _utc(value: datetime) -> datetime:
    """A naive UTC timestamp from DuckDB as an aware datetime."""
    return value.replace(tzinfo=UTC)


def blobs(matrix: np.ndarray) -> np.ndarray:
    """One bytes object per row, as an object array DuckDB reads as a BLOB column."""
    out = np.empty(len(matrix), dtype=object)
    for position, row in enumerate(matrix):
        out[position] = row.tobytes()
    return out


def insert_vectors(
    con: duckdb.DuckDBPyConnection,
    seqs: Sequence[int],
    chunks: Sequence[int],
    model: str,
    vectors: np.ndarray,
) -> None:
    """Store float32 vectors (one row per chunk) with their int8 copies."""
    if not len(seqs):
        return
    vectors = np.asarray(vectors, dtype=np.float32)
    q, scales = quantize(vectors)
    incoming = {
        "seq": np.asarray(seqs, dtype=np.int32),
        "chunk": np.asarray(chunks, dtype=np.int16),
        "vec": blobs(vectors),
        "q": blobs(q),
        "q_scale": scales,
    }
    con.register("incoming_vectors", incoming)
    try:
        con.execute(
            "INSERT INTO vectors (seq, chunk, model, vec, q, q_scale) "
            "SELECT seq, chunk, ?, vec, q, q_scale FROM incoming_vectors",
            [model],
        )
    finally:
        con.unregister("incoming_vectors")
    store_meta.bump_vectors_version(con)


def delete_vectors(con: duckdb.DuckDBPyConnection, seqs: Sequence[int]) -> None:
    con.execute("DELETE FROM vectors WHERE seq IN (SELECT unnest(?::INTEGER[]))", [list(seqs)])
    store_meta.bump_vectors_version(con)


def database_path(con: duckdb.DuckDBPyConnection) -> str | None:
    """The file behind the connection (None for an in-memory database)."""
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


@dataclass(frozen=True)
class Extent:
    """Where the vectors of one model lie: seqs low..high, `rows` of them; `alone` when
    every row of the table is that model's (no other model's rows to filter out)."""

    low: int
    high: int
    rows: int
    alone: bool


def vector_extent(con: duckdb.DuckDBPyConnection, model: str) -> Extent:
    """The extent of the vectors of `model` (zeros when none)."""
    row = con.execute(
        "SELECT coalesce(min(seq) FILTER (WHERE model = ?), 0), "
        "coalesce(max(seq) FILTER (WHERE model = ?), 0), "
        "count(*) FILTER (WHERE model = ?), count(*) FROM vectors",
        [model, model, model],
    ).fetchone()
    assert row is not None
    return Extent(int(row[0]), int(row[1]), int(row[2]), alone=int(row[2]) == int(row[3]))


def quantised_vectors(
    con: duckdb.DuckDBPyConnection, model: str, dim: int, low: int, high: int, alone: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(seqs, int8 matrix, scales) of the vectors of `model` with low <= seq < high.

    Reads only the int8 column (a quarter of the float32 bytes): recall's first pass. When
    the table holds `alone` this model's rows (vector_extent), the rows are read without
    comparing each one's model and length (a third of a cold read at 100,000 vectors), and
    each one's length is checked here instead."""
    if alone:
        result = con.execute(
            "SELECT seq, q, q_scale FROM vectors WHERE seq >= ? AND seq < ? AND q IS NOT NULL",
            [low, high],
        ).fetchnumpy()
        if set(map(len, result["q"])) <= {dim}:  # no empty or foreign-length blob
            seqs = np.asarray(result["seq"], dtype=np.int64)
            q = np.frombuffer(b"".join(result["q"]), dtype=np.int8).reshape(len(seqs), dim)
            return seqs, q, np.asarray(result["q_scale"], dtype=np.float32)
    result = con.execute(
        "SELECT seq, q, q_scale FROM vectors "
        "WHERE model = ? AND seq >= ? AND seq < ? AND octet_length(q) = ?",
        [model, low, high, dim],
    ).fetchnumpy()
    seqs = np.asarray(result["seq"], dtype=np.int64)
    q = np.frombuffer(b"".join(result["q"]), dtype=np.int8).reshape(len(seqs), dim)
    return seqs, q, np.asarray(result["q_scale"], dtype=np.float32)


def exact_vectors(
    con: duckdb.DuckDBPyConnection, model: str, dim: int
) -> tuple[np.ndarray, np.ndarray]:
    """(seq per row, float32 matrix) of every chunk with a vector of `model` and `dim`,
    ordered by seq and chunk."""
    result = con.execute(
        "SELECT seq, chunk, vec FROM vectors WHERE model = ? AND octet_length(vec) = ?",
        [model, dim * 4],
    ).fetchnumpy()
    found = np.asarray(result["seq"], dtype=np.int64)
    order = np.lexsort((np.asarray(result["chunk"]), found))
    matrix = np.frombuffer(b"".join(result["vec"][order]), dtype=np.float32)
    return found[order], matrix.reshape(len(found), dim)


@contextmanager
def bounded_buffers(
    con: duckdb.DuckDBPyConnection, working_bytes: int = 0, enabled: bool = True
) -> Iterator[None]:
    """Cap DuckDB's buffer pool while reading vectors (when `enabled`).

    DuckDB keeps every block it reads until its memory limit (by default most of the RAM):
    one pass over the vectors would grow the process by their whole size (150 MB of float32
    per 100,000), and page-faulting that memory in is much of the scan's time. Under a
    small limit it reuses a few buffers. The limit leaves room for `working_bytes` of
    results and about 10 MB for scans and joins; a query needing more fails with
    duckdb.OutOfMemoryException, which also aborts an open transaction: read outside of
    one, and retry with enabled=False. The limit is the database's: no other thread may
    query it meanwhile.
    """
    if not enabled:
        yield
        return
    row = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('threads')"
    ).fetchone()
    assert row is not None
    limit_mb = 16 + 2 * int(row[1]) + 3 * working_bytes // 2**20
    con.execute(f"SET memory_limit = '{limit_mb}MB'")
    try:
        yield
    finally:
        # The old value as DuckDB shows it (rounded, e.g. '18.8 GiB': it can shrink by a
        # few tenths the first times). Not RESET: DuckDB 1.5 resets the setting but keeps
        # the buffer pool at the small limit.
        con.execute(f"SET memory_limit = '{row[0]}'")


def vector_counts(con: duckdb.DuckDBPyConnection, model: str) -> dict[str, int]:
    """Memories with a vector of `model`, with one of another model only, and with none."""
    row = con.execute(
        """
        SELECT count(*) FILTER (WHERE has_this),
               count(*) FILTER (WHERE NOT has_this AND has_any),
               count(*) FILTER (WHERE NOT has_any)
        FROM (
            SELECT m.seq,
                   bool_or(v.model = ?) IS TRUE AS has_this,
                   bool_or(v.seq IS NOT NULL) AS has_any
            FROM memories m LEFT JOIN vectors v ON v.seq = m.seq
            GROUP BY m.seq
        )
        """,
        [model],
    ).fetchone()
    assert row is not None
    return dict(zip(("current", "other_model", "missing"), map(int, row), strict=True))


def seqs_without_vectors(con: duckdb.DuckDBPyConnection, model: str) -> list[int]:
    rows = con.execute(
        "SELECT seq FROM memories WHERE seq NOT IN (SELECT seq FROM vectors WHERE model = ?) "
        "ORDER BY seq",
        [model],
    ).fetchall()
    return [int(r[0]) for r in rows]


def texts(con: duckdb.DuckDBPyConnection, seqs: Sequence[int]) -> list[tuple[int, str]]:
    rows = con.execute(
        "SELECT seq, text FROM memories WHERE seq IN (SELECT unnest(?::INTEGER[])) ORDER BY seq",
        [list(seqs)],
    ).fetchall()
    return [(int(s), str(t)) for s, t in rows]
