"""The tiny test model loads and behaves through fastembed's real custom-model code path."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from fastembed import TextEmbedding
from fastembed.text.custom_text_embedding import CustomTextEmbedding
from tokenizers import Tokenizer

from tests.support.tiny_model import (
    SYNONYM_GROUPS,
    TINY_DIM,
    TINY_MODEL_NAME,
    build_tiny_model,
    register_tiny_model,
)

EXPECTED_FILES = {
    "model.onnx",
    "tokenizer.json",
    "config.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="module")
def embedding(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> TextEmbedding:
    register_tiny_model()
    return TextEmbedding(
        TINY_MODEL_NAME,
        specific_model_path=str(model_dir),
        cache_dir=str(tmp_path_factory.mktemp("fastembed-cache")),
    )


def embed(embedding: TextEmbedding, texts: list[str], batch_size: int = 256) -> np.ndarray:
    return np.stack(list(embedding.embed(texts, batch_size=batch_size)))


def cosine(embedding: TextEmbedding, a: str, b: str) -> float:
    va, vb = embed(embedding, [a, b])
    return float(va @ vb)  # vectors are normalized by fastembed


def test_build_writes_all_files_into_a_new_folder(tmp_path: Path) -> None:
    folder = tmp_path / "nested" / "tiny"
    assert build_tiny_model(folder) == folder
    assert {p.name for p in folder.iterdir()} == EXPECTED_FILES
    assert all((folder / name).stat().st_size > 0 for name in EXPECTED_FILES)


def test_build_is_deterministic(tmp_path: Path) -> None:
    first = build_tiny_model(tmp_path / "a")
    second = build_tiny_model(tmp_path / "b")
    assert (first / "model.onnx").read_bytes() == (second / "model.onnx").read_bytes()
    for name in sorted(EXPECTED_FILES):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_onnx_graph_takes_bert_inputs_with_dynamic_axes(model_dir: Path) -> None:
    session = ort.InferenceSession(
        str(model_dir / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    inputs = {i.name: i for i in session.get_inputs()}
    assert set(inputs) == {"input_ids", "attention_mask", "token_type_ids"}
    assert all(i.type == "tensor(int64)" for i in inputs.values())
    assert [o.name for o in session.get_outputs()] == ["last_hidden_state"]

    for batch, seq in [(1, 1), (3, 7)]:
        ids = np.arange(batch * seq, dtype=np.int64).reshape(batch, seq)
        (out,) = session.run(
            None,
            {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": 0 * ids},
        )
        assert out.shape == (batch, seq, TINY_DIM)
        assert out.dtype == np.float32


def test_tokenizer_is_bert_like_and_never_unk_for_ascii_words(model_dir: Path) -> None:
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    encoding = tokenizer.encode("Frobnicate the XYZZY-42 Server, qwop!")
    tokens = encoding.tokens
    assert tokens[0] == "[CLS]"
    assert tokens[-1] == "[SEP]"
    assert "[UNK]" not in tokens
    assert "server" in tokens  # lowercased, whole word from the vocabulary
    assert "##z" in tokens  # unknown words fall back to letter pieces


def test_loads_through_fastembed_custom_model_path(embedding: TextEmbedding) -> None:
    assert isinstance(embedding.model, CustomTextEmbedding)
    (vector,) = list(embedding.embed(["my car is red"]))
    assert vector.shape == (TINY_DIM,)
    assert vector.dtype == np.float32
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)


def test_register_tiny_model_is_idempotent() -> None:
    register_tiny_model()
    register_tiny_model()
    names = [m["model"] for m in TextEmbedding.list_supported_models()]
    assert names.count(TINY_MODEL_NAME) == 1


def test_paraphrases_are_close_and_unrelated_texts_are_not(embedding: TextEmbedding) -> None:
    paraphrase = cosine(embedding, "my car broke down", "the automobile broke down")
    unrelated = cosine(embedding, "my car broke down", "coffee with my sister")
    assert paraphrase > 0.8
    assert unrelated < 0.4  # 0.4 margin below the paraphrase threshold

    # swaps with zero lexical overlap on the content words
    assert cosine(embedding, "doctor appointment", "physician appointment") > 0.9
    assert cosine(embedding, "wifi password", "router credentials") > 0.9
    assert cosine(embedding, "wifi password", "dentist appointment") < 0.5


def test_synonym_groups_cluster_and_groups_stay_apart(embedding: TextEmbedding) -> None:
    words = [w for group in SYNONYM_GROUPS for w in group]
    vectors = dict(zip(words, embed(embedding, words), strict=True))
    for group in SYNONYM_GROUPS:
        for a, b in itertools.combinations(group, 2):
            assert float(vectors[a] @ vectors[b]) > 0.95, (a, b)
    for group_a, group_b in itertools.combinations(SYNONYM_GROUPS, 2):
        sim = float(vectors[group_a[0]] @ vectors[group_b[0]])
        assert sim < 0.8, (group_a[0], group_b[0], sim)


@pytest.mark.parametrize(
    "text",
    [
        "zyxwvut frobnicate qwop",
        "caf\u00e9 na\u00efve r\u00e9sum\u00e9",
        "\u65e5\u672c\u8a9e \U0001f642",
        "",
        "   ",
        "word " * 2000,  # longer than the 512-token truncation limit
    ],
)
def test_unknown_and_odd_input_does_not_crash(embedding: TextEmbedding, text: str) -> None:
    (vector,) = list(embedding.embed([text]))
    assert vector.shape == (TINY_DIM,)
    assert np.all(np.isfinite(vector))
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)


def test_batch_of_100_texts_matches_one_by_one(embedding: TextEmbedding) -> None:
    words = ["server", "dentist", "coffee", "flight", "kitten", "backup", "xyzzy", "port"]
    texts = [
        " ".join(words[(i + k) % len(words)] for k in range(1 + i % 9)) + f" note {i}"
        for i in range(100)
    ]
    batched = embed(embedding, texts, batch_size=16)
    assert batched.shape == (100, TINY_DIM)
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    # padding to the longest text in a batch must not change a text's vector
    singles = np.stack([embed(embedding, [t])[0] for t in texts[:10]])
    assert np.allclose(batched[:10], singles, atol=1e-5)
