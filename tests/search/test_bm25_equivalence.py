"""The keyword index scores exactly like rank_bm25.BM25Okapi over the same tokens.

A random corpus (fixed seed, Zipf-like vocabulary, so several terms sit in more than half
of the documents and get rank_bm25's epsilon idf floor) is stored through memcli's own
import path; every query's scores from the store (`keyword_candidates`, which reads the
query terms' postings and runs `query_weights`) must equal BM25Okapi's, document by document,
before and after memories are forgotten and edited (no rebuild in between).
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from rank_bm25 import BM25Okapi

from memcli.config import load_settings
from memcli.records import Memory
from memcli.search import bm25
from memcli.search.recall import keyword_candidates
from memcli.search.tokenizer import STOPWORDS, tokenize
from memcli.service.context import Context
from memcli.service.forgetting import forget
from memcli.service.lookup import resolve
from memcli.service.transfer import import_memories
from memcli.service.writing import edit
from memcli.store import index
from memcli.store import memories as rows
from memcli.store.memories import Filters
from tests.support.tiny_model import TINY_DIM, TINY_MODEL_NAME

SEED = 20240601
N_DOCS = 300
N_EMPTY = 12
VOCAB_SIZE = 200
N_QUERIES = 50
TOLERANCE = 1e-6
_CONSONANTS = "bdfgklmnprtvz"
_VOWELS = "aeiou"
_FILLERS = sorted(STOPWORDS - {"s", "t"})  # stopword-only texts tokenize to nothing


def _make_words(rng: random.Random, count: int, exclude: set[str]) -> list[str]:
    """Pronounceable CV-syllable words: never end in s/ed/ing, so stemming keeps them."""
    words: list[str] = []
    seen = set(exclude)
    while len(words) < count:
        syllables = rng.randint(2, 3)
        word = "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(syllables))
        if word not in seen and word not in STOPWORDS:
            seen.add(word)
            words.append(word)
    return words


def _zipf_choices(rng: random.Random, vocab: list[str], k: int) -> list[str]:
    weights = [1.0 / (rank + 1) for rank in range(len(vocab))]
    return rng.choices(vocab, weights=weights, k=k)


def _build_corpus(rng: random.Random, vocab: list[str]) -> list[str]:
    texts: list[str] = []
    empty_at = set(rng.sample(range(N_DOCS), N_EMPTY))
    for i in range(N_DOCS):
        if i in empty_at:
            texts.append(" ".join(rng.sample(_FILLERS, rng.randint(1, 4))))
        else:
            texts.append(" ".join(_zipf_choices(rng, vocab, rng.randint(1, 40))))
    return texts


def _build_queries(rng: random.Random, vocab: list[str], absent: list[str]) -> list[list[str]]:
    queries: list[list[str]] = []
    for i in range(N_QUERIES):
        n = rng.randint(1, 6)
        # Every third query draws like the corpus: frequent terms with negative raw idfs.
        words = _zipf_choices(rng, vocab, n) if i % 3 == 0 else rng.choices(vocab, k=n)
        if i % 5 == 1:
            words.append(words[0])  # a repeated query term counts twice
        if i % 4 == 2:
            words.insert(rng.randrange(len(words) + 1), rng.choice(absent))
        if i % 17 == 3:
            words = [rng.choice(absent)]  # nothing in the corpus matches
        queries.append(words)
    return queries


def _import(ctx: Context, texts: list[str]) -> list[str]:
    ids = [f"doc-{i:04d}" for i in range(len(texts))]
    lines = [json.dumps({"id": i, "text": t}).encode() for i, t in zip(ids, texts, strict=True)]
    report = import_memories(ctx, lines, skip_bad=False)
    assert report.imported == len(texts) and not report.bad_lines
    return ids


def _stored_corpus(ctx: Context) -> list[tuple[int, str]]:
    """(seq, text) of every stored memory, in store order."""
    with ctx.store(write=False) as store:
        found = store.con.execute("SELECT seq, text FROM memories ORDER BY seq").fetchall()
    return [(int(s), str(t)) for s, t in found]


def _okapi(corpus: list[tuple[int, str]]) -> BM25Okapi:
    return BM25Okapi([tokenize(text) for _, text in corpus], k1=bm25.K1, b=bm25.B)


def _expected(
    okapi: BM25Okapi, corpus: list[tuple[int, str]], query: list[str]
) -> dict[int, float]:
    scores = okapi.get_scores(query)
    return {seq: float(s) for (seq, _), s in zip(corpus, scores, strict=True) if s != 0}


def _actual(con: duckdb.DuckDBPyConnection, query: list[str]) -> dict[int, float]:
    text = " ".join(query)
    assert tokenize(text) == query
    found = keyword_candidates(con, text, Filters(), 100_000)
    return {seq: score for seq, (score, _, _) in found.items() if score != 0}


def _assert_same_scores(ctx: Context, queries: list[list[str]]) -> int:
    """Compare every query; returns how many documents were compared in total."""
    corpus = _stored_corpus(ctx)
    okapi = _okapi(corpus)
    compared = 0
    with ctx.store(write=False) as store:
        for query in queries:
            expected = _expected(okapi, corpus, query)
            actual = _actual(store.con, query)
            assert set(actual) == set(expected), query
            for seq, score in expected.items():
                assert actual[seq] == pytest.approx(score, abs=TOLERANCE, rel=0), (query, seq)
            compared += len(expected)
    return compared


@dataclass(frozen=True)
class Corpus:
    vocab: list[str]
    absent: list[str]
    ids: list[str]
    store_file: Path


@dataclass
class World:
    ctx: Context
    rng: random.Random
    vocab: list[str]
    absent: list[str]
    ids: list[str]


@pytest.fixture(scope="module")
def corpus_template(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Corpus:
    """Import the corpus once per module (DuckDB inserts are slow); tests get a copy."""
    rng = random.Random(SEED)
    vocab = _make_words(rng, VOCAB_SIZE, set())
    absent = _make_words(rng, 20, set(vocab))
    for word in (*vocab, *absent):
        assert tokenize(word) == [word], word
    home = tmp_path_factory.mktemp("bm25-template")
    (home / "config.toml").write_text(
        f'[model]\nname = "{TINY_MODEL_NAME}"\npath = "{tiny_model_dir}"\n'
        f'pooling = "mean"\ndim = {TINY_DIM}\n'
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MEMCLI_HOME", str(home))
        settings = load_settings()
        ids = _import(Context(settings), _build_corpus(rng, vocab))
    assert not settings.db_path.with_name(settings.db_path.name + ".wal").exists()
    return Corpus(vocab, absent, ids, settings.db_path)


@pytest.fixture
def world(corpus_template: Corpus, store_path: Path) -> World:
    shutil.copyfile(corpus_template.store_file, store_path)
    c = corpus_template
    return World(Context(load_settings()), random.Random(SEED + 1), c.vocab, c.absent, c.ids)


def _memories(ctx: Context, seqs: list[int]) -> list[Memory]:
    with ctx.store(write=False) as store:
        return list(rows.get_by_seqs(store.con, seqs).values())


def test_corpus_exercises_the_epsilon_floor_and_empty_documents(world: World) -> None:
    corpus = _stored_corpus(world.ctx)
    token_lists = [tokenize(text) for _, text in corpus]
    assert len(corpus) == N_DOCS
    assert sum(not tokens for tokens in token_lists) == N_EMPTY
    over_half = [w for w in world.vocab if sum(w in t for t in token_lists) > len(corpus) / 2]
    assert len(over_half) >= 3
    okapi = BM25Okapi(token_lists, k1=bm25.K1, b=bm25.B)
    assert okapi.average_idf > 0
    for word in over_half:
        assert okapi.idf[word] == pytest.approx(bm25.EPSILON * okapi.average_idf)


def test_index_statistics_match_the_corpus(world: World) -> None:
    corpus = _stored_corpus(world.ctx)
    okapi = _okapi(corpus)
    with world.ctx.store(write=False) as store:
        doc_count, total_len = index.corpus_stats(store.con)
        freqs = index.all_doc_freqs(store.con)
        doc_lens = dict(store.con.execute("SELECT seq, doc_len FROM memories").fetchall())
    assert doc_count == okapi.corpus_size == N_DOCS
    assert total_len / doc_count == pytest.approx(okapi.avgdl, abs=1e-12)
    assert len(freqs) == len(okapi.idf)
    assert bm25.mean_idf(doc_count, freqs) == pytest.approx(okapi.average_idf, abs=1e-12)
    assert [doc_lens[seq] for seq, _ in corpus] == okapi.doc_len


def test_scores_equal_rank_bm25(world: World) -> None:
    queries = _build_queries(world.rng, world.vocab, world.absent)
    assert any(len(set(q)) < len(q) for q in queries)
    assert any(set(q) <= set(world.absent) for q in queries)
    assert _assert_same_scores(world.ctx, queries) > 1000


def test_keyword_candidates_order_by_score_then_newer(world: World) -> None:
    corpus = _stored_corpus(world.ctx)
    query = [world.vocab[0], world.vocab[40]]
    expected = _expected(_okapi(corpus), corpus, query)
    with world.ctx.store(write=False) as store:
        found = keyword_candidates(store.con, " ".join(query), Filters(), 10)
    top = [(seq, score) for seq, (score, _, _) in found.items()]
    # Equal scores within float noise count as ties, broken by the newer (higher) seq.
    best = sorted(expected.items(), key=lambda item: (-round(item[1], 9), -item[0]))[:10]
    assert [seq for seq, _ in top] == [seq for seq, _ in best]
    assert [s for _, s in top] == pytest.approx([s for _, s in best], abs=TOLERANCE)


def test_filters_choose_what_is_returned_not_the_statistics(world: World) -> None:
    corpus = _stored_corpus(world.ctx)
    query = [world.vocab[0], world.vocab[40]]
    expected = _expected(_okapi(corpus), corpus, query)
    some = sorted(expected)[::3]
    with world.ctx.store(write=False) as store:
        ids = [m.id for m in _memories(world.ctx, some)]
        found = keyword_candidates(store.con, " ".join(query), Filters(ids=tuple(ids)), 100)
    assert set(found) == set(some)
    for seq, (score, _, _) in found.items():  # idf and lengths over the whole store
        assert score == pytest.approx(expected[seq], abs=TOLERANCE)


def test_scores_follow_forget_and_edit_without_rebuild(world: World) -> None:
    ctx, rng, vocab = world.ctx, world.rng, world.vocab
    doomed = rng.sample(world.ids, 40)
    with ctx.store(write=False) as store:
        memories = [resolve(store.con, i) for i in doomed]
    assert forget(ctx, memories) == len(doomed)
    survivors = [i for i in world.ids if i not in set(doomed)]
    for n, memory_id in enumerate(rng.sample(survivors, 25)):
        if n % 5 == 0:
            text = " ".join(rng.sample(_FILLERS, 3))  # now an empty document
        elif n % 5 == 1:
            text = " ".join(rng.choices(vocab[:3], k=40))  # long, only the frequent terms
        else:
            text = " ".join(_zipf_choices(rng, vocab, rng.randint(1, 40)))
        assert edit(ctx, memory_id, text=text).text == text
    corpus = _stored_corpus(ctx)
    assert len(corpus) == N_DOCS - len(doomed)
    with ctx.store(write=False) as store:
        assert index.corpus_stats(store.con) == (
            len(corpus),
            sum(len(tokenize(t)) for _, t in corpus),
        )
        assert len(index.all_doc_freqs(store.con)) == len(_okapi(corpus).idf)
    queries = _build_queries(rng, vocab, world.absent)
    assert _assert_same_scores(ctx, queries) > 1000


def test_forgetting_every_holder_of_a_term_removes_it_from_the_index(world: World) -> None:
    corpus = _stored_corpus(world.ctx)
    used = [w for w in world.vocab if any(w in tokenize(t) for _, t in corpus)]
    rare = used[-1]
    holders = [seq for seq, text in corpus if rare in tokenize(text)]
    assert forget(world.ctx, _memories(world.ctx, holders)) == len(holders)
    with world.ctx.store(write=False) as store:
        assert _actual(store.con, [rare]) == {}
        assert len(index.all_doc_freqs(store.con)) == len(_okapi(_stored_corpus(world.ctx)).idf)
    assert _assert_same_scores(world.ctx, [[rare, world.vocab[0]], [world.vocab[1]]]) > 0
