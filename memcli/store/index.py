"""SQL for the keyword index (postings) and the vectors."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import duckdb
import numpy as np

from memcli.search.quant import quantize
from memcli.store import memories as rows
from memcli.store.memories import Filters


def insert_postings(
    con: duckdb.DuckDBPyConnection, seq: int, terms: Sequence[int], tfs: Sequence[int]
) -> None:
    if terms:
        con.execute(
            "INSERT INTO postings SELECT unnest(?::BIGINT[]), ?, unnest(?::INTEGER[])",
            [list(terms), seq, list(tfs)],
        )


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


def delete_postings(con: duckdb.DuckDBPyConnection, seqs: Sequence[int]) -> None:
    con.execute("DELETE FROM postings WHERE seq IN (SELECT unnest(?::INTEGER[]))", [list(seqs)])


def corpus_stats(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(number of documents, sum of their lengths) over every stored memory."""
    row = con.execute("SELECT count(*), coalesce(sum(doc_len), 0) FROM memories").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def doc_freqs(con: duckdb.DuckDBPyConnection, terms: Sequence[int]) -> dict[int, int]:
    rows = con.execute(
        "SELECT term, count(*) FROM postings WHERE term IN (SELECT unnest(?::BIGINT[])) "
        "GROUP BY term",
        [list(terms)],
    ).fetchall()
    return {int(t): int(n) for t, n in rows}


def all_doc_freqs(con: duckdb.DuckDBPyConnection) -> np.ndarray:
    """Document frequency of every indexed term (needed only for BM25's idf floor)."""
    result = con.execute("SELECT count(*) AS n FROM postings GROUP BY term").fetchnumpy()
    return np.asarray(result["n"], dtype=np.float64)


def bm25_top(
    con: duckdb.DuckDBPyConnection,
    weights: dict[int, float],
    k1: float,
    b: float,
    avgdl: float,
    filters: Filters,
    limit: int,
) -> list[tuple[int, float]]:
    """Top memories by BM25, given each query term's weight (idf times query count)."""
    if not weights or avgdl <= 0:
        return []
    where, params = filters.sql()
    rows = con.execute(
        f"""
        WITH q AS (SELECT unnest(?::BIGINT[]) AS term, unnest(?::DOUBLE[]) AS w)
        SELECT p.seq,
               sum(q.w * p.tf * (? + 1) / (p.tf + ? * (1 - ? + ? * m.doc_len / ?))) AS score
        FROM postings p JOIN q USING (term) JOIN memories m ON m.seq = p.seq
        WHERE {where}
        GROUP BY p.seq
        ORDER BY score DESC, p.seq DESC
        LIMIT ?
        """,
        [list(weights), list(weights.values()), k1, k1, b, b, avgdl, *params, limit],
    ).fetchall()
    return [(int(s), float(v)) for s, v in rows]


def matched_terms(
    con: duckdb.DuckDBPyConnection, seqs: Sequence[int], terms: Sequence[int]
) -> dict[int, set[int]]:
    """Which of the query's terms each memory contains (for --explain)."""
    rows = con.execute(
        "SELECT seq, term FROM postings WHERE seq IN (SELECT unnest(?::INTEGER[])) "
        "AND term IN (SELECT unnest(?::BIGINT[]))",
        [list(seqs), list(terms)],
    ).fetchall()
    found: dict[int, set[int]] = {}
    for seq, term in rows:
        found.setdefault(int(seq), set()).add(int(term))
    return found


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
    rows.bump_vectors_version(con)


def delete_vectors(con: duckdb.DuckDBPyConnection, seqs: Sequence[int]) -> None:
    con.execute("DELETE FROM vectors WHERE seq IN (SELECT unnest(?::INTEGER[]))", [list(seqs)])
    rows.bump_vectors_version(con)


def database_path(con: duckdb.DuckDBPyConnection) -> str | None:
    """The file behind the connection (None for an in-memory database)."""
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def vector_extent(con: duckdb.DuckDBPyConnection, model: str) -> tuple[int, int, int]:
    """(lowest seq, highest seq, rows) over the vectors of `model` (zeros when none)."""
    row = con.execute(
        "SELECT coalesce(min(seq), 0), coalesce(max(seq), 0), count(*) FROM vectors "
        "WHERE model = ?",
        [model],
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def quantised_vectors(
    con: duckdb.DuckDBPyConnection, model: str, dim: int, low: int, high: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(seqs, int8 matrix, scales) of the vectors of `model` with low <= seq < high.

    Reads only the int8 column (a quarter of the float32 bytes): recall's first pass."""
    result = con.execute(
        "SELECT seq, q, q_scale FROM vectors "
        "WHERE model = ? AND seq >= ? AND seq < ? AND octet_length(q) = ?",
        [model, low, high, dim],
    ).fetchnumpy()
    seqs = np.asarray(result["seq"], dtype=np.int64)
    q = np.frombuffer(b"".join(result["q"]), dtype=np.int8).reshape(len(seqs), dim)
    return seqs, q, np.asarray(result["q_scale"], dtype=np.float32)


def exact_vectors(
    con: duckdb.DuckDBPyConnection, model: str, dim: int, seqs: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(seq per row, float32 matrix) of every chunk of the given memories (of all, when
    `seqs` is None) with a vector of `model` and `dim`, ordered by seq and chunk.

    Cheap in bytes returned, not in bytes read: the rows are spread over the table, and
    DuckDB reads a column 2,048 rows at a time, so this reads most of the float32 column."""
    if seqs is not None and not len(seqs):
        return np.zeros(0, dtype=np.int64), np.zeros((0, dim), dtype=np.float32)
    sql = "SELECT seq, chunk, vec FROM vectors WHERE model = ? AND octet_length(vec) = ?"
    if seqs is None:
        result = con.execute(sql, [model, dim * 4]).fetchnumpy()
    else:
        con.register("wanted_seqs", {"seq": np.asarray(seqs, dtype=np.int32)})
        try:
            result = con.execute(
                sql + " AND seq IN (SELECT seq FROM wanted_seqs)", [model, dim * 4]
            ).fetchnumpy()
        finally:
            con.unregister("wanted_seqs")
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
