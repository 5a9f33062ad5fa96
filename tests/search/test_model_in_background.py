"""A hybrid recall loads the model on another thread while it opens the store and runs the
keyword channel (memcli.service.context.Context.embedder_loading); what it returns, raises
and prints stays what loading first gave."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import memcli.service.context as context_module
from memcli.config import load_settings
from memcli.embed import Embedder
from memcli.errors import ModelUnavailable
from memcli.service.context import Context
from tests.cli.helpers import add, add_fillers

WORKER = "memcli-model"


def workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == WORKER]


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The thread of every load_embedder call a Context makes."""
    threads: list[str] = []
    real = context_module.load_embedder

    def spy(*args: Any) -> Embedder:
        threads.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(context_module, "load_embedder", spy)
    return threads


def test_the_model_loads_on_another_thread(loads: list[str]) -> None:
    ctx = Context(load_settings())
    with ctx.embedder_loading() as wait:
        embedder = wait()
        assert wait() is embedder  # waiting again gives the same model
    assert embedder is not None and embedder is ctx.embedder()
    assert loads == [WORKER]
    assert not workers()


def test_a_loaded_model_is_not_loaded_again(loads: list[str]) -> None:
    ctx = Context(load_settings())
    embedder = ctx.embedder()
    with ctx.embedder_loading() as wait:
        assert wait() is embedder
    assert loads == ["MainThread"]


def test_a_missing_model_gives_none_and_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMCLI_MODEL_PATH", str(tmp_path))  # an empty folder
    ctx = Context(load_settings())
    with ctx.embedder_loading() as wait:
        assert wait() is None
    assert ctx.model_error is not None and str(tmp_path) in ctx.model_error.message


def test_an_unexpected_error_is_raised_on_the_callers_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: Any) -> Embedder:
        raise RuntimeError("onnxruntime fell over")

    monkeypatch.setattr(context_module, "load_embedder", broken)
    ctx = Context(load_settings())
    with ctx.embedder_loading() as wait, pytest.raises(RuntimeError, match="fell over"):
        wait()
    assert not workers()


def test_leaving_the_block_early_waits_for_the_thread(
    loads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = context_module.load_embedder

    def slow(*args: Any) -> Embedder:
        time.sleep(0.3)
        return real(*args)

    monkeypatch.setattr(context_module, "load_embedder", slow)
    ctx = Context(load_settings())
    with pytest.raises(ValueError, match="the store is busy"), ctx.embedder_loading():
        raise ValueError("the store is busy")
    assert not workers()
    assert ctx.model_error is None and ctx.embedder() is not None  # it finished loading


def test_a_model_to_download_is_loaded_before_the_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A download could take minutes: the store must not be open (locked) meanwhile.
    events: list[tuple[str, str]] = []

    def offline(*args: Any) -> Embedder:
        events.append(("load", threading.current_thread().name))
        raise ModelUnavailable("cannot download the model: offline")

    monkeypatch.setattr(context_module, "load_embedder", offline)
    settings = load_settings()
    named = replace(settings.model, name="sentence-transformers/all-MiniLM-L6-v2", path=None)
    ctx = Context(replace(settings, model=named, cache_dir=tmp_path / "empty-cache"))
    with ctx.embedder_loading() as wait:
        events.append(("block", threading.current_thread().name))
        assert wait() is None
    assert events == [("load", "MainThread"), ("block", "MainThread")]


def test_hybrid_recall_without_a_model_or_store_says_so_once(
    cli, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMCLI_MODEL_PATH", str(tmp_path))
    result = cli("--json", "recall", "plumber")
    assert result.code == 0, result
    assert result.json() == []
    assert result.stderr.count("keyword search only") == 1, result
    assert not store_path.exists()


def test_semantic_recall_without_a_model_is_an_error_with_or_without_a_store(
    cli, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMCLI_MODEL_PATH", str(tmp_path))
    for _ in range(2):
        result = cli("recall", "plumber", "--mode", "semantic")
        assert result.code == 1, result
        assert "semantic search needs the embedding model" in result.stderr, result
        add(cli, "the plumber comes on tuesday")


def test_hybrid_recall_finds_by_meaning_and_words_with_the_model_loading_meanwhile(
    cli, loads: list[str]
) -> None:
    add_fillers(cli)
    plumber = add(cli, "the plumber comes on tuesday")
    loads.clear()
    for mode in ("hybrid", "keyword", "semantic"):
        result = cli("--json", "recall", "plumber tuesday", "--mode", mode)
        assert result.code == 0, result
        assert result.json()[0]["id"] == plumber, (mode, result)
    # The CLI makes one Context per command: hybrid loads on the worker, semantic before
    # the store opens, keyword not at all.
    assert loads == [WORKER, "MainThread"]
