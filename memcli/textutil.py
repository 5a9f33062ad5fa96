"""Checking and normalising memory text and tags before they are stored, and making stored
text safe to show on a terminal."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from memcli.errors import InvalidInput, UsageError

MAX_TAG_LENGTH = 64
MAX_TAGS = 64  # per memory: tags are for finding, not a second text
_TAG_HINT = "tags are words such as work or db-creds"
_TAG_FORBIDDEN = re.compile(r"[\s,]")
# What a terminal would act on rather than show: C0 and C1 controls and DEL (ESC starts the
# sequences that retitle a window or clear the screen, CR and BS overwrite what was shown),
# bidirectional overrides and isolates (they reorder what a reader sees), and line and
# paragraph separators. Zero-width joiners stay: emoji sequences need them.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNSAFE_KEEPING_LINES = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


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
    """A tag as stored: trimmed, without a leading '#', lowercased. Messages quote the raw tag
    with repr(), which escapes what a terminal would act on."""
    if any(0xD800 <= ord(c) <= 0xDFFF for c in raw):
        # A command-line byte that is not UTF-8 arrives as a lone surrogate.
        raise UsageError(f"tag {raw!r} is not valid UTF-8", _TAG_HINT)
    tag = unicodedata.normalize("NFC", raw.strip().lstrip("#")).lower()
    if not tag:
        raise UsageError(f"empty tag {raw!r}", _TAG_HINT)
    if _TAG_FORBIDDEN.search(tag):
        raise UsageError(f"tag {raw!r} contains a space or comma", "use one word per tag")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cn") for c in tag):
        raise UsageError(
            f"tag {raw!r} contains a control or invisible character",
            _TAG_HINT,
        )
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
    return check_tag_count(tags)


def check_tag_count(tags: list[str]) -> list[str]:
    if len(tags) > MAX_TAGS:
        raise UsageError(
            f"{len(tags)} tags, over the limit of {MAX_TAGS} for one memory",
            "keep a few tags that you will search by",
        )
    return tags


# What an agent's text may not bring in: characters that hide text from a person reviewing
# it (zero-width spaces and joiners, word joiner, BOM, bidirectional controls, soft hyphen)
# and control characters other than newline and tab (terminal escapes).
_HIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)


def strip_hidden(text: str) -> str:
    """`text` without what a reviewing person could not see (see _HIDDEN); CRLF -> LF."""
    return _HIDDEN.sub("", text.replace("\r\n", "\n"))


def tag_line(tags: list[str]) -> str:
    """Tags as people read them, "#work #db", safe to show (see printable)."""
    return printable(" ".join(f"#{t}" for t in tags))


def printable(text: str, keep_lines: bool = False) -> str:
    """`text` as a terminal may show it: every character a terminal would act on (see
    _UNSAFE) written as an escape such as \\x1b, so stored text can never retitle a window,
    clear the screen or hide what precedes it. `keep_lines` keeps newlines and tabs (a
    memory shown in full); CRLF line ends become plain newlines."""
    if keep_lines:
        return _UNSAFE_KEEPING_LINES.sub(_escape, text.replace("\r\n", "\n"))
    return _UNSAFE.sub(_escape, text)


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
