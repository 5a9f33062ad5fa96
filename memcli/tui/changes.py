"""The changes the TUI makes, each returning what to say and where the cursor goes next.

Plain blocking functions over a Browser (no textual): the main screen runs them in a worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from memcli.records import Memory
from memcli.textutil import tag_line
from memcli.tui.backend import Browser

Outcome = tuple[str, str | None]  # (what to say, the memory the cursor goes to)


@dataclass(frozen=True)
class Draft:
    """What the add/edit form returns: checked, ready for writing.add or writing.edit."""

    text: str
    tags: list[str]
    importance: int


def add(browser: Browser, draft: Draft) -> Outcome:
    result = browser.add(draft.text, draft.tags, draft.importance)
    memory_id = result.memory.id
    if result.status == "reinforced":
        return f"Already stored as {memory_id}: reinforced it, no copy added", memory_id
    return f"Added {memory_id}", memory_id


def edit(browser: Browser, memory: Memory, draft: Draft) -> Outcome:
    edited = browser.edit(memory, draft.text, draft.tags, draft.importance)
    return f"Saved {edited.id}", edited.id


def retag(browser: Browser, memory: Memory, tags: list[str]) -> Outcome:
    changed = browser.set_tags(memory, tags)
    shown = tag_line(changed.tags) or "none"
    return f"Tags of {changed.id}: {shown}", changed.id


def toggle_pin(browser: Browser, memory: Memory) -> Outcome:
    changed = browser.toggle_pin(memory)
    return f"{'Pinned' if changed.pinned else 'Unpinned'} {changed.id}", changed.id


def toggle_archive(
    browser: Browser, memory: Memory, showing_archived: bool, neighbour: str | None
) -> Outcome:
    """Archive or restore; the cursor stays on the memory while it is still listed."""
    changed = browser.toggle_archive(memory)
    if changed.state == "active":
        return f"Restored {changed.id}", changed.id
    if showing_archived:
        return f"Archived {changed.id}", changed.id
    return f"Archived {changed.id} (hidden while archived memories are off)", neighbour


def approve(browser: Browser, memory: Memory, neighbour: str | None) -> Outcome:
    """Approve an agent's memory; it leaves the review list, so the cursor moves on."""
    browser.approve(memory)
    return f"Approved {memory.id}", neighbour


def forget(browser: Browser, memory: Memory, neighbour: str | None) -> Outcome:
    count = browser.forget(memory)
    return (f"Forgot {memory.id}" if count else f"{memory.id} was already gone"), neighbour
