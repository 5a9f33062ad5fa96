"""Secrets memcli handles: the encryption keys of stores (OS keyring or MEMCLI_KEY)."""
