"""memcli.embed: loading the model (local, cached, failed download) and embedding."""

from __future__ import annotations

import os
import shutil
import socket
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import memcli.embed as embed
from memcli.config import ModelSettings, load_settings
from memcli.embed import DOWNLOAD_RETRY_SECONDS, forget_failed_download, load_embedder
from memcli.errors import ModelUnavailable
from tests.support.tiny_model import TINY_DIM, TINY_MODEL_NAME

MARKER = ".download-failed"


@pytest.fixture
def tiny_settings() -> ModelSettings:
    return load_settings().model


def test_tiny_model_loads_from_the_config(tiny_settings: ModelSettings, tmp_path: Path) -> None:
    assert tiny_settings.name == TINY_MODEL_NAME and tiny_settings.path is not None
    embedder = load_embedder(tiny_settings, tmp_path / "cache")
    assert embedder.name == TINY_MODEL_NAME and embedder.dim == TINY_DIM
    vectors = embedder.embed_documents(
        ["my car broke down", "my automobile broke down", "the wifi password"]
    )
    assert vectors.shape == (3, TINY_DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > 0.9 > vectors[0] @ vectors[2]
    assert np.allclose(embedder.embed_query("my car broke down"), vectors[0], atol=1e-6)
    assert embedder.embed_documents([]).shape == (0, TINY_DIM)
    assert not (tmp_path / "cache").exists()  # a local folder needs no cache


def test_embed_documents_keeps_input_order(tiny_settings: ModelSettings, tmp_path: Path) -> None:
    embedder = load_embedder(tiny_settings, tmp_path)
    texts = [
        "dentist appointment on friday morning at the clinic near the station " * 6,
        "cat",
        "the staging database port is 6543",
        "x",
        "wifi router password " * 20,
        "dog",
        "coffee with my sister",
    ] * 6  # more than one batch
    together = embedder.embed_documents(texts, batch_size=4)
    one_by_one = np.stack([embedder.embed_documents([t])[0] for t in texts])
    assert np.allclose(together, one_by_one, atol=1e-5)
    assert not np.allclose(together[0], together[1], atol=1e-3)


def test_missing_local_folder(tiny_settings: ModelSettings, tmp_path: Path) -> None:
    folder = tmp_path / "no-such-model"
    with pytest.raises(ModelUnavailable) as caught:
        load_embedder(replace(tiny_settings, path=folder), tmp_path)
    assert str(folder) in caught.value.message
    assert "model.onnx" in caught.value.message
    assert "MEMCLI_MODEL_PATH" in (caught.value.hint or "")


def test_folder_without_model_onnx(
    tiny_settings: ModelSettings, tiny_model_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "partial"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "model.onnx").unlink()
    with pytest.raises(ModelUnavailable) as caught:
        load_embedder(replace(tiny_settings, path=folder), tmp_path)
    assert "model.onnx" in caught.value.message
    assert "tokenizer.json" not in caught.value.message
    assert str(folder) in caught.value.message


def test_broken_model_onnx(
    tiny_settings: ModelSettings, tiny_model_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "model.onnx").write_bytes(b"not an onnx graph")
    settings = replace(tiny_settings, name="acme/broken-copy", path=folder)
    with pytest.raises(ModelUnavailable) as caught:
        load_embedder(settings, tmp_path)
    assert "cannot load the model" in caught.value.message and str(folder) in caught.value.message


@pytest.mark.parametrize("path", [None, "local"])
def test_unknown_model_without_pooling_and_dim(tmp_path: Path, path: str | None) -> None:
    settings = ModelSettings(
        name="acme/mystery-embedder", path=None if path is None else tmp_path / path
    )
    with pytest.raises(ModelUnavailable) as caught:
        load_embedder(settings, tmp_path)
    assert "acme/mystery-embedder" in caught.value.message
    assert "pooling" in (caught.value.hint or "") and "dim" in (caught.value.hint or "")


def test_unknown_name_with_pooling_and_dim_but_no_path(tmp_path: Path) -> None:
    settings = ModelSettings(name="acme/mystery-embedder", pooling="mean", dim=64)
    with pytest.raises(ModelUnavailable) as caught:
        load_embedder(settings, tmp_path)
    assert "fastembed does not know" in caught.value.message
    assert not (tmp_path / MARKER).exists()


def test_disabled_model(tiny_settings: ModelSettings, tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="disabled"):
        load_embedder(replace(tiny_settings, enabled=False), tmp_path)


# --- the default model, offline -------------------------------------------------------------


def _network_reachable() -> bool:
    try:
        socket.getaddrinfo("huggingface.co", 443)
    except OSError:
        return False
    return True


@pytest.fixture
def count_downloads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count calls of memcli.embed._download (each call still runs the real one)."""
    calls: list[int] = []
    real = embed._download

    def counting(description, cache_dir):
        calls.append(1)
        return real(description, cache_dir)

    monkeypatch.setattr(embed, "_download", counting)
    monkeypatch.delenv("HF_HUB_ETAG_TIMEOUT", raising=False)  # _download sets it
    return calls


def test_offline_first_run_fails_fast_and_remembers(
    tmp_path: Path, count_downloads: list[int]
) -> None:
    if _network_reachable():
        pytest.skip("huggingface.co resolves: this test is about an offline first run")
    cache = tmp_path / "models"
    start = time.monotonic()
    with pytest.raises(ModelUnavailable) as caught:
        load_embedder(ModelSettings(), cache)
    assert time.monotonic() - start < 10
    assert count_downloads == [1]
    assert "cannot download" in caught.value.message
    assert "MEMCLI_MODEL_PATH" in (caught.value.hint or "")
    marker = cache / MARKER
    assert marker.is_file() and marker.read_text().strip()

    start = time.monotonic()
    with pytest.raises(ModelUnavailable) as again:
        load_embedder(ModelSettings(), cache)
    assert time.monotonic() - start < 2
    assert count_downloads == [1]  # no second network attempt
    assert "last download failed" in again.value.message


def _failing_download(calls: list[int]):
    def fail(description, cache_dir):
        calls.append(1)
        raise ConnectionError("no route to host")

    return fail


def test_failed_marker_blocks_retries_until_it_expires_or_is_forgotten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    monkeypatch.setattr(embed, "_download", _failing_download(calls))
    with pytest.raises(ModelUnavailable, match="no route to host"):
        load_embedder(ModelSettings(), tmp_path)
    marker = tmp_path / MARKER
    assert calls == [1] and "no route to host" in marker.read_text()
    for _ in range(3):
        with pytest.raises(ModelUnavailable, match="last download failed"):
            load_embedder(ModelSettings(), tmp_path)
    assert calls == [1]
    old = time.time() - DOWNLOAD_RETRY_SECONDS - 60
    os.utime(marker, (old, old))
    with pytest.raises(ModelUnavailable, match="cannot download"):
        load_embedder(ModelSettings(), tmp_path)
    assert calls == [1, 1]
    forget_failed_download(tmp_path)
    assert not marker.exists()
    with pytest.raises(ModelUnavailable, match="cannot download"):
        load_embedder(ModelSettings(), tmp_path)
    assert calls == [1, 1, 1]


def test_forget_failed_download_without_a_marker(tmp_path: Path) -> None:
    forget_failed_download(tmp_path / "never-created")
    assert not (tmp_path / "never-created").exists()
