"""The `[mcp]` table of config.toml.

[mcp]
writes = "pending"     # "pending": held from recall until `memcli review` approves them;
                       # "active": recalled at once, marked as not reviewed
read_only = false      # true: recall, list and get only (memcli mcp --read-only too)
forget = "own"         # "own": agents forget only what agents wrote; "any": anything
recall_chars = 4000    # most characters of memory text one recall returns
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from memcli.config import Settings
from memcli.errors import ConfigError


@dataclass(frozen=True)
class McpSettings:
    writes: str = "pending"
    """Pending by default: an agent's note reaches later answers only once a person has read
    it, so one poisoned note (a planted "fact") cannot steer every later session."""
    read_only: bool = False
    forget: str = "own"
    recall_chars: int = 4000


def load_mcp_settings(settings: Settings, read_only: bool = False) -> McpSettings:
    raw = _mcp_table(settings)
    where = f"{settings.config_file}: [mcp]"
    writes = raw.get("writes", "pending")
    if writes not in ("pending", "active"):
        raise ConfigError(f'{where} writes must be "pending" or "active"')
    forget = raw.get("forget", "own")
    if forget not in ("own", "any"):
        raise ConfigError(f'{where} forget must be "own" or "any"')
    config_read_only = raw.get("read_only", False)
    if not isinstance(config_read_only, bool):
        raise ConfigError(f"{where} read_only must be true or false")
    chars = raw.get("recall_chars", 4000)
    if not isinstance(chars, int) or isinstance(chars, bool) or not 200 <= chars <= 200_000:
        raise ConfigError(f"{where} recall_chars must be an integer from 200 to 200000")
    return McpSettings(
        writes=str(writes),
        read_only=read_only or config_read_only,
        forget=str(forget),
        recall_chars=chars,
    )


def _mcp_table(settings: Settings) -> dict[str, object]:
    try:
        with settings.config_file.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {settings.config_file}: {exc}") from exc
    table = raw.get("mcp", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{settings.config_file}: [mcp] must be a table")
    return table
