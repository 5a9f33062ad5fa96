"""The model loads in a worker: keyword search until then, and for good when it is missing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from memcli.tui.backend import Browser, ModelState
from tests.tui.helpers import (
    SIZE,
    main_screen,
    make_app,
    run_async,
    set_query,
    settle,
    shown_ids,
    started,
)


@run_async
async def test_first_screen_does_not_wait_for_the_model(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()
    load = Browser.load_model

    def slow_load(self: Browser) -> str:
        assert gate.wait(30)
        return load(self)

    monkeypatch.setattr(Browser, "load_model", slow_load)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, but="model")
        screen = main_screen(app)
        assert len(shown_ids(app)) == 9  # the recent list is there already
        assert screen.status.model == ModelState.LOADING
        assert "loading the model: keyword search" in str(screen.status.render())
        await set_query(pilot, "automobile", but="model")  # keywords find nothing
        assert screen.status.ran == "keyword" and shown_ids(app) == []
        gate.set()
        await settle(pilot)
        assert screen.status.model == ModelState.READY
        assert "loading" not in str(screen.status.render())
        assert screen.status.ran == "hybrid" and shown_ids(app)[0] == "carserv5"


@run_async
async def test_without_a_model_search_runs_on_keywords_and_says_so(
    store: Path, memcli_home: Path
) -> None:
    (memcli_home / "config.toml").write_text(f'[model]\npath = "{memcli_home / "no-model"}"\n')
    async with started() as pilot:
        app = pilot.app
        screen = main_screen(app)
        assert screen.status.model == ModelState.UNAVAILABLE
        status = str(screen.status.render())
        assert "keyword search only" in status and "no-model" in status
        await set_query(pilot, "dentist appointment")
        assert screen.status.ran == "keyword" and shown_ids(app)[0] == "dentist2"
        await pilot.press("ctrl+r", "ctrl+r")  # semantic: still answered, by keywords
        await settle(pilot)
        assert screen.status.mode == "semantic" and screen.status.ran == "keyword"
        assert shown_ids(app)[0] == "dentist2"


@run_async
async def test_model_turned_off_in_the_config(store: Path, memcli_home: Path) -> None:
    with (memcli_home / "config.toml").open("a") as config:
        config.write("enabled = false\n")
    async with started() as pilot:
        app = pilot.app
        screen = main_screen(app)
        assert screen.status.model == ModelState.DISABLED
        assert "model.enabled = false" in str(screen.status.render())
        await set_query(pilot, "staging port")
        assert shown_ids(app)[0] == "stagdb01"
