"""`memcli tui`: the Textual terminal browser (imported only by the tui command)."""
