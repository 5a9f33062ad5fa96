"""Memory ids: 8 random lowercase Crockford base32 characters, typeable and unambiguous."""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # no i, l, o, u: easy to read aloud and type
ID_LENGTH = 8
MIN_PREFIX = 4
# Imported ids may come from elsewhere; accept any short, shell-safe token.
_VALID_ID = re.compile(r"[0-9a-z][0-9a-z_-]{3,63}")


def new_id() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(ID_LENGTH))


def is_valid_id(text: str) -> bool:
    return _VALID_ID.fullmatch(text) is not None
