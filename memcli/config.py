"""Where memcli keeps things, and the settings a user can change.

Paths: `MEMCLI_HOME` (if set) holds the store, the config file and the model cache, so tests
and experiments never touch the real home. Otherwise the platformdirs locations are used.

Settings come from `config.toml` (in MEMCLI_HOME or the platformdirs config dir), and a few
environment variables override them: MEMCLI_MODEL, MEMCLI_MODEL_PATH, MEMCLI_LOCK_TIMEOUT.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from memcli.errors import ConfigError

APP_NAME = "memcli"
STORE_FILENAME = "memcli.duckdb"
CONFIG_FILENAME = "config.toml"
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


@dataclass(frozen=True)
class ModelSettings:
    """Which embedding model to use and how to read its output."""

    name: str = DEFAULT_MODEL
    """fastembed model name; vectors are stored under this name."""
    path: Path | None = None
    """A local folder with model.onnx and tokenizer files (offline machines)."""
    pooling: str | None = None
    """'mean' or 'cls'; None takes it from the known-model table."""
    dim: int | None = None
    """Vector dimension; None takes it from the known-model table."""
    enabled: bool = True
    """False turns the semantic channel off entirely (keyword search only)."""


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about its environment."""

    home: Path
    """Folder of the default store."""
    config_file: Path
    """The config file that was (or would be) read."""
    cache_dir: Path
    """Where downloaded models are kept."""
    db_path: Path
    """The store file (--db overrides it)."""
    model: ModelSettings = field(default_factory=ModelSettings)
    lock_timeout: float = 10.0
    """Seconds to keep retrying while another process holds the store."""
    max_text_bytes: int = 65536
    """Largest memory accepted, in UTF-8 bytes; longer texts are chunked for embedding."""


def _home_dirs() -> tuple[Path, Path, Path]:
    """(data dir, config dir, cache dir), honouring MEMCLI_HOME."""
    home = os.environ.get("MEMCLI_HOME")
    if home:
        root = Path(home).expanduser()
        return root, root, root / "models"
    # Imported here: platformdirs costs a few ms and only this function needs it.
    import platformdirs

    return (
        Path(platformdirs.user_data_dir(APP_NAME)),
        Path(platformdirs.user_config_dir(APP_NAME)),
        Path(platformdirs.user_cache_dir(APP_NAME)) / "models",
    )


def load_settings(db: Path | None = None) -> Settings:
    """Read the config file and environment; `db` is the --db option."""
    data_dir, config_dir, cache_dir = _home_dirs()
    config_file = config_dir / CONFIG_FILENAME
    raw = _read_toml(config_file)
    store_raw = _table(raw, "store", config_file)
    model_raw = _table(raw, "model", config_file)

    db_path = db or _path_value(store_raw.get("path"), "store.path", config_file)
    model = ModelSettings(
        name=os.environ.get("MEMCLI_MODEL") or _str(model_raw, "name", config_file, DEFAULT_MODEL),
        path=_model_path(model_raw, config_file),
        pooling=_pooling(model_raw, config_file),
        dim=_positive_int(model_raw, "model.dim", config_file),
        enabled=_bool(model_raw, "enabled", config_file, True),
    )
    return Settings(
        home=data_dir,
        config_file=config_file,
        cache_dir=cache_dir,
        db_path=(db_path or data_dir / STORE_FILENAME).expanduser(),
        model=model,
        lock_timeout=_lock_timeout(store_raw, config_file),
        max_text_bytes=_positive_int(store_raw, "store.max_text_bytes", config_file) or 65536,
    )


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", "fix or remove the config file") from exc


def _table(raw: dict[str, object], key: str, path: Path) -> dict[str, object]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{key}] must be a table", "see README.md, Configuration")
    return value


def _bad(path: Path, key: str, expected: str) -> ConfigError:
    return ConfigError(f"{path}: {key} must be {expected}", "see README.md, Configuration")


def _str(raw: dict[str, object], key: str, path: Path, default: str) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise _bad(path, f"model.{key}", "a non-empty string")
    return value


def _bool(raw: dict[str, object], key: str, path: Path, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise _bad(path, f"model.{key}", "true or false")
    return value


def _positive_int(raw: dict[str, object], key: str, path: Path) -> int | None:
    value = raw.get(key.split(".")[-1])
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise _bad(path, key, "a positive integer")
    return value


def _path_value(value: object, key: str, path: Path) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise _bad(path, key, "a path")
    return Path(value).expanduser()


def _model_path(raw: dict[str, object], path: Path) -> Path | None:
    env = os.environ.get("MEMCLI_MODEL_PATH")
    if env:
        return Path(env).expanduser()
    return _path_value(raw.get("path"), "model.path", path)


def _pooling(raw: dict[str, object], path: Path) -> str | None:
    value = raw.get("pooling")
    if value is None:
        return None
    if value not in ("mean", "cls"):
        raise _bad(path, "model.pooling", "'mean' or 'cls'")
    return str(value)


def _lock_timeout(raw: dict[str, object], path: Path) -> float:
    env = os.environ.get("MEMCLI_LOCK_TIMEOUT")
    if env:
        try:
            value = float(env)
        except ValueError:
            raise ConfigError(
                f"MEMCLI_LOCK_TIMEOUT={env!r} is not a number of seconds",
                "set it to e.g. 10, or unset it",
            ) from None
        if not math.isfinite(value) or value < 0:
            raise ConfigError(
                "MEMCLI_LOCK_TIMEOUT must be a finite, non-negative number", "set it to e.g. 10"
            )
        return value
    value_raw = raw.get("lock_timeout", 10.0)
    if (
        not isinstance(value_raw, int | float)
        or isinstance(value_raw, bool)
        or not math.isfinite(value_raw)
        or value_raw < 0
    ):
        raise _bad(path, "store.lock_timeout", "a number of seconds")
    return float(value_raw)
