"""Searching as you type: results, the detail pane, modes, archived memories, stale answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memcli.tui.backend import Browser
from memcli.tui.messages import SearchDone
from tests.tui.fixed_store import frozen_context
from tests.tui.helpers import (
    main_screen,
    run_async,
    set_query,
    settle,
    shown_ids,
    started,
    type_query,
)


@run_async
async def test_empty_query_lists_recent_active_memories(store: Path) -> None:
    async with started() as pilot:
        app = pilot.app
        ids = shown_ids(app)
        assert ids[:3] == ["milk0007", "dentist2", "stagdb01"]
        assert "oldvpn66" not in ids and len(ids) == 9
        screen = main_screen(app)
        assert screen.status.recent and screen.status.count == 9
        assert screen.detail.memory is not None and screen.detail.memory.id == "milk0007"


@run_async
async def test_typing_a_query_shows_the_best_match_first_with_its_detail(store: Path) -> None:
    async with started() as pilot:
        app = pilot.app
        await type_query(pilot, "staging port")
        assert shown_ids(app)[0] == "stagdb01"
        detail = main_screen(app).detail
        assert detail.memory is not None and detail.memory.id == "stagdb01"
        assert detail.events is not None and [e.kind for e in detail.events]


@run_async
async def test_mode_key_cycles_hybrid_keyword_semantic(store: Path) -> None:
    async with started() as pilot:
        app = pilot.app
        # "automobile" is not in any memory; the tiny model makes it a synonym of "car".
        await set_query(pilot, "automobile")
        screen = main_screen(app)
        assert screen.status.mode == "hybrid" and shown_ids(app)[:1] == ["carserv5"]
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert screen.status.mode == "keyword" and screen.status.ran == "keyword"
        assert shown_ids(app) == []
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert screen.status.mode == "semantic" and screen.status.ran == "semantic"
        assert shown_ids(app)[:1] == ["carserv5"]
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert screen.status.mode == "hybrid"
        assert "hybrid" in str(screen.status.render())


@run_async
async def test_archived_key_shows_archived_memories_too(store: Path) -> None:
    async with started("vpn server address") as pilot:
        app = pilot.app
        assert "oldvpn66" not in shown_ids(app)
        await pilot.press("ctrl+o")
        await settle(pilot)
        screen = main_screen(app)
        assert screen.status.archived and "active + archived" in str(screen.status.render())
        assert shown_ids(app)[0] == "oldvpn66"
        await set_query(pilot, "")
        assert len(shown_ids(app)) == 10  # the recent list includes it as well
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert len(shown_ids(app)) == 9


@run_async
async def test_answers_to_an_older_query_are_dropped(store: Path) -> None:
    async with started("dentist") as pilot:
        app = pilot.app
        screen = main_screen(app)
        stale = screen.browser.search("wifi password", "hybrid", archived=False)
        assert stale is not None
        screen.post_message(SearchDone(screen.generation - 1, stale))
        await settle(pilot)
        assert shown_ids(app)[0] == "dentist2"
        screen.post_message(SearchDone(screen.generation, stale))
        await settle(pilot)
        assert shown_ids(app)[0] == "wifipass"


def test_a_search_no_longer_wanted_is_skipped(store: Path) -> None:
    browser = Browser(frozen_context())
    assert browser.search("dentist", "keyword", False, wanted=lambda: False) is None
    found = browser.search("dentist", "keyword", False, wanted=lambda: True)
    assert found is not None and found.rows[0].memory.id == "dentist2"


@run_async
async def test_typing_fast_shows_the_last_query_only(store: Path) -> None:
    async with started() as pilot:
        app = pilot.app
        screen = main_screen(app)
        first = screen.generation
        await pilot.press(*"wifi")
        await pilot.press("backspace", "backspace", "backspace", "backspace")
        await type_query(pilot, "dentist")
        assert screen.generation == first + 15  # one search per keystroke...
        assert shown_ids(app)[0] == "dentist2"  # ...and only the last one's answer shown
        assert screen.status.count == len(shown_ids(app)) and not screen.status.busy


@run_async
async def test_another_process_can_write_while_the_tui_is_open(
    store: Path, memcli_proc: Any
) -> None:
    async with started("dentist") as pilot:
        app = pilot.app
        # MEMCLI_LOCK_TIMEOUT=0: the add fails at once if the TUI holds the store.
        added = memcli_proc(
            "add", "the kayak is stored in the garage", env={"MEMCLI_LOCK_TIMEOUT": "0"}
        )
        assert added.code == 0, added
        await set_query(pilot, "kayak")
        assert shown_ids(app)[0] == added.stdout.strip()


def test_an_older_value_of_a_newer_hit_is_dimmed(store: Path) -> None:
    """The browser's search marks the stale candidates of memcli.search.conflicts, and the
    list draws them dimmed."""
    from datetime import timedelta

    from memcli.service.writing import add
    from memcli.tui.widgets.result_list import row_text
    from tests.tui.fixed_store import NOW

    ctx = frozen_context()
    old = add(ctx, "Bob's phone 555-1234", tags=[], at=NOW - timedelta(days=90)).memory
    new = add(ctx, "Bob's phone is now 555-9876", tags=[], at=NOW - timedelta(days=2)).memory
    found = Browser(frozen_context()).search("Bob's phone", "hybrid", False)
    assert found is not None
    rows = {row.memory.id: row for row in found.rows}
    assert rows[old.id].stale and not rows[new.id].stale
    assert [str(span.style) for span in row_text(rows[old.id]).spans] == ["dim"]
    assert row_text(rows[new.id]).spans == []


@run_async
async def test_a_narrow_terminal_gives_the_list_the_width_and_keeps_help_in_the_footer(
    store: Path,
) -> None:
    """80x24: a row shows its text (not 15 characters), Enter shows the memory in the
    list's place and Esc brings the list back; the footer still shows f1 Help."""
    from textual.widgets import Footer

    from memcli.tui.app import MemcliApp
    from memcli.tui.screens.memory_form import MemoryForm
    from tests.tui.helpers import make_app

    app: MemcliApp = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        assert screen.has_class("narrow")
        assert screen.results.size.width >= 76 and not screen.detail.display
        shown = [k for k, active in screen.active_bindings.items() if active.binding.show]
        assert screen.query_one(Footer) and shown.index("f1") < 3  # before the footer is cut
        await pilot.press("enter")
        await settle(pilot)
        assert screen.detail.display and not screen.results.display
        await pilot.press("escape")
        await settle(pilot)
        assert screen.results.display and not screen.detail.display
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, MemoryForm)
        importance = form.query_one("#importance")
        assert importance.region.bottom <= 24  # on screen, not below it


@run_async
async def test_the_word_being_typed_is_finished_from_the_stored_words(store: Path) -> None:
    """Keyword mode, so that only exact words can match: "dentis" finds the dentist note
    before the word is complete, and a space ends the word as typed."""
    async with started() as pilot:
        app = pilot.app
        await pilot.press("ctrl+r")  # keyword
        await settle(pilot)
        await set_query(pilot, "dentis")
        assert shown_ids(app)[:1] == ["dentist2"]
        await set_query(pilot, "dentis ")
        assert shown_ids(app) == []


def test_words_finish_only_an_unfinished_last_word() -> None:
    from memcli.service.browse import Words

    words = Words({"coffee": 3, "cofounder": 1, "take": 2, "my": 5})
    assert words.finish("how do i take my cof") == "how do i take my coffee"  # most frequent
    assert words.finish("take my cofo") == "take my cofounder"
    assert words.finish("take") == "take"  # a stored word as it is
    assert words.finish("take my cof ") == "take my cof "  # a space ends the word
    assert words.finish("c") == "c" and words.finish("zzz") == "zzz"
