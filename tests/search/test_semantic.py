"""The semantic channel (memcli.search.semantic, memcli.search.quant): a small store must
give exactly what brute-force float32 cosine gives, a large one (its int8 copy) the same up
to quant's error bound; the process cache must follow every change to the vectors; m002
must quantise the vectors of an old store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pytest

from memcli.records import Memory
from memcli.search import quant, semantic
from memcli.search.semantic import QueryVector, semantic_candidates
from memcli.store import index, migrations
from memcli.store import memories as rows
from memcli.store import meta as store_meta
from memcli.store.connection import open_store
from memcli.store.memories import Filters

MODEL = "test/random-384"
DIM = 384
NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    semantic.CACHE.clear()
    yield
    semantic.CACHE.clear()


def _unit(matrix: np.ndarray) -> np.ndarray:
    return (matrix / np.linalg.norm(matrix, axis=-1, keepdims=True)).astype(np.float32)


def _memory(number: int, state: str = "active") -> Memory:
    return Memory(
        f"m{number:07d}", f"note {number}", [], NOW, NOW, NOW, 3, False, state, "cli", None,
        None, 0,
    )  # fmt: skip


class RandomStore:
    """A store of `count` memories with random unit vectors: every 10th memory has three
    chunks, every 7th is archived, and a few are near-duplicates of others (near-ties)."""

    def __init__(self, path: Path, count: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.path = path
        memories = [_memory(i, "archived" if i % 7 == 3 else "active") for i in range(count)]
        chunks_per = [3 if i % 10 == 0 else 1 for i in range(count)]
        vectors = rng.standard_normal((sum(chunks_per), DIM))
        for row in range(50, len(vectors), 97):  # near-duplicates of the previous row
            vectors[row] = vectors[row - 1] + 0.05 * rng.standard_normal(DIM)
        vectors = _unit(vectors)
        with open_store(path, write=True, create=True) as store, store.transaction() as con:
            seqs = rows.insert_many(con, memories, ["h"] * count, [1] * count)
            row_seqs = np.repeat([seqs[m.id] for m in memories], chunks_per)
            row_chunks = np.concatenate([np.arange(n) for n in chunks_per])
            index.insert_vectors(con, list(row_seqs), list(row_chunks), MODEL, vectors)
        self.seqs = row_seqs.astype(np.int64)
        self.vectors = vectors
        self.active = {seqs[m.id] for m in memories if m.state == "active"}

    def brute_force(
        self, x: np.ndarray, limit: int, also: set[int] = frozenset()
    ) -> dict[int, float]:
        """What recall computed before the int8 pass: every float32 vector, exactly."""
        keep = np.isin(self.seqs, list(self.active))
        seqs, cosines = self.seqs[keep], self.vectors[keep] @ x
        best: dict[int, float] = {}
        for position in np.argsort(-cosines, kind="stable"):
            seq = int(seqs[position])
            if seq not in best:
                best[seq] = float(cosines[position])
                if len(best) >= limit:
                    break
        for seq, cosine in zip(seqs.tolist(), cosines.tolist(), strict=True):
            if seq in also and cosine > best.get(seq, -2.0):
                best[seq] = cosine
        return best


def _assert_same(got: dict[int, float], expected: dict[int, float]) -> None:
    assert set(got) == set(expected)
    assert max(abs(got[seq] - expected[seq]) for seq in expected) <= 1e-6


# The int8 error bound of a unit vector against a unit query of DIM dimensions: at most
# max|v| / 254 * sum|x| <= sqrt(DIM) / 254, about 0.077; for these random vectors
# (max|v| about 0.2) it is under 0.015 (test_error_bound_holds checks the real bound).
INT8_ERROR = 0.015


def _assert_close(
    got: dict[int, float], store: RandomStore, x: np.ndarray, limit: int, also: set[int]
) -> None:
    """What the int8 copy must give: the cosines within INT8_ERROR of the exact ones, every
    memory clearly among the `limit` best found, and none clearly outside them."""
    every = store.brute_force(x, len(store.seqs))
    ranked = sorted(every.values(), reverse=True)
    edge = ranked[min(limit, len(ranked)) - 1]
    assert max(abs(got[seq] - every[seq]) for seq in got) <= INT8_ERROR
    best = sorted(got, key=lambda seq: -got[seq])[:limit]
    assert len(best) == min(limit, len(every))
    assert {seq for seq, c in every.items() if c > edge + 2 * INT8_ERROR} <= set(best)
    assert all(every[seq] >= edge - 2 * INT8_ERROR for seq in best)
    assert set(got) - set(best) == {seq for seq in also if seq in every} - set(best)


@pytest.fixture(scope="module")
def random_store(tmp_path_factory: pytest.TempPathFactory) -> RandomStore:
    return RandomStore(tmp_path_factory.mktemp("semantic") / "random.duckdb", 5000)


def _query(rng: np.random.Generator, store: RandomStore) -> np.ndarray:
    """Half random directions, half close to a stored vector (a dense neighbourhood)."""
    if rng.random() < 0.5:
        return _unit(rng.standard_normal(DIM))
    near = store.vectors[rng.integers(len(store.vectors))]
    return _unit(near + 0.5 * _unit(rng.standard_normal(DIM)))


def test_a_small_store_gives_the_exact_top_50_and_cosines(
    random_store: RandomStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(semantic, "SMALL_ROWS", 10**9)
    rng = np.random.default_rng(1)
    with open_store(random_store.path, write=False) as store:
        for _ in range(4):
            x = _query(rng, random_store)
            also = {int(s) for s in rng.choice(random_store.seqs, 30)} | {999_999}
            got = semantic_candidates(store.con, QueryVector(MODEL, x), Filters(), 50, also)
            _assert_same(got, random_store.brute_force(x, 50, also))
            top = sorted(got, key=lambda seq: -got[seq])
            expected = random_store.brute_force(x, 50)
            assert top[:50] == sorted(expected, key=lambda seq: -expected[seq])
    key = (str(random_store.path), MODEL, DIM)
    cached = semantic.CACHE.get(key, _version(random_store.path))
    assert cached is not None and cached.scales is None  # kept in float32: still exact


def test_a_large_store_is_searched_through_its_int8_copy(random_store: RandomStore) -> None:
    """Scan, scan and keep, then the cache: the same answers within the int8 error."""
    assert len(random_store.seqs) > semantic.SMALL_ROWS
    rng = np.random.default_rng(1)
    answers = []
    with open_store(random_store.path, write=False) as store:
        for _ in range(12):  # the first scans, the second fills the cache, the rest use it
            x = _query(rng, random_store)
            also = {int(s) for s in rng.choice(random_store.seqs, 30)} | {999_999}
            got = semantic_candidates(store.con, QueryVector(MODEL, x), Filters(), 50, also)
            _assert_close(got, random_store, x, 50, also)
            answers.append((x, got))
        x, first = answers[0]  # scanned, then from the cache: bit for bit the same
        assert semantic_candidates(store.con, QueryVector(MODEL, x), Filters(), 50) == {
            seq: first[seq] for seq in sorted(first, key=lambda seq: -first[seq])[:50]
        }
    key = (str(random_store.path), MODEL, DIM)
    cached = semantic.CACHE.get(key, _version(random_store.path))
    assert cached is not None and cached.matrix.dtype == np.int8


def test_large_pools_and_filters(random_store: RandomStore) -> None:
    rng = np.random.default_rng(2)
    x = _query(rng, random_store)
    with open_store(random_store.path, write=False) as store:
        for limit in (1, 200, 3000, 6000):
            got = semantic_candidates(store.con, QueryVector(MODEL, x), Filters(), limit)
            _assert_close(got, random_store, x, limit, set())
        archived = Filters(states=("archived",))
        got = semantic_candidates(store.con, QueryVector(MODEL, x), archived, 20)
    assert got and all(seq not in random_store.active for seq in got)
    assert len(got) == 20


def test_other_models_and_dimensions_are_not_searched(random_store: RandomStore) -> None:
    x = _unit(np.random.default_rng(3).standard_normal(DIM))
    with open_store(random_store.path, write=False) as store:
        assert semantic_candidates(store.con, QueryVector("other/model", x), Filters(), 5) == {}
        short = QueryVector(MODEL, x[:16] / np.linalg.norm(x[:16]))
        assert semantic_candidates(store.con, short, Filters(), 5) == {}


def test_rows_of_another_model_or_of_another_length_are_left_out(
    random_store: RandomStore, tmp_path: Path
) -> None:
    """A table of one model's rows is read without comparing each row's model and length;
    rows of another model (same length) or an empty int8 copy send it back to the filters."""
    rng = np.random.default_rng(4)
    queries = [_query(rng, random_store) for _ in range(3)]

    def answers(path: Path) -> list[dict[int, float]]:
        semantic.CACHE.clear()
        with open_store(path, write=False) as store:
            return [
                semantic_candidates(store.con, QueryVector(MODEL, x), Filters(), 50)
                for x in queries
            ]

    expected = answers(random_store.path)
    with open_store(random_store.path, write=False) as store:
        assert index.vector_extent(store.con, MODEL).alone
    copy = tmp_path / "mixed.duckdb"
    copy.write_bytes(random_store.path.read_bytes())
    seqs = [int(s) for s in random_store.seqs[:40]]
    with open_store(copy, write=True) as store:
        for x in queries:  # another model's vectors equal to the queries: they would win
            q, scales = quant.quantize(x[None, :])
            store.con.execute(
                "INSERT INTO vectors VALUES (?, 0, 'other/model', ?, ?, ?)",
                [seqs.pop(), x.astype(np.float32).tobytes(), q.tobytes(), float(scales[0])],
            )
        assert not index.vector_extent(store.con, MODEL).alone
    assert answers(copy) == expected
    with open_store(copy, write=True) as store:
        store.con.execute("DELETE FROM vectors WHERE model = 'other/model'")
        store.con.execute(  # this model's row without a usable int8 copy (m002 writes b'')
            "INSERT INTO vectors VALUES (?, 1, ?, ?, ?, 0)",
            [seqs.pop(), MODEL, queries[0].astype(np.float32).tobytes(), b""],
        )
        assert index.vector_extent(store.con, MODEL).alone
    assert answers(copy) == expected


def _limit_bytes(con: duckdb.DuckDBPyConnection) -> float:
    row = con.execute("SELECT current_setting('memory_limit')").fetchone()
    assert row is not None
    number, unit = str(row[0]).split()
    return float(number) * 2.0 ** (10 * ["bytes", "KiB", "MiB", "GiB", "TiB"].index(unit))


def test_out_of_memory_under_the_buffer_cap_retries_without_it(
    random_store: RandomStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = index.bounded_buffers
    capped: list[bool] = []

    @contextmanager
    def too_small(
        con: duckdb.DuckDBPyConnection, working_bytes: int = 0, enabled: bool = True
    ) -> Iterator[None]:
        with real(con, working_bytes, enabled):
            capped.append(enabled)
            if enabled:
                con.execute("SET memory_limit = '1MB'")
            yield

    monkeypatch.setattr(index, "bounded_buffers", too_small)
    monkeypatch.setattr(semantic, "CAP_ABOVE_BYTES", 0)
    x = _unit(np.random.default_rng(10).standard_normal(DIM))
    with open_store(random_store.path, write=False) as store:
        before = _limit_bytes(store.con)
        got = semantic_candidates(store.con, QueryVector(MODEL, x), Filters(), 30)
        after = _limit_bytes(store.con)
        everything = store.con.execute("SELECT seq, vec FROM vectors").fetchnumpy()
    _assert_close(got, random_store, x, 30, set())
    assert capped[0] and not capped[-1]
    assert before * 0.9 < after <= before and len(everything["seq"]) == len(random_store.seqs)


def _version(path: Path) -> str:
    with open_store(path, write=False) as store:
        version = store_meta.vectors_version(store.con)
    assert version is not None
    return version


def test_cache_follows_inserts_and_deletes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(semantic, "SMALL_ROWS", 0)
    random_store = RandomStore(tmp_path / "small.duckdb", 300, seed=4)
    x = _unit(np.random.default_rng(5).standard_normal(DIM))

    def search() -> dict[int, float]:
        with open_store(random_store.path, write=False) as store:
            return semantic_candidates(store.con, QueryVector(MODEL, x), Filters(), 10)

    for _ in range(3):  # scan, scan and keep, cached
        _assert_close(search(), random_store, x, 10, set())
    key = (str(random_store.path), MODEL, DIM)
    assert semantic.CACHE.get(key, _version(random_store.path)) is not None

    versions = [_version(random_store.path)]
    with open_store(random_store.path, write=True) as store, store.transaction() as con:
        seq = rows.insert(con, _memory(10_000), "h", 1)
        index.insert_vectors(con, [seq], [0], MODEL, x[None, :])
    versions.append(_version(random_store.path))
    found = search()
    assert found[seq] == pytest.approx(1.0, abs=INT8_ERROR)

    with open_store(random_store.path, write=True) as store, store.transaction() as con:
        index.delete_vectors(con, [seq])
    versions.append(_version(random_store.path))
    assert seq not in search()

    with open_store(random_store.path, write=True) as store, store.transaction() as con:
        index.insert_vectors(con, [seq], [0], MODEL, x[None, :])
    assert seq in search()
    versions.append(_version(random_store.path))
    with open_store(random_store.path, write=True) as store, store.transaction() as con:
        rows.delete(con, [seq])
    versions.append(_version(random_store.path))
    _assert_close(search(), random_store, x, 10, set())
    assert len(set(versions)) == len(versions)


def test_rolled_back_writes_leave_the_version(tmp_path: Path) -> None:
    random_store = RandomStore(tmp_path / "small.duckdb", 20, seed=6)
    before = _version(random_store.path)
    with (
        open_store(random_store.path, write=True) as store,
        pytest.raises(RuntimeError),
        store.transaction() as con,
    ):
        index.delete_vectors(con, [1])
        raise RuntimeError("crash")
    assert _version(random_store.path) == before


def test_in_memory_database_is_searched_without_cache() -> None:
    con = duckdb.connect()
    migrations.migrate(con, 0)
    x = _unit(np.random.default_rng(7).standard_normal((3, DIM)))
    ids = rows.insert_many(con, [_memory(i) for i in range(3)], ["h"] * 3, [1] * 3)
    seqs = [ids[f"m{i:07d}"] for i in range(3)]
    index.insert_vectors(con, seqs, [0, 0, 0], MODEL, x)
    for _ in range(3):
        got = semantic_candidates(con, QueryVector(MODEL, x[1]), Filters(), 1)
        assert list(got) == [seqs[1]]
    assert index.database_path(con) is None


# --- the int8 copy ---------------------------------------------------------------------------


def test_error_bound_holds() -> None:
    rng = np.random.default_rng(8)
    vectors = _unit(rng.standard_normal((2000, DIM)))
    vectors[0] = 0.0  # a zero vector: scale 0, exact
    vectors[1] = _unit(np.where(np.arange(DIM) == 5, 1.0, 1e-4))  # one dominant component
    q, scales = quant.quantize(vectors)
    assert q.dtype == np.int8 and np.abs(q).max() == quant.LEVELS and scales[0] == 0
    for _ in range(20):
        x = _unit(rng.standard_normal(DIM))
        error = np.abs(quant.approx_scores(q, scales, x) - vectors @ x)
        assert (error <= quant.error_bounds(scales, x)).all()
        assert error.max() < 0.01


def _old_store(path: Path, vectors: list[tuple[int, int, str, bytes]]) -> None:
    """A store as memcli wrote it at schema 1 (vectors without q), holding two memories."""
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_migrations (id VARCHAR PRIMARY KEY, applied_at TIMESTAMP)")
    migrations.m001_create_tables(con)
    con.execute("INSERT INTO schema_migrations VALUES ('m001_create_tables', now()::TIMESTAMP)")
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    rows.insert_many(con, [_memory(1), _memory(2)], ["h", "h"], [1, 1])
    con.executemany("INSERT INTO vectors VALUES (?, ?, ?, ?)", vectors)
    con.close()


def test_m002_quantises_the_stored_vectors(store_path: Path) -> None:
    rng = np.random.default_rng(9)
    big = _unit(rng.standard_normal((3, DIM)))
    small = _unit(rng.standard_normal(8))
    _old_store(
        store_path,
        [
            (1, 0, MODEL, big[0].tobytes()),
            (1, 1, MODEL, big[1].tobytes()),
            (2, 0, MODEL, big[2].tobytes()),
            (2, 0, "other/small", small.tobytes()),
            (2, 0, "broken", b"\x01\x02\x03"),
        ],
    )
    with open_store(store_path, write=False) as store:  # a reader migrates through a writer
        con = store.con
        assert migrations.stored_version(con) == migrations.CURRENT_VERSION >= 2
        assert store_meta.vectors_version(con)
        stored = {
            (seq, model, chunk): (q, scale)
            for seq, chunk, model, q, scale in con.execute(
                "SELECT seq, chunk, model, q, q_scale FROM vectors"
            ).fetchall()
        }
        result = semantic_candidates(con, QueryVector(MODEL, big[2]), Filters(), 5)
    expected_q, expected_scales = quant.quantize(big)
    small_q, _ = quant.quantize(small[None, :])
    for row, key in enumerate([(1, MODEL, 0), (1, MODEL, 1), (2, MODEL, 0)]):
        assert stored[key][0] == expected_q[row].tobytes()
        assert stored[key][1] == pytest.approx(float(expected_scales[row]))
    assert stored[(2, "other/small", 0)][0] == small_q[0].tobytes()
    assert stored[(2, "broken", 0)] == (b"", 0.0)
    assert result[2] == pytest.approx(1.0, abs=1e-6) and set(result) == {1, 2}
    assert result[1] == pytest.approx(float(max(big[:2] @ big[2])), abs=1e-6)
