"""The DuckDB store: connections, migrations and all of memcli's SQL."""
