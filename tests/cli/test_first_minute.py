"""What a new user sees in the first minute, with no model reachable."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest


@pytest.fixture
def no_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "no-model"
    empty.mkdir()
    monkeypatch.setenv("MEMCLI_MODEL_PATH", str(empty))


def test_the_first_note_is_found_again_without_a_model(cli, no_model) -> None:
    added = cli("add", "first note without a model")
    assert added.code == 0
    assert "model" in added.stderr
    for mode in ("hybrid", "keyword"):
        found = cli("--json", "recall", "first note", "--mode", mode)
        assert found.code == 0
        assert [hit["text"] for hit in found.json()] == ["first note without a model"]


def test_two_notes_rank_the_better_keyword_match_first(cli, no_model) -> None:
    # With one or two notes BM25's idf is 0 or negative; coverage must still rank them.
    cli("add", "dentist appointment on friday")
    cli("add", "call the garage about the car")
    found = cli("--json", "recall", "dentist friday", "--mode", "keyword").json()
    assert [hit["text"] for hit in found] == ["dentist appointment on friday"]


def test_a_new_home_is_owner_only(cli, no_model, tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "fresh" / "home"
    monkeypatch.setenv("MEMCLI_HOME", str(home))
    monkeypatch.delenv("MEMCLI_MODEL_PATH")  # the default model: its download fails here
    monkeypatch.setattr("memcli.embed._download", _offline)
    assert cli("add", "a private note").code == 0
    for folder in (home, home.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE((home / "memcli.duckdb").stat().st_mode) == 0o600


def _offline(description: object, cache_dir: Path) -> None:
    raise OSError("network is unreachable")
