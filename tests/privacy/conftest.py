from tests.store.test_store import umask_022
from tests.support.keyrings import memory_keyring, no_keyring

__all__ = ["memory_keyring", "no_keyring", "umask_022"]
