"""memcli.embed.chunk_text, and that the end of a long memory can still be found."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from memcli.config import load_settings
from memcli.embed import (
    CHUNK_OVERLAP_TOKENS,
    CHUNK_TOKENS,
    _token_cost,
    chunk_text,
    load_embedder,
)
from memcli.search.recall import RecallRequest
from memcli.service.context import Context
from memcli.service.reading import recall_memories
from memcli.service.writing import add
from tests.support.tiny_model import MAX_LENGTH

_HAN = "我们明天在北京开会讨论项目进度然后去上海见客户晚上回家吃饭"


def _merge(chunks: list[str]) -> list[str]:
    """Undo the overlap: each chunk after the first repeats the tail of the one before."""
    words = chunks[0].split()
    for chunk in chunks[1:]:
        pieces = chunk.split()
        overlap = next(
            n
            for n in range(min(len(words), len(pieces)), -1, -1)
            if words[len(words) - n :] == pieces[:n]
        )
        assert overlap > 0, "consecutive chunks do not overlap"
        words.extend(pieces[overlap:])
    return words


@pytest.mark.parametrize("text", ["x", "call mom", "staging db is on port 6543, user ro_reader"])
def test_short_text_is_one_chunk(text: str) -> None:
    assert chunk_text(text) == [text]


def _cost(chunk: str) -> int:
    return sum(_token_cost(word) for word in chunk.split())


def test_exactly_the_budget_is_one_chunk() -> None:
    text = " ".join(f"w{i % 10}" for i in range(CHUNK_TOKENS))  # each word costs 1
    assert _cost(text) == CHUNK_TOKENS
    assert chunk_text(text) == [text]
    assert len(chunk_text(text + " one")) == 2


def test_thousand_words_give_overlapping_chunks_covering_every_word() -> None:
    words = [f"word{i:04d}" for i in range(1000)]
    chunks = chunk_text(" ".join(words))
    assert 7 <= len(chunks) <= 20
    for chunk in chunks:
        assert _cost(chunk) <= CHUNK_TOKENS
    for before, after in itertools.pairwise(chunks):
        shared = [w for w in after.split() if w in set(before.split())]
        assert 0 < _cost(" ".join(shared)) <= CHUNK_OVERLAP_TOKENS
    assert _merge(chunks) == words
    assert chunks[-1].split()[-1] == words[-1]


def test_long_natural_text_keeps_every_word_in_order() -> None:
    rng = random.Random(5)
    vocab = ["the", "server", "crashed", "again", "after", "deploy", "on", "friday,", "2024-06-01"]
    words = [rng.choice(vocab) + str(i) for i in range(1500)]
    text = "\n".join(" ".join(words[i : i + 12]) for i in range(0, len(words), 12))
    chunks = chunk_text(text)
    assert all(_cost(c) <= CHUNK_TOKENS for c in chunks)
    assert _merge(chunks) == words


def test_a_5000_char_word_is_split() -> None:
    rng = random.Random(1)
    blob = "".join(rng.choice("abcdef0123456789") for _ in range(5000))
    chunks = chunk_text(blob)
    assert len(chunks) > 1
    assert all(_cost(c) <= CHUNK_TOKENS for c in chunks)
    assert "".join(_merge(chunks)) == blob


def test_cjk_without_spaces_is_split_into_bounded_pieces() -> None:
    text = _HAN * 100  # 3,000 characters, no whitespace at all
    chunks = chunk_text(text)
    assert len(chunks) > 1
    assert all(0 < _cost(c) <= CHUNK_TOKENS for c in chunks)
    assert "".join(_merge(chunks)) == text


@pytest.mark.parametrize(
    "text",
    [
        " ".join(f"{i:040x}" for i in range(300)),  # a list of git commit hashes
        random.Random(2).randbytes(2500).hex(),  # one 5,000-char word
        _HAN * 100,
    ],
    ids=["hashes", "blob", "han"],
)
def test_overlap_is_a_small_part_of_each_chunk(text: str) -> None:
    chunks = chunk_text(text)
    assert sum(len(c) for c in chunks) <= 1.5 * len(text)


def _tiny_tokenizer(folder: Path) -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def test_every_cjk_chunk_fits_the_model_window(tiny_model_dir: Path) -> None:
    tokenizer = _tiny_tokenizer(tiny_model_dir)
    for chunk in chunk_text(_HAN * 100):
        assert len(tokenizer.encode(chunk).ids) <= MAX_LENGTH


def test_the_end_of_a_long_cjk_memory_reaches_a_vector() -> None:
    settings = load_settings()
    embedder = load_embedder(settings.model, settings.cache_dir)
    body = _HAN * 40
    ending_a = chunk_text(body + " dentist teeth appointment")
    ending_b = chunk_text(body + " kitten cat puppy")
    assert len(ending_a) == len(ending_b)
    vectors_a = embedder.embed_documents(ending_a)
    vectors_b = embedder.embed_documents(ending_b)
    assert (abs(vectors_a - vectors_b).max(axis=1) > 1e-4).any()


# --- end to end: a phrase near the end of a long memory is found ---------------------------

_FILLER = ["tea", "bug", "disk", "port", "code", "rent", "bank", "gym", "bus", "lunch", "cron"]
_PHRASE = "call the dentist about my teeth appointment on friday"


def _long_memory(rng: random.Random) -> str:
    # About nine chunks of filler, so the phrase is only in the last chunk.
    filler = [rng.choice(_FILLER) for _ in range(900)]
    return " ".join(filler) + " " + _PHRASE


@pytest.fixture
def long_memory_ctx() -> tuple[Context, str]:
    rng = random.Random(9)
    ctx = Context(load_settings())
    text = _long_memory(rng)
    chunks = chunk_text(text)
    assert len(chunks) > 5 and chunks[-1].endswith(_PHRASE)
    assert _PHRASE not in " ".join(chunks[:-1])
    long_id = add(ctx, text, tags=[]).memory.id
    for note in (
        "buy milk and bread",
        "the wifi password is on the router",
        "my car broke down on the highway",
        "dinner with my sister on sunday",
    ):
        add(ctx, note, tags=[])
    return ctx, long_id


@pytest.mark.parametrize("mode", ["semantic", "keyword", "hybrid"])
def test_long_memory_is_found_by_a_phrase_near_its_end(long_memory_ctx, mode: str) -> None:
    ctx, long_id = long_memory_ctx
    hits = recall_memories(ctx, RecallRequest("dentist teeth appointment", limit=3, mode=mode))
    assert hits, mode
    assert hits[0].memory.id == long_id
    assert len(hits[0].memory.text.split()) > 900  # stored whole, not cut off
    if mode != "keyword":
        assert hits[0].parts.cosine is not None and hits[0].parts.cosine >= 0.3
