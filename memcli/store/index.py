"""SQL for the keyword index (postings) and the vectors."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np

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


def insert_vectors(
    con: duckdb.DuckDBPyConnection,
    seqs: Sequence[int],
    chunks: Sequence[int],
    model: str,
    vectors: np.ndarray,
) -> None:
    """Store float32 vectors (one row per chunk)."""
    if not len(seqs):
        return
    blobs = [row.astype(np.float32).tobytes() for row in vectors]
    con.execute(
        "INSERT INTO vectors SELECT unnest(?::INTEGER[]), unnest(?::SMALLINT[]), ?, unnest(?)",
        [list(seqs), list(chunks), model, blobs],
    )


def delete_vectors(con: duckdb.DuckDBPyConnection, seqs: Sequence[int]) -> None:
    con.execute("DELETE FROM vectors WHERE seq IN (SELECT unnest(?::INTEGER[]))", [list(seqs)])


def load_vectors(
    con: duckdb.DuckDBPyConnection, model: str, dim: int, filters: Filters
) -> tuple[np.ndarray, np.ndarray]:
    """(seq per row, matrix of vectors) for memories passing `filters`."""
    where, params = filters.sql()
    result = con.execute(
        f"""
        SELECT v.seq, v.vec FROM vectors v JOIN memories m ON m.seq = v.seq
        WHERE v.model = ? AND octet_length(v.vec) = ? AND {where}
        """,
        [model, dim * 4, *params],
    ).fetchnumpy()
    seqs = np.asarray(result["seq"], dtype=np.int64)
    if not len(seqs):
        return seqs, np.zeros((0, dim), dtype=np.float32)
    matrix = np.frombuffer(b"".join(result["vec"]), dtype=np.float32).reshape(len(seqs), dim)
    return seqs, matrix


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
