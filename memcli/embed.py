"""The boundary to fastembed: load the embedding model, embed documents and queries.

fastembed is imported only inside `load_embedder` (it costs ~0.4 s), so commands that never
embed never pay for it. Every failure to load becomes ModelUnavailable, which callers turn
into keyword-only search with a notice.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from memcli.config import ModelSettings
from memcli.errors import ModelUnavailable
from memcli.paths import private_dirs

DOWNLOAD_RETRY_SECONDS = 3600  # after a failed download, wait this long before trying again
_FAILED_MARKER = ".download-failed"
_REQUIRED_FILES = ("model.onnx", "tokenizer.json", "config.json")


@dataclass(frozen=True)
class ModelInfo:
    """What memcli needs to know about a model that fastembed does not say."""

    pooling: str
    dim: int
    query_prefix: str = ""


KNOWN_MODELS: dict[str, ModelInfo] = {
    "sentence-transformers/all-MiniLM-L6-v2": ModelInfo("mean", 384),
    "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2": ModelInfo("mean", 384),
    "BAAI/bge-small-en-v1.5": ModelInfo(
        "cls", 384, "Represent this sentence for searching relevant passages: "
    ),
    "BAAI/bge-base-en-v1.5": ModelInfo(
        "cls", 768, "Represent this sentence for searching relevant passages: "
    ),
}

# Chunking keeps each piece within the model's window (256 word pieces for MiniLM), using a
# cautious estimate of word pieces: one per CJK character or symbol, and for other text one
# per word plus one per 4 characters (identifiers and long words split into several pieces).
CHUNK_TOKENS = 200
CHUNK_OVERLAP_TOKENS = 24
_LONG_WORD = 48


def _token_cost(word: str) -> int:
    wide = sum(1 for c in word if ord(c) >= 0x2E80)
    narrow = len(word) - wide
    return wide + (1 + narrow // 4 if narrow else 0)


def chunk_text(text: str) -> list[str]:
    """Split a memory into overlapping pieces that each fit the model; short texts stay whole."""
    words: list[str] = []
    for word in text.split():
        words.extend(word[i : i + _LONG_WORD] for i in range(0, len(word), _LONG_WORD))
    if not words:
        return [text]
    costs = [_token_cost(w) for w in words]
    chunks: list[str] = []
    start = 0
    while True:
        end, budget = start, CHUNK_TOKENS
        while end < len(words) and (end == start or costs[end] <= budget):
            budget -= costs[end]
            end += 1
        chunks.append(" ".join(words[start:end]))
        if end >= len(words):
            return chunks
        # Overlap: the last words of this chunk (about CHUNK_OVERLAP_TOKENS, at most a
        # quarter of the chunk) start the next one; always one word when the chunk has 2+.
        back, overlap = end, 0
        limit = max(CHUNK_OVERLAP_TOKENS, min(costs[end - 1], CHUNK_TOKENS // 4))
        while back > start + 1 and end - back < max((end - start) // 4, 1):
            if overlap + costs[back - 1] > limit:
                break
            overlap += costs[back - 1]
            back -= 1
        start = max(back, start + 1)


class Embedder:
    """A loaded model: `embed_documents` for memories, `embed_query` for queries."""

    def __init__(self, model: Any, name: str, info: ModelInfo) -> None:
        self._model = model
        self.name = name
        self.dim = info.dim
        self._query_prefix = info.query_prefix

    def embed_documents(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Unit vectors, one row per text, in input order."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Sorting by length keeps batches of similar length: fastembed pads to the longest.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        embedded = self._model.embed([texts[i] for i in order], batch_size=batch_size)
        for position, vector in zip(order, embedded, strict=True):
            vectors[position] = vector
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        vector: np.ndarray = self.embed_documents([self._query_prefix + text])[0]
        return vector


def model_info(settings: ModelSettings) -> ModelInfo:
    """Pooling and dimension: the config's values, else the known-model table."""
    known = KNOWN_MODELS.get(settings.name)
    pooling = settings.pooling or (known.pooling if known else None)
    dim = settings.dim or (known.dim if known else None)
    if pooling is None or dim is None:
        raise ModelUnavailable(
            f"memcli does not know the pooling and dimension of model {settings.name!r}",
            "set [model] pooling ('mean' or 'cls') and dim in the config file",
        )
    return ModelInfo(pooling, dim, known.query_prefix if known else "")


_LOADED: dict[tuple[ModelSettings, Path], Embedder] = {}


def load_embedder(settings: ModelSettings, cache_dir: Path) -> Embedder:
    """Load the configured model (local folder, cache, or a one-time download).

    A loaded model is kept for the life of the process (the TUI and the test suite load it
    once, not once per action)."""
    if not settings.enabled:
        raise ModelUnavailable("the embedding model is disabled in the config file")
    key = (settings, cache_dir)
    if key not in _LOADED:
        info = model_info(settings)
        _quiet_fastembed()
        if settings.path is not None:
            model = _load_local(settings, info)
        else:
            model = _load_cached_or_download(settings.name, cache_dir)
        _LOADED[key] = Embedder(model, settings.name, info)
    return _LOADED[key]


def _quiet_fastembed() -> None:
    # fastembed logs download retries through loguru; memcli reports failures itself.
    try:
        from loguru import logger

        logger.disable("fastembed")
    except ImportError:  # pragma: no cover - loguru is a fastembed dependency
        pass


def _load_local(settings: ModelSettings, info: ModelInfo) -> Any:
    folder = settings.path
    assert folder is not None
    missing = [name for name in _REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise ModelUnavailable(
            f"the model folder {folder} lacks {', '.join(missing)}",
            "point MEMCLI_MODEL_PATH (or [model] path) at a folder with the model's ONNX export",
        )
    from fastembed import TextEmbedding
    from fastembed.common.model_description import ModelSource, PoolingType

    alias = f"memcli-local/{settings.name}"
    registered = {m["model"] for m in TextEmbedding.list_supported_models()}
    if alias not in registered:
        TextEmbedding.add_custom_model(
            model=alias,
            pooling=PoolingType.MEAN if info.pooling == "mean" else PoolingType.CLS,
            normalization=True,
            sources=ModelSource(hf=alias),
            dim=info.dim,
            model_file="model.onnx",
        )
    try:
        return TextEmbedding(alias, specific_model_path=str(folder))
    except Exception as exc:  # onnxruntime and tokenizers raise many kinds
        raise ModelUnavailable(
            f"cannot load the model in {folder}: {_short(exc)}",
            "check that the folder holds a working ONNX export of the configured model",
        ) from exc


def _load_cached_or_download(name: str, cache_dir: Path) -> Any:
    from fastembed import TextEmbedding

    supported = {m["model"]: m for m in TextEmbedding.list_supported_models()}
    if name not in supported:
        raise ModelUnavailable(
            f"fastembed does not know the model {name!r}",
            "pick a model fastembed supports, or set [model] path to a local ONNX folder",
        )
    private_dirs(cache_dir)  # before fastembed creates it with the default mode
    try:
        return TextEmbedding(name, cache_dir=str(cache_dir), local_files_only=True)
    except Exception:
        pass  # not cached yet: download below
    marker = cache_dir / _FAILED_MARKER
    if marker.exists() and time.time() - marker.stat().st_mtime < DOWNLOAD_RETRY_SECONDS:
        raise ModelUnavailable(
            f"the model {name} is not downloaded yet and the last download failed: "
            f"{marker.read_text(errors='replace').strip()}",
            "connect to the internet and run memcli doctor, or set MEMCLI_MODEL_PATH",
        )
    try:
        _download(supported[name], cache_dir)
        model = TextEmbedding(name, cache_dir=str(cache_dir), local_files_only=True)
    except Exception as exc:
        private_dirs(cache_dir)
        marker.write_text(_short(exc) + "\n")
        raise ModelUnavailable(
            f"cannot download the model {name}: {_short(exc)}",
            "connect to the internet and run memcli doctor, or set MEMCLI_MODEL_PATH",
        ) from exc
    marker.unlink(missing_ok=True)
    return model


def _download(description: dict[str, Any], cache_dir: Path) -> None:
    """One download attempt with short timeouts (fastembed's own retries take ~40 s)."""
    import sys

    from huggingface_hub import snapshot_download

    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "10")
    private_dirs(cache_dir)
    repo = description["sources"]["hf"]
    # The model's one name, as every other message gives it (`repo` is only where it is).
    name = description.get("model", repo)
    print(f"memcli: downloading the embedding model {name} (once)...", file=sys.stderr)
    patterns = [
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        description["model_file"],
        *description.get("additional_files", []),
    ]
    snapshot_download(repo_id=repo, cache_dir=str(cache_dir), allow_patterns=patterns)


def forget_failed_download(cache_dir: Path) -> None:
    """Let the next load try the download again (used by `memcli doctor`)."""
    (cache_dir / _FAILED_MARKER).unlink(missing_ok=True)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
