"""Every key binding of the TUI, built from one table so that the footer, the help screen
and the `[tui.keys]` remapping (Textual's keymap, by binding id) always agree."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType

from memcli.tui.settings import DEFAULT_KEYS


@dataclass(frozen=True)
class KeySpec:
    action: str
    description: str
    tooltip: str
    show: bool = True
    priority: bool = False
    """Checked before the focused widget's own keys (see `bindings`)."""


SPECS: dict[str, KeySpec] = {
    "open": KeySpec(
        "open",
        "Open",
        "Open the highlighted memory: read it in the detail pane (counts as recalling it). "
        "With --pick: print its text and exit.",
    ),
    "add": KeySpec("add", "Add", "Add a memory: a form with its text, tags and importance."),
    "edit": KeySpec("edit", "Edit", "Edit the highlighted memory's text, tags and importance."),
    "tag": KeySpec("tag", "Tag", "Change the highlighted memory's tags."),
    "pin": KeySpec("pin", "Pin", "Pin or unpin the highlighted memory (pinned ones never fade)."),
    "archive": KeySpec(
        "archive",
        "Archive",
        "Archive the highlighted memory (hidden from search), or restore an archived one.",
    ),
    "forget": KeySpec(
        "forget",
        "Forget",
        "Forget the highlighted memory for good, after a confirmation.",
    ),
    "copy": KeySpec(
        "copy", "Copy", "Copy the highlighted memory's text to the clipboard (OSC 52 terminals)."
    ),
    "cycle_mode": KeySpec(
        "cycle_mode", "Mode", "Cycle the search mode: hybrid, keyword, semantic."
    ),
    "toggle_archived": KeySpec(
        "toggle_archived", "Archived", "Show or hide archived memories in the results."
    ),
    "toggle_review": KeySpec(
        "toggle_review",
        "Review",
        "Show only what agents wrote that you have not reviewed (as memcli review does).",
        show=False,
    ),
    "approve": KeySpec(
        "approve",
        "Approve",
        "Approve the highlighted agent-written memory (pending ones are then recalled).",
    ),
    "help": KeySpec("help", "Help", "Show every key."),
    "back": KeySpec(
        "back",
        "Quit",
        "Leave the detail pane, clear the search box, or quit (with --pick: quit without "
        "printing, exit status 1).",
    ),
    "quit": KeySpec("quit", "Quit", "Quit at once.", show=False),
    "cursor_down": KeySpec("cursor_down", "Down", "Next result.", show=False),
    "cursor_up": KeySpec("cursor_up", "Up", "Previous result.", show=False),
    "page_down": KeySpec("page_down", "Page down", "A page of results down.", show=False),
    "page_up": KeySpec("page_up", "Page up", "A page of results up.", show=False),
    "close": KeySpec("close", "Close", "Close the help."),
    "form_save": KeySpec("save", "Save", "Save the form.", priority=True),
    "form_cancel": KeySpec("cancel", "Cancel", "Close the form without saving."),
    "confirm_yes": KeySpec("confirm", "Yes", "Confirm."),
    "confirm_no": KeySpec("cancel", "No", "Cancel."),
}

# The footer's order: help and quit first, so that a narrow terminal still shows them.
MAIN_SCREEN = (
    "open",
    "help",
    "back",
    "add",
    "edit",
    "tag",
    "pin",
    "archive",
    "forget",
    "copy",
    "cycle_mode",
    "toggle_archived",
    "toggle_review",
    "approve",
    "cursor_down",
    "cursor_up",
    "page_down",
    "page_up",
)
APP = ("quit",)
HELP = ("close", "help")
FORM = ("form_save", "form_cancel")
CONFIRM = ("confirm_yes", "confirm_no")


def bindings(*binding_ids: str) -> list[BindingType]:
    """Textual bindings for these ids, with their default keys (the app's keymap remaps).

    The actions shown on the main screen's footer, and quit, are priority bindings: a key the
    user gives them in [tui.keys] (say ctrl+w) must win over the search input's use of it."""
    return [_binding(binding_id) for binding_id in binding_ids]


def _binding(binding_id: str) -> Binding:
    spec = SPECS[binding_id]
    main_action = spec.show and binding_id in MAIN_SCREEN
    return Binding(
        DEFAULT_KEYS[binding_id],
        spec.action,
        spec.description,
        show=spec.show,
        priority=spec.priority or main_action or binding_id in APP,
        tooltip=spec.tooltip,
        id=binding_id,
    )
