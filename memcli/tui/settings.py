"""The TUI's part of config.toml: the `[tui]` table and its `[tui.keys]` remapping.

    [tui]
    limit = 50              # rows in the result list
    debounce_ms = 40        # pause after a keystroke before searching

    [tui.keys]              # binding id = key(s), e.g.
    add = "ctrl+b"
    forget = "f8,ctrl+d"

The ids are listed by the help screen (F1) and in README.md. This module does not import
textual, so a bad config file is reported before the terminal is taken over.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field

from memcli.config import Settings
from memcli.errors import ConfigError

# Every remappable binding id with its default key(s). The bindings themselves are built
# from this table (memcli.tui.bindings), so a key shown in the README is the key used.
DEFAULT_KEYS: dict[str, str] = {
    "open": "enter",
    "add": "ctrl+n",
    "edit": "ctrl+e",
    "tag": "ctrl+t",
    "pin": "ctrl+p",
    "archive": "ctrl+x",
    "forget": "ctrl+d",
    "copy": "ctrl+y",
    "cycle_mode": "ctrl+r",
    "toggle_archived": "ctrl+o",
    "toggle_review": "f4",
    "approve": "f5",
    "help": "f1",
    "back": "escape",
    "quit": "ctrl+q",
    "cursor_down": "down",
    "cursor_up": "up",
    "page_down": "pagedown",
    "page_up": "pageup",
    "close": "escape",
    "form_save": "ctrl+s",
    "form_cancel": "escape",
    "confirm_yes": "y",
    "confirm_no": "n,escape",
}

_KEY = re.compile(r"^[^\s,]+(,[^\s,]+)*$")


@dataclass(frozen=True)
class TuiSettings:
    """How the terminal browser behaves."""

    limit: int = 50
    """Rows shown in the result list (searches and the recent list alike)."""
    debounce_ms: int = 40
    """Milliseconds to wait after a keystroke before searching (typing cancels the wait)."""
    keys: dict[str, str] = field(default_factory=dict)
    """Binding id -> key(s), only the ones the user changed (Textual's keymap)."""

    def key_for(self, binding_id: str) -> str:
        """The key(s) a binding answers to, after the user's remapping."""
        return self.keys.get(binding_id, DEFAULT_KEYS[binding_id])


def load_tui_settings(settings: Settings) -> TuiSettings:
    """Read `[tui]` from the config file that `settings` came from; ConfigError when bad."""
    path = settings.config_file
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        return TuiSettings()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", "fix or remove the config file") from exc
    table = raw.get("tui", {})
    if not isinstance(table, dict):
        raise _bad(path, "[tui]", "a table")
    unknown = sorted(set(table) - {"limit", "debounce_ms", "keys"})
    if unknown:
        raise _bad(path, f"tui.{unknown[0]}", "one of limit, debounce_ms, keys")
    return TuiSettings(
        limit=_int(table, "limit", 50, 1, 1000, path),
        debounce_ms=_int(table, "debounce_ms", 40, 0, 2000, path),
        keys=_keys(table.get("keys", {}), path),
    )


def _bad(path: object, key: str, expected: str) -> ConfigError:
    return ConfigError(f"{path}: {key} must be {expected}", "see README.md, Terminal UI")


def _int(
    table: dict[str, object], key: str, default: int, low: int, high: int, path: object
) -> int:
    value = table.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _bad(path, f"tui.{key}", f"a whole number from {low} to {high}")
    return value


def _keys(raw: object, path: object) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise _bad(path, "[tui.keys]", "a table of binding id = key")
    keys: dict[str, str] = {}
    for binding_id, value in raw.items():
        if binding_id not in DEFAULT_KEYS:
            raise ConfigError(
                f"{path}: tui.keys.{binding_id} is not a binding id",
                f"use one of: {', '.join(DEFAULT_KEYS)}",
            )
        if not isinstance(value, str) or not _KEY.fullmatch(value.strip()):
            raise _bad(path, f"tui.keys.{binding_id}", 'a key such as "ctrl+b" or "f2,ctrl+b"')
        keys[binding_id] = value.strip()
    _check_clashes(keys, path)
    return keys


# Bindings that are active at the same time (the main screen's); a key may be reused across
# groups, e.g. escape both leaves a form and quits the main screen.
_GROUPS = (
    tuple(k for k in DEFAULT_KEYS if not k.startswith(("form_", "confirm_", "close"))),
    ("close", "help"),
    ("form_save", "form_cancel"),
    ("confirm_yes", "confirm_no"),
)


def _check_clashes(keys: dict[str, str], path: object) -> None:
    for group in _GROUPS:
        owner: dict[str, str] = {}
        for binding_id in group:
            for key in keys.get(binding_id, DEFAULT_KEYS[binding_id]).split(","):
                if key in owner:
                    raise ConfigError(
                        f"{path}: tui.keys gives {key!r} to both {owner[key]} and {binding_id}",
                        "give each binding its own key",
                    )
                owner[key] = binding_id
