from tests.support.keyrings import memory_keyring, no_keyring

__all__ = ["memory_keyring", "no_keyring"]
