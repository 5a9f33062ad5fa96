"""Checking and normalising memory text and tags before they are stored."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from memcli.errors import InvalidInput, UsageError

MAX_TAG_LENGTH = 64
_TAG_FORBIDDEN = re.compile(r"[\s,]")


def check_text(text: str, max_bytes: int, what: str = "the memory") -> str:
    """The text to store (surrounding whitespace trimmed), or InvalidInput."""
    if "\x00" in text:
        raise InvalidInput(f"{what} contains a NUL byte", "remove the NUL (\\0) characters")
    stripped = text.strip()
    if not stripped:
        raise InvalidInput(f"{what} is empty", 'give some text, e.g. memcli add "..."')
    size = len(stripped.encode("utf-8", errors="surrogatepass"))
    if size > max_bytes:
        raise InvalidInput(
            f"{what} is {size:,} bytes, over the limit of {max_bytes:,}",
            "split it into smaller notes, or raise store.max_text_bytes in the config",
        )
    if any(0xD800 <= ord(c) <= 0xDFFF for c in stripped):
        raise InvalidInput(f"{what} is not valid UTF-8 text", "convert it to UTF-8 first")
    return stripped


def decode_stdin(data: bytes, max_bytes: int) -> str:
    """Bytes read from stdin -> text, refusing invalid UTF-8 with the offending position."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"stdin is not valid UTF-8 (bad byte at offset {exc.start})",
            "convert the input to UTF-8 first (e.g. with iconv)",
        ) from None
    return check_text(text, max_bytes, "the text on stdin")


def normalized(text: str) -> str:
    """The form used to recognise exact duplicates: NFC, casefolded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def text_hash(text: str) -> str:
    return hashlib.sha256(normalized(text).encode("utf-8")).hexdigest()


def clean_tag(raw: str) -> str:
    """A tag as stored: trimmed, without a leading '#', lowercased."""
    tag = unicodedata.normalize("NFC", raw.strip().lstrip("#")).lower()
    if not tag:
        raise UsageError(f"empty tag {raw!r}", "tags are words such as work or db-creds")
    if _TAG_FORBIDDEN.search(tag) or "\x00" in tag:
        raise UsageError(f"tag {raw!r} contains a space or comma", "use one word per tag")
    if len(tag) > MAX_TAG_LENGTH:
        raise UsageError(f"tag {raw[:20]!r}... is over {MAX_TAG_LENGTH} characters")
    return tag


def clean_tags(raw: list[str]) -> list[str]:
    """Tags from repeated -t options, each possibly comma-separated; order kept, no repeats."""
    tags: list[str] = []
    for item in raw:
        for piece in item.split(","):
            if piece.strip() or "," not in item:
                tag = clean_tag(piece)
                if tag not in tags:
                    tags.append(tag)
    return tags
