"""Tokenizer for the BM25 index.

Notes and queries go through the same `tokenize`, so every choice made here
(folding, splitting, stemming) applies to both sides alike: a query matches a
note exactly when they share a term.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from itertools import chain

# Stored alongside the index: a different value means stored terms must be rebuilt.
TOKENIZER_VERSION: int = 1

# Longer runs are hashes, base64 blobs or minified junk that nobody searches for.
MAX_TOKEN_LEN = 64

# Function words in the spirit of the NLTK/Lucene English lists. Left out on purpose,
# because they carry meaning in notes: negation (no, not, nor and "dont"-style
# contractions) and state words (up, down, off), plus "may" and "us" (May, US).
_STOPWORD_TEXT = """
    a an the this that these those
    i me my myself we our ours ourselves you your yours yourself yourselves
    he him his himself she her hers herself it its itself
    they them their theirs themselves what which who whom whose
    am is are was were be been being have has had having do does did doing
    will would shall should can could might must
    of at by for with about against between into through during before after
    above below to from in out on over under
    and but or if because as until while than so then
    again further once here there when where why how
    all any both each few more most other some such only own same too very just now
    s t
"""
STOPWORDS: frozenset[str] = frozenset(_STOPWORD_TEXT.split())

# Scripts whose combining marks are vowel signs or viramas rather than accents:
# dropping them would turn one word into another (Hindi, Thai, kana voicing).
_KANA = (0x3040, 0x30FF)  # U+3099 after か spells が: a voicing mark, not an accent
_KEEP_MARKS = (
    (0x0900, 0x10FF),  # Indic scripts, Sinhala, Thai, Lao, Tibetan, Myanmar
    (0x1700, 0x1C4F),  # Philippine scripts, Khmer, Mongolian, Tai, Balinese, Lepcha
    _KANA,
    (0xA800, 0xABFF),  # Brahmic extensions (Syloti Nagri ... Meetei Mayek)
)

_HANGUL = "\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7ff"
_HAN = "\u3005-\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_CJK = _HAN + _HANGUL + "\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff"  # no U+30A0/30FB
# Runs that may hold combining marks: ASCII, Han and Hangul (even decomposed) have
# none, so the per-character accent loop can skip them.
_MAY_HAVE_MARKS_RE = re.compile(rf"[^\x00-\x7f{_HAN}{_HANGUL}]+")
# Invisible format characters that sit inside words (soft hyphen from web pages,
# ZWJ/ZWNJ in Indic text and emoji sequences, BOM): removed so words stay whole.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200c\u200d\u2060\ufeff"))


def _word_marks() -> str:
    """Char-class ranges of the combining marks that may continue a word."""
    ranges: list[list[int]] = []
    for lo, hi in (block for block in _KEEP_MARKS if block != _KANA):  # kana: CJK class
        for cp in range(lo, hi + 1):
            if unicodedata.category(chr(cp)) not in ("Mn", "Mc"):
                continue
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    # Ranges, not single chars: a long list of literals makes every match slow.
    return "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in ranges)


_JOINERS = r"[-_./:@]+"
# ASCII-only text (most notes) skips the Unicode machinery; same result as _token_re().
_ASCII_WORD_RE = re.compile(rf"[A-Za-z0-9]+(?:{_JOINERS}[A-Za-z0-9]+)*")
# A letter/digit run, excluding "_" (a joiner) and CJK (bigrammed instead).
_SEG = rf"[^\W_{_CJK}]+(?:[{_word_marks()}]+[^\W_{_CJK}]*)*"
_TOKEN_PATTERN = (
    rf"(?P<word>{_SEG}(?:{_JOINERS}{_SEG})*)"
    rf"|(?P<cjk>[{_CJK}]+)"
    r"|(?P<flag>[\U0001F1E6-\U0001F1FF]{2})"  # regional-indicator pair = one flag
    r"|(?P<sym>[^\s\w\x00-\x7f])"  # candidate emoji; ASCII holds none
)


@lru_cache(maxsize=1)
def _token_re() -> re.Pattern[str]:
    """The Unicode tokenizer, compiled on first use (10-30 ms: most notes never need it)."""
    return re.compile(_TOKEN_PATTERN)


_JOINERS_RE = re.compile(_JOINERS)
# Clitics that only add a pronoun/auxiliary ("caroline's", "we'll") are dropped;
# other apostrophes join ("don't" -> "dont") so negation survives as one term.
# The apostrophe leads each pattern so the regex engine can skip ahead to it.
_CLITIC_RE = re.compile(r"['\u2019](?<=[^\W_].)(?:s|ll|re|ve|d|m)\b", re.IGNORECASE)
_APOSTROPHE_RE = re.compile(r"['\u2019](?<=[^\W_].)(?=[^\W_])")
_CAMEL_PART_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_ACRONYM_PLURAL_RE = re.compile(r"[A-Z]{2,}s")  # "URLs" is a word, not "UR" + "Ls"


def tokenize(text: str) -> list[str]:
    """Split text into index terms, in text order, duplicates kept for term frequency."""
    if not text.isascii():
        text = _normalize(text)
    if "'" in text or "\u2019" in text:  # RIGHT SINGLE QUOTATION MARK, the curly one
        text = _APOSTROPHE_RE.sub("", _CLITIC_RE.sub("", text))
    if text.isascii():
        return list(chain.from_iterable(map(_word_terms, _ASCII_WORD_RE.findall(text))))
    tokens: list[str] = []
    for match in _token_re().finditer(text):
        kind, value = match.lastgroup, match.group()
        if kind == "word":
            tokens.extend(_word_terms(value))
        elif kind == "cjk":
            tokens.extend(_bigrams(value))
        elif kind == "flag" or unicodedata.category(value) == "So":
            tokens.append(value)
    return tokens


def _normalize(text: str) -> str:
    """NFKC, then drop accents; case is kept so camelCase can still be split.

    Casefolding happens per term later; folding the text before the accent strip
    would only differ for the Greek iota subscript, which is dropped like an accent.
    """
    text = unicodedata.normalize("NFKC", text.translate(_INVISIBLE))
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    stripped = _MAY_HAVE_MARKS_RE.sub(lambda run: "".join(_drop_accents(run[0])), decomposed)
    return unicodedata.normalize("NFC", stripped)


def _drop_accents(chars: str) -> Iterator[str]:
    """Yield chars minus nonspacing marks, except marks that are part of a letter."""
    base = ""  # a mark with no base inside the run follows ASCII, Han or Hangul
    for ch in chars:
        if unicodedata.category(ch) != "Mn":
            base = ch
            yield ch
        elif base > "\u08ff" and _marks_are_letters(ord(base)):
            yield ch


def _marks_are_letters(code_point: int) -> bool:
    return any(lo <= code_point <= hi for lo, hi in _KEEP_MARKS)


def _bigrams(run: str) -> list[str]:
    """CJK has no spaces: overlapping bigrams match words without a dictionary."""
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


@lru_cache(maxsize=1 << 16)
def _word_terms(raw: str) -> tuple[str, ...]:
    """Terms for one word or compound: the whole compound, then each part."""
    segments = _JOINERS_RE.split(raw)
    if len(segments) == 1:
        return tuple(_segment_terms(raw))
    # The whole is kept unstemmed so an exact identifier query ranks it first.
    terms = _bounded(raw.casefold())
    for segment in segments:
        terms.extend(_segment_terms(segment))
    return tuple(terms)


def _segment_terms(segment: str) -> list[str]:
    parts = _camel_parts(segment)
    if parts is None:
        return _plain_term(segment.casefold())
    terms = _bounded(segment.casefold())
    for part in parts:
        terms.extend(_plain_term(part.lower()))
    return terms


def _camel_parts(segment: str) -> list[str] | None:
    """Pieces of a camelCase/PascalCase segment, or None for an ordinary word."""
    if not segment.isascii() or _ACRONYM_PLURAL_RE.fullmatch(segment):
        return None
    has_inner_upper = segment[1:] != segment[1:].lower()
    has_lower = segment != segment.upper()
    if not (has_inner_upper and has_lower):
        return None
    return _CAMEL_PART_RE.findall(segment)


def _bounded(term: str) -> list[str]:
    return [term] if len(term) <= MAX_TOKEN_LEN else []


def _plain_term(word: str) -> list[str]:
    """Drop stopwords and overlong words; stem ASCII words (stems are English-only)."""
    if word in STOPWORDS or len(word) > MAX_TOKEN_LEN:
        return []
    if len(word) >= 4 and word.isascii() and word.isalpha():
        word = _stem(word)
    return [word]


def _stem(word: str) -> str:
    """Porter steps 1a and 1b: plurals and -ed/-ing, the safe part of Porter."""
    return _step1b(_step1a(word))


def _step1a(word: str) -> str:
    if word.endswith(("sses", "ies")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _step1b(word: str) -> str:
    if word.endswith("eed"):
        # Porter stops here even when m == 0: "feed" must not lose its "ed".
        return word[:-1] if _measure(_cv(word[:-3])) > 0 else word
    for suffix in ("ed", "ing"):
        if word.endswith(suffix) and "v" in _cv(stem := word[: -len(suffix)]):
            return _repair_stem(stem)
    return word


def _repair_stem(stem: str) -> str:
    """Undo damage from removing -ed/-ing: conflat -> conflate, hopp -> hop, fil -> file."""
    if stem.endswith(("at", "bl", "iz")):
        return stem + "e"
    pattern = _cv(stem)
    if len(stem) >= 2 and stem[-1] == stem[-2] and pattern[-1] == "c":
        return stem if stem[-1] in "lsz" else stem[:-1]
    if _measure(pattern) == 1 and pattern.endswith("cvc") and stem[-1] not in "wxy":
        return stem + "e"
    return stem


def _cv(word: str) -> str:
    """Consonant/vowel pattern; "y" is a vowel when it follows a consonant."""
    out: list[str] = []
    for i, ch in enumerate(word):
        vowel = ch in "aeiou" or (ch == "y" and i > 0 and out[-1] == "c")
        out.append("v" if vowel else "c")
    return "".join(out)


def _measure(pattern: str) -> int:
    """Porter's m: the number of vowel-run/consonant-run pairs, [C](VC)^m[V]."""
    # Each vowel-to-consonant transition closes one VC pair; "vc" never overlaps itself.
    return pattern.count("vc")
