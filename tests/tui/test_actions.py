"""Every action key on the main screen, through the real store."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, TextArea

from memcli.store import events as event_log
from memcli.store.connection import open_store
from memcli.tui.screens.confirm import ConfirmScreen
from memcli.tui.screens.memory_form import MemoryForm
from memcli.tui.screens.tag_prompt import TagPrompt
from tests.tui.fixed_store import NOW, frozen_context
from tests.tui.helpers import (
    SIZE,
    main_screen,
    make_app,
    run_async,
    settle,
    shown_ids,
    started,
    stored,
)


def _events(memory_id: str) -> list[tuple[str, str | None]]:
    ctx = frozen_context()
    with open_store(ctx.settings.db_path, write=False) as store:
        return [(e.kind, e.detail) for e in event_log.events(store.con, memory_id)]


@run_async
async def test_add_through_the_form(store: Path) -> None:
    async with started() as pilot:
        app = pilot.app
        await pilot.press("ctrl+n")
        form = app.screen
        assert isinstance(form, MemoryForm)
        form.query_one("#text", TextArea).insert("the gate code is 4711")
        form.query_one("#tags", Input).value = "home #door"
        form.query_one("#importance", Input).value = "5"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is main_screen(app)
        new_id = shown_ids(app)[0]
        memory = stored(frozen_context(), new_id)
        assert memory is not None
        assert (memory.text, memory.tags, memory.importance) == (
            "the gate code is 4711",
            ["home", "door"],
            5,
        )
        assert memory.source == "tui" and memory.created_at == NOW
        assert main_screen(app).results.current is not None
        assert main_screen(app).results.current.memory.id == new_id


@run_async
async def test_add_form_refuses_empty_text_and_bad_tags_and_cancels(store: Path) -> None:
    async with started() as pilot:
        app = pilot.app
        await pilot.press("ctrl+n")
        form = app.screen
        assert isinstance(form, MemoryForm)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form  # still open
        assert "empty" in str(form.query_one("#error").render())
        form.query_one("#text", TextArea).insert("some text")
        form.query_one("#tags", Input).value = "ok b@d,"
        form.query_one("#importance", Input).value = ""
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert "importance" in str(form.query_one("#error").render())
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is main_screen(app)
        assert len(shown_ids(app)) == 9  # nothing was added


@run_async
async def test_edit_changes_text_tags_and_importance(store: Path) -> None:
    async with started("staging port") as pilot:
        app = pilot.app
        assert shown_ids(app)[0] == "stagdb01"
        await pilot.press("ctrl+e")
        form = app.screen
        assert isinstance(form, MemoryForm)
        area = form.query_one("#text", TextArea)
        assert area.text.startswith("staging database port is 6543")
        assert form.query_one("#tags", Input).value == "work db"
        area.text = "staging database port is 7000, user ro_reader"
        form.query_one("#tags", Input).value = "work db staging"
        form.query_one("#importance", Input).value = "2"
        await pilot.press("ctrl+s")
        await settle(pilot)
        memory = stored(frozen_context(), "stagdb01")
        assert memory is not None
        assert memory.text == "staging database port is 7000, user ro_reader"
        assert memory.tags == ["work", "db", "staging"] and memory.importance == 2
        kinds = [kind for kind, _ in _events("stagdb01")]
        assert "edited" in kinds and "tagged" in kinds
        detail = main_screen(app).detail
        assert detail.memory is not None and "7000" in detail.memory.text


@run_async
async def test_tag_prompt_replaces_the_tags(store: Path) -> None:
    async with started("staging port") as pilot:
        app = pilot.app
        await pilot.press("ctrl+t")
        prompt = app.screen
        assert isinstance(prompt, TagPrompt)
        tags = prompt.query_one("#tags", Input)
        assert tags.value == "work db"
        tags.value = "work ops #Urgent"
        await pilot.press("enter")
        await settle(pilot)
        memory = stored(frozen_context(), "stagdb01")
        assert memory is not None and memory.tags == ["work", "ops", "urgent"]
        await pilot.press("ctrl+t")  # typing adds to the tags shown (nothing is selected)
        await pilot.press("space", "x", "enter")
        await settle(pilot)
        memory = stored(frozen_context(), "stagdb01")
        assert memory is not None and memory.tags == ["work", "ops", "urgent", "x"]


@run_async
async def test_pin_and_unpin(store: Path) -> None:
    async with started("staging port") as pilot:
        app = pilot.app
        await pilot.press("ctrl+p")
        await settle(pilot)
        memory = stored(frozen_context(), "stagdb01")
        assert memory is not None and memory.pinned
        assert main_screen(app).results.current is not None
        assert main_screen(app).results.current.memory.pinned
        await pilot.press("ctrl+p")
        await settle(pilot)
        memory = stored(frozen_context(), "stagdb01")
        assert memory is not None and not memory.pinned
        assert [k for k, _ in _events("stagdb01")][-2:] == ["pinned", "unpinned"]


@run_async
async def test_archive_hides_and_restore_brings_back(store: Path) -> None:
    async with started("dentist") as pilot:
        app = pilot.app
        assert shown_ids(app)[0] == "dentist2"
        await pilot.press("ctrl+x")
        await settle(pilot)
        memory = stored(frozen_context(), "dentist2")
        assert memory is not None and memory.state == "archived"
        assert "dentist2" not in shown_ids(app)
        await pilot.press("ctrl+o")  # show archived memories
        await settle(pilot)
        assert shown_ids(app)[0] == "dentist2"
        await pilot.press("ctrl+x")  # restore
        await settle(pilot)
        memory = stored(frozen_context(), "dentist2")
        assert memory is not None and memory.state == "active"
        assert [k for k, _ in _events("dentist2")][-2:] == ["archived", "restored"]


@run_async
async def test_forget_asks_first_and_cancel_keeps_the_memory(store: Path) -> None:
    async with started("dentist") as pilot:
        app = pilot.app
        for cancel in ("n", "escape", "enter"):  # enter presses the focused Cancel button
            await pilot.press("ctrl+d")
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press(cancel)
            await settle(pilot)
            assert app.screen is main_screen(app)
            assert stored(frozen_context(), "dentist2") is not None


@run_async
async def test_forget_with_confirmation_deletes_it(store: Path) -> None:
    async with started("dentist") as pilot:
        app = pilot.app
        await pilot.press("ctrl+d")
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert "dentist2" in str(confirm.query_one("#question").render())
        await pilot.press("y")
        await settle(pilot)
        assert stored(frozen_context(), "dentist2") is None
        assert _events("dentist2") == []
        assert "dentist2" not in shown_ids(app)


@run_async
async def test_copy_puts_the_text_on_the_clipboard(store: Path) -> None:
    async with started("wifi password") as pilot:
        app = pilot.app
        await pilot.press("ctrl+y")
        assert app.clipboard == "home wifi password is correct-horse-battery"


@run_async
async def test_preview_does_not_reinforce_but_opening_does_once_a_day(store: Path) -> None:
    async with started("dentist") as pilot:
        app = pilot.app
        await pilot.press("down", "up")
        await settle(pilot)
        memory = stored(frozen_context(), "dentist2")
        assert memory is not None and memory.reinforcements == 0  # previewed only
        await pilot.press("enter")
        await settle(pilot)
        screen = main_screen(app)
        assert app.focused is screen.detail
        memory = stored(frozen_context(), "dentist2")
        assert memory is not None and memory.reinforcements == 1
        assert memory.reinforced_at == NOW
        assert screen.detail.memory is not None and screen.detail.memory.reinforcements == 1
        await pilot.press("escape")  # back to the search, not quit
        assert app.focused is screen.query_one("#search")
        await pilot.press("enter")
        await settle(pilot)
        memory = stored(frozen_context(), "dentist2")
        assert memory is not None and memory.reinforcements == 1  # at most once a day
        assert _events("dentist2").count(("reinforced", "shown")) == 1


@run_async
async def test_actions_without_a_memory_do_nothing(store_path: Path) -> None:
    app = make_app()  # no store at all yet
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert shown_ids(app) == []
        for key in ("ctrl+e", "ctrl+t", "ctrl+p", "ctrl+x", "ctrl+d", "ctrl+y", "enter"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is main_screen(app), key
        assert not store_path.exists()


@run_async
async def test_review_lists_what_agents_wrote_and_approve_lets_it_be_recalled(
    store: Path,
) -> None:
    import json

    from memcli.service.transfer import import_memories

    line = {
        "id": "agent001",
        "text": "the user prefers window seats on trains",
        "source": "mcp",
        "origin": "some-agent 2.0",
        "state": "pending",
        "created_at": "2025-03-19T10:00:00Z",
    }
    assert import_memories(frozen_context(), [json.dumps(line).encode()], skip_bad=False).imported
    async with started() as pilot:
        app = pilot.app
        assert "agent001" not in shown_ids(app)  # pending: not in the recent list
        await pilot.press("f4")  # only what agents wrote and nobody reviewed
        await settle(pilot)
        assert shown_ids(app) == ["agent001"] and main_screen(app).status.review
        shown = main_screen(app).detail
        assert shown.memory is not None and shown.memory.origin == "some-agent 2.0"
        await pilot.press("f5")  # approve
        await settle(pilot)
        assert shown_ids(app) == []
        assert main_screen(app).detail.memory is None
        memory = stored(frozen_context(), "agent001")
        assert memory is not None and memory.state == "active" and not memory.needs_review
        assert _events("agent001")[-1] == ("reviewed", "approved")
        await pilot.press("f4")
        await settle(pilot)
        assert "agent001" in shown_ids(app)
