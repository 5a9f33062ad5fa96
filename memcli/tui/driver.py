"""The terminal driver: Textual's, measuring the terminal it actually draws on.

Textual draws on stderr, which keeps stdout free for `memcli tui --pick`, but it asks
`shutil.get_terminal_size()` for the size, which reads COLUMNS/LINES and then stdout. Under
`$(memcli tui --pick)` stdout is a pipe, so every screen would be drawn at 80x24 whatever the
real size. This driver asks stderr first.
"""

from __future__ import annotations

import os

from textual.drivers.linux_driver import LinuxDriver


class TerminalDriver(LinuxDriver):
    def _get_terminal_size(self) -> tuple[int, int]:
        try:
            size = os.get_terminal_size(self._file.fileno())  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            return super()._get_terminal_size()
        return size.columns or 80, size.lines or 25
