"""The store's schema, built by numbered migrations recorded in `schema_migrations`.

Each migration is a function named by its id (m001_...). `meta.schema_version` holds the
number of migrations applied; a store with a higher number came from a newer memcli and is
refused before anything is written.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import duckdb
import numpy as np

from memcli.errors import StoreTooNew
from memcli.search.quant import quantize
from memcli.search.tokenizer import TOKENIZER_VERSION
from memcli.store.index import blobs

Migration = Callable[[duckdb.DuckDBPyConnection], None]


def m001_create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Memories, their history, the keyword index and the vectors."""
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
    # The tokenizer that builds the postings; a different one needs `memcli reindex`.
    con.execute("INSERT INTO meta VALUES ('tokenizer_version', ?)", [str(TOKENIZER_VERSION)])
    con.execute("CREATE SEQUENCE memory_seq START 1")
    con.execute(
        """
        CREATE TABLE memories (
            seq            INTEGER PRIMARY KEY DEFAULT nextval('memory_seq'),
            id             VARCHAR NOT NULL UNIQUE,
            text           VARCHAR NOT NULL,
            text_hash      VARCHAR NOT NULL,
            tags           VARCHAR[] NOT NULL,
            created_at     TIMESTAMP NOT NULL,  -- when it happened (--at), UTC
            added_at       TIMESTAMP NOT NULL,  -- when it was stored, UTC
            updated_at     TIMESTAMP NOT NULL,
            importance     TINYINT NOT NULL,
            pinned         BOOLEAN NOT NULL,
            state          VARCHAR NOT NULL,    -- 'active' | 'archived'
            source         VARCHAR NOT NULL,    -- 'cli' | 'tui' | 'import' | 'mcp'
            superseded_by  VARCHAR,
            reinforced_at  TIMESTAMP,
            reinforcements INTEGER NOT NULL,
            doc_len        INTEGER NOT NULL     -- token count, for BM25
        )
        """
    )
    # History never holds a memory's text, so forgetting only has to delete these rows.
    con.execute(
        """
        CREATE TABLE events (
            memory_id VARCHAR NOT NULL,
            event_at  TIMESTAMP NOT NULL,
            kind      VARCHAR NOT NULL,
            detail    VARCHAR
        )
        """
    )
    # The keyword index: one row per (term, memory); terms are stored as 64-bit hashes.
    con.execute(
        "CREATE TABLE postings (term BIGINT NOT NULL, seq INTEGER NOT NULL, tf INTEGER NOT NULL)"
    )
    # One row per chunk of a memory, float32 bytes, under the name of the model that made it.
    con.execute(
        """
        CREATE TABLE vectors (
            seq   INTEGER NOT NULL,
            chunk SMALLINT NOT NULL,
            model VARCHAR NOT NULL,
            vec   BLOB NOT NULL
        )
        """
    )


_FILL_BATCH = 16384  # rows quantised at a time by m002 (25 MB of 384-dimension vectors)


def m002_quantised_vectors(con: duckdb.DuckDBPyConnection) -> None:
    """An int8 copy of each vector for recall's first pass (`q`, one byte per dimension,
    with its scale `q_scale`: memcli.search.quant), and `meta.vectors_version`, changed by
    every write to the vectors, which tells in-process caches of them when to reload.

    Fills q for the stored vectors in place (about 2 s for 100,000 vectors)."""
    con.execute("ALTER TABLE vectors ADD COLUMN q BLOB")
    con.execute("ALTER TABLE vectors ADD COLUMN q_scale FLOAT")
    row = con.execute("SELECT coalesce(max(rowid) + 1, 0) FROM vectors").fetchone()
    assert row is not None
    for start in range(0, int(row[0]), _FILL_BATCH):
        found = con.execute(
            "SELECT rowid, vec FROM vectors WHERE rowid >= ? AND rowid < ?",
            [start, start + _FILL_BATCH],
        ).fetchnumpy()
        if len(found["rowid"]):
            _fill_quantised(con, np.asarray(found["rowid"]), found["vec"])
    # The columns stay nullable (DuckDB cannot add NOT NULL after updates in the same
    # transaction); every row has them from here on, as insert_vectors always writes them.
    con.execute("INSERT INTO meta VALUES ('vectors_version', ?)", [secrets.token_hex(8)])


def _fill_quantised(con: duckdb.DuckDBPyConnection, rowids: np.ndarray, vecs: np.ndarray) -> None:
    """Quantise a batch of stored vectors (grouped by length; a blob that is not float32
    gets an empty q, which no search reads) and write q and q_scale back."""
    lengths = np.fromiter(map(len, vecs), dtype=np.int64, count=len(vecs))
    q = np.full(len(vecs), b"", dtype=object)
    scales = np.zeros(len(vecs), dtype=np.float32)
    for length in np.unique(lengths).tolist():
        if length == 0 or length % 4:
            continue
        same = lengths == length
        matrix = np.frombuffer(b"".join(vecs[same]), dtype=np.float32).reshape(-1, length // 4)
        q_same, scales[same] = quantize(matrix)
        q[same] = blobs(q_same)
    con.register("quantised", {"rid": rowids.astype(np.int64), "q": q, "s": scales})
    try:
        con.execute(
            "UPDATE vectors SET q = quantised.q, q_scale = quantised.s "
            "FROM quantised WHERE vectors.rowid = quantised.rid"
        )
    finally:
        con.unregister("quantised")


def m003_consolidation(con: duckdb.DuckDBPyConnection) -> None:
    """What the nightly consolidation keeps: a report per run, what each merge changed (so
    `restore` can undo it), and the pairs a user separated again (never paired anew)."""
    con.execute("CREATE SEQUENCE run_seq START 1")
    con.execute(
        """
        CREATE TABLE runs (
            run_id     INTEGER PRIMARY KEY DEFAULT nextval('run_seq'),
            started_at TIMESTAMP NOT NULL,  -- wall clock, UTC
            as_of      TIMESTAMP NOT NULL,  -- the moment the run acted as of (--as-of)
            seconds    DOUBLE NOT NULL,
            last_seq   INTEGER NOT NULL,    -- memories up to this seq have been compared
            erased     BOOLEAN NOT NULL,    -- the file was rewritten (erasure, compaction)
            report     VARCHAR NOT NULL     -- JSON: counts and ids, never a memory's text
        )
        """
    )
    con.execute(
        """
        CREATE TABLE merges (
            merged_id            VARCHAR NOT NULL,  -- archived, folded into keeper_id
            keeper_id            VARCHAR NOT NULL,
            merged_at            TIMESTAMP NOT NULL,
            kind                 VARCHAR NOT NULL,  -- 'duplicate' | 'near-duplicate'
            added_tags           VARCHAR[] NOT NULL,
            added_reinforcements INTEGER NOT NULL,
            keeper_importance    TINYINT NOT NULL,  -- the keeper's values before the merge
            keeper_pinned        BOOLEAN NOT NULL
        )
        """
    )
    con.execute("CREATE TABLE kept_apart (first_id VARCHAR NOT NULL, second_id VARCHAR NOT NULL)")


def m004_memories_without_indexes(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild `memories` without its PRIMARY KEY (seq) and UNIQUE (id) constraints.

    DuckDB writes a table's ART indexes out in full at every checkpoint that touches the
    table (an open issue in 1.5, duckdb/duckdb#24848), and every command checkpoints when it
    closes the store: at 100,000 memories one `add` spent about 0.4 s of its close there.
    seq still comes from the sequence `memory_seq`; ids are unique because every insert takes
    them from memcli.service.ingest.unused_ids or, for an import, checks them against the
    store and the file first, inside the transaction that holds the store's write lock
    (`memcli doctor` reports duplicates should anything else ever write one)."""
    columns = (
        "seq, id, text, text_hash, tags, created_at, added_at, updated_at, importance, "
        "pinned, state, source, superseded_by, reinforced_at, reinforcements, doc_len"
    )
    con.execute("ALTER TABLE memories RENAME TO memories_m003")
    con.execute(
        """
        CREATE TABLE memories (
            seq            INTEGER NOT NULL DEFAULT nextval('memory_seq'),
            id             VARCHAR NOT NULL,
            text           VARCHAR NOT NULL,
            text_hash      VARCHAR NOT NULL,
            tags           VARCHAR[] NOT NULL,
            created_at     TIMESTAMP NOT NULL,
            added_at       TIMESTAMP NOT NULL,
            updated_at     TIMESTAMP NOT NULL,
            importance     TINYINT NOT NULL,
            pinned         BOOLEAN NOT NULL,
            state          VARCHAR NOT NULL,
            source         VARCHAR NOT NULL,
            superseded_by  VARCHAR,
            reinforced_at  TIMESTAMP,
            reinforcements INTEGER NOT NULL,
            doc_len        INTEGER NOT NULL
        )
        """
    )
    con.execute(
        f"INSERT INTO memories ({columns}) SELECT {columns} FROM memories_m003 ORDER BY seq"
    )
    con.execute("DROP TABLE memories_m003")


_WHOLE_TABLE_ROWS = 2048  # DuckDB rewrites a table of fewer rows whole at each checkpoint


def m005_uncompressed_vectors(con: duckdb.DuckDBPyConnection) -> None:
    """Store the blob columns of `vectors` uncompressed, when the table is small.

    Vectors are random bytes: no compression shrinks them, yet a checkpoint that writes them
    first tries every method on them (FSST above all). DuckDB rewrites a table of fewer than
    2,048 rows whole at each checkpoint, and every command checkpoints at close: at 1,000
    memories, the trial was half of the checkpoint of this table in an `add` (18 ms with
    it, 10 without; 1-2 ms of difference from 10,000 vectors on). A column's USING
    COMPRESSION lives in the catalog, and COPY FROM DATABASE (the rewrite of consolidate
    and encrypt) keeps it.

    DuckDB cannot change it in place: the table is rebuilt. A larger table is left as it
    is: the rebuild would leave its old copy as free blocks (the file would grow by the
    table's size until a compaction) for a millisecond or two per command."""
    row = con.execute("SELECT count(*) FROM vectors").fetchone()
    if row is None or row[0] >= _WHOLE_TABLE_ROWS:
        return
    con.execute("ALTER TABLE vectors RENAME TO vectors_m004")
    con.execute(
        """
        CREATE TABLE vectors (
            seq     INTEGER NOT NULL,
            chunk   SMALLINT NOT NULL,
            model   VARCHAR NOT NULL,
            vec     BLOB NOT NULL USING COMPRESSION uncompressed,  -- float32 bytes
            q       BLOB USING COMPRESSION uncompressed,  -- int8 copy (m002)
            q_scale FLOAT
        )
        """
    )
    con.execute(
        "INSERT INTO vectors SELECT seq, chunk, model, vec, q, q_scale FROM vectors_m004 "
        "ORDER BY seq, chunk"
    )
    con.execute("DROP TABLE vectors_m004")


def m006_provenance(con: duckdb.DuckDBPyConnection) -> None:
    """Who wrote a memory beyond its source (an MCP client's name and version), when a
    person reviewed what an agent wrote (memcli review), and what agents forgot: the id,
    the time, the client and its reason, never the text (a forget erases the history)."""
    con.execute("ALTER TABLE memories ADD COLUMN origin VARCHAR")
    con.execute("ALTER TABLE memories ADD COLUMN reviewed_at TIMESTAMP")
    con.execute(
        """
        CREATE TABLE forgotten_by_agents (
            id        VARCHAR NOT NULL,
            forgot_at TIMESTAMP NOT NULL,
            origin    VARCHAR,
            reason    VARCHAR NOT NULL
        )
        """
    )


MIGRATIONS: list[tuple[str, Migration]] = [
    ("m001_create_tables", m001_create_tables),
    ("m002_quantised_vectors", m002_quantised_vectors),
    ("m003_consolidation", m003_consolidation),
    ("m004_memories_without_indexes", m004_memories_without_indexes),
    ("m005_uncompressed_vectors", m005_uncompressed_vectors),
    ("m006_provenance", m006_provenance),
]
CURRENT_VERSION = len(MIGRATIONS)


def stored_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The store's schema version, or None when this is not (yet) a memcli store."""
    try:  # the common case first: information_schema costs ~12 ms on a new connection
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except duckdb.Error:
        pass  # no table meta, or not ours: look closer
    else:
        if row is not None:
            return _version_number(row[0])
    columns = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'meta'"
        ).fetchall()
    }
    if not {"key", "value"} <= columns:
        return None
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except duckdb.Error:
        return None  # somebody else's table called meta
    return None if row is None else _version_number(row[0])


def _version_number(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        raise StoreTooNew(
            f"unreadable schema version {value!r} in the store", "run memcli doctor"
        ) from None


def has_foreign_tables(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the database holds tables (it is somebody else's database)."""
    row = con.execute("SELECT count(*) FROM information_schema.tables").fetchone()
    return bool(row and row[0])


def migrate(con: duckdb.DuckDBPyConnection, from_version: int) -> None:
    """Apply the missing migrations in one transaction; a failure leaves the store as it was."""
    con.execute("BEGIN TRANSACTION")
    try:
        if from_version == 0:
            con.execute(
                "CREATE TABLE schema_migrations (id VARCHAR PRIMARY KEY, applied_at TIMESTAMP)"
            )
        for name, migration in MIGRATIONS[from_version:]:
            migration(con)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, current_timestamp::TIMESTAMP)", [name]
            )
        con.execute(
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(CURRENT_VERSION)]
        )
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        raise StoreTooNew(
            f"the store could not be upgraded: {str(exc).strip().splitlines()[0]}",
            "the store was left as it was; report this with memcli doctor's output",
        ) from exc
    con.execute("COMMIT")
