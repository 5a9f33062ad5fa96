"""`memcli mcp`: the memory served to AI agents over the Model Context Protocol (stdio).

Only `memcli mcp` imports this package's server (and the `mcp` SDK, an optional extra:
pip install 'memcli[mcp]'); settings.py has no such import.
"""
