"""The search line: Textual's Input without the keys the main screen's actions use."""

from __future__ import annotations

from dataclasses import replace

from textual.binding import Binding, BindingType
from textual.widgets import Input

from memcli.tui.bindings import MAIN_SCREEN
from memcli.tui.settings import DEFAULT_KEYS

# Input binds ctrl+e (end), ctrl+d (delete right), ctrl+x (cut) and enter (submit); here they
# open, edit, archive and forget. Dropping them from the input (rather than overriding them
# with priority bindings) keeps the footer in the order of memcli.tui.bindings. The plain
# keys (end, delete, home) still edit the query.
_TAKEN = {key for binding_id in MAIN_SCREEN for key in DEFAULT_KEYS[binding_id].split(",")}


def _without_taken(bindings: list[BindingType]) -> list[BindingType]:
    kept: list[BindingType] = []
    for binding in bindings:
        assert isinstance(binding, Binding)
        keys = [k for k in binding.key.split(",") if k.strip() not in _TAKEN]
        if keys:
            kept.append(replace(binding, key=",".join(keys)))
    return kept


class SearchInput(Input, inherit_bindings=False):
    """Type to search; every other key belongs to the main screen."""

    BINDINGS = _without_taken(Input.BINDINGS)
