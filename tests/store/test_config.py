"""memcli.config.load_settings: paths, the config file and environment overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from memcli.config import (
    CONFIG_FILENAME,
    DEFAULT_MODEL,
    STORE_FILENAME,
    ModelSettings,
    load_settings,
)
from memcli.errors import ConfigError


@pytest.fixture
def home(memcli_home: Path) -> Path:
    """MEMCLI_HOME with no config file (the autouse fixture writes the tiny model's)."""
    (memcli_home / CONFIG_FILENAME).unlink()
    return memcli_home


def _config(home: Path, text: str) -> Path:
    path = home / CONFIG_FILENAME
    path.write_text(text, encoding="utf-8")
    return path


def test_memcli_home_holds_store_config_and_models(home: Path) -> None:
    settings = load_settings()
    assert settings.home == home
    assert settings.config_file == home / CONFIG_FILENAME
    assert settings.cache_dir == home / "models"
    assert settings.db_path == home / STORE_FILENAME
    assert settings.model == ModelSettings()
    assert settings.model.name == DEFAULT_MODEL and settings.model.enabled
    assert settings.lock_timeout == 10.0
    assert settings.max_text_bytes == 65536


def test_memcli_home_expands_the_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("MEMCLI_HOME", "~/memhome")
    assert load_settings().db_path == tmp_path / "memhome" / STORE_FILENAME


def test_db_option_overrides_everything(home: Path, tmp_path: Path) -> None:
    _config(home, '[store]\npath = "/elsewhere/x.duckdb"\n')
    assert load_settings(tmp_path / "other.duckdb").db_path == tmp_path / "other.duckdb"
    assert load_settings().db_path == Path("/elsewhere/x.duckdb")


def test_config_model_table(home: Path, tmp_path: Path) -> None:
    _config(
        home,
        f'[model]\nname = "acme/tiny"\npath = "{tmp_path / "m"}"\npooling = "cls"\ndim = 48\n'
        "[store]\nlock_timeout = 2.5\nmax_text_bytes = 1000\n",
    )
    settings = load_settings()
    assert settings.model == ModelSettings(
        name="acme/tiny", path=tmp_path / "m", pooling="cls", dim=48, enabled=True
    )
    assert settings.lock_timeout == 2.5
    assert settings.max_text_bytes == 1000


def test_model_can_be_disabled(home: Path) -> None:
    _config(home, "[model]\nenabled = false\n")
    assert load_settings().model.enabled is False


def test_environment_overrides_the_model(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config(home, '[model]\nname = "from/config"\npath = "/from/config"\n')
    monkeypatch.setenv("MEMCLI_MODEL", "from/env")
    monkeypatch.setenv("MEMCLI_MODEL_PATH", str(tmp_path / "env-model"))
    model = load_settings().model
    assert model.name == "from/env"
    assert model.path == tmp_path / "env-model"


def test_model_path_env_expands_the_user(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("MEMCLI_MODEL_PATH", "~/models/mini")
    assert load_settings().model.path == tmp_path / "models" / "mini"


def test_empty_environment_values_are_ignored(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _config(home, '[model]\nname = "from/config"\n')
    for name in ("MEMCLI_MODEL", "MEMCLI_MODEL_PATH", "MEMCLI_LOCK_TIMEOUT"):
        monkeypatch.setenv(name, "")
    settings = load_settings()
    assert settings.model.name == "from/config" and settings.model.path is None
    assert settings.lock_timeout == 10.0


@pytest.mark.parametrize(
    "text",
    ["[model\nname = 'x'\n", "name = \n", "[model]\nname = 'a'\nname = 'b'\n", "\x00"],
)
def test_bad_toml_names_the_file(home: Path, text: str) -> None:
    path = _config(home, text)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(path) in caught.value.message
    assert caught.value.hint


def test_config_that_is_not_utf8_is_a_config_error(home: Path) -> None:
    path = home / CONFIG_FILENAME
    path.write_bytes(b'[model]\nname = "\xff\xfe"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(path) in caught.value.message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[model]\npooling = "max"\n', "model.pooling"),
        ("[model]\npooling = 1\n", "model.pooling"),
        ('[model]\npooling = "MEAN"\n', "model.pooling"),
        ("[model]\ndim = 0\n", "dim"),
        ("[model]\ndim = -384\n", "dim"),
        ('[model]\ndim = "384"\n', "dim"),
        ("[model]\ndim = 3.5\n", "dim"),
        ("[model]\ndim = true\n", "dim"),
        ('[model]\nname = ""\n', "model.name"),
        ("[model]\nname = 3\n", "model.name"),
        ('[model]\nenabled = "no"\n', "model.enabled"),
        ("[model]\npath = 7\n", "model.path"),
        ('model = "x"\n', "[model]"),
        ('store = ["x"]\n', "[store]"),
        ("[store]\npath = 1\n", "store.path"),
        ("[store]\nlock_timeout = -1\n", "store.lock_timeout"),
        ('[store]\nlock_timeout = "10"\n', "store.lock_timeout"),
        ("[store]\nlock_timeout = true\n", "store.lock_timeout"),
        ("[store]\nmax_text_bytes = 0\n", "max_text_bytes"),
    ],
)
def test_bad_values_are_config_errors(home: Path, text: str, key: str) -> None:
    path = _config(home, text)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(path) in caught.value.message
    assert key in caught.value.message


@pytest.mark.parametrize(("raw", "value"), [("0", 0.0), ("2", 2.0), ("0.25", 0.25), (" 3 ", 3.0)])
def test_lock_timeout_from_the_environment(
    home: Path, monkeypatch: pytest.MonkeyPatch, raw: str, value: float
) -> None:
    _config(home, "[store]\nlock_timeout = 7\n")
    monkeypatch.setenv("MEMCLI_LOCK_TIMEOUT", raw)
    assert load_settings().lock_timeout == value


@pytest.mark.parametrize("raw", ["soon", "10s", "-1", "1,5"])
def test_bad_lock_timeout_env_is_a_config_error(
    home: Path, monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("MEMCLI_LOCK_TIMEOUT", raw)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "MEMCLI_LOCK_TIMEOUT" in caught.value.message


@pytest.mark.parametrize(
    ("env", "toml"), [("nan", None), ("NaN", None), (None, "[store]\nlock_timeout = nan\n")]
)
def test_nan_lock_timeout_is_a_config_error(
    home: Path, monkeypatch: pytest.MonkeyPatch, env: str | None, toml: str | None
) -> None:
    if env is not None:
        monkeypatch.setenv("MEMCLI_LOCK_TIMEOUT", env)
    if toml is not None:
        _config(home, toml)
    with pytest.raises(ConfigError):
        load_settings()
