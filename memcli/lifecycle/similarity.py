"""When two memories are one: near duplicates and updates, decided without an LLM.

A memory is read as a *subject* (its words, stemmed by the search tokenizer, and its
identifiers: a token with a digit that starts with a letter or '#', such as OPS-1423, u182,
S3 or #4521, names a thing) and its *values* (the other tokens holding a digit, e-mail
addresses and URLs: numbers, phone numbers, IPs, dates, times, ports, versions such as
v2.3.1, quantities such as 3pm or 16GB). Two memories then relate in one of three ways:

- **near duplicate**: the same subject and the same values, and the vectors agree
  (cosine >= NEAR_DUPLICATE_COSINE). "Staging DB: port 6543." and "staging db port 6543"
  fold into one memory.
- **update**: the same subject, different values, the newer one holding at least as many
  values as the older (so nothing the older said is lost), and the vectors agree
  (cosine >= UPDATE_COSINE). "Alice's phone is 555-1234" is superseded by "Alice's phone
  number is now 555-9876". When the only values that differ are dates or times, the newer
  memory must also say that something changed ("moved", "now", "rescheduled"...): two
  meetings on two dates are two facts, a meeting moved to another date is one.
- **unrelated**: anything else.

"The same subject" means the same set of words and identifiers once values and change words
are set aside, and both memories negated or neither: a wrong merge hides a fact, a missed
one only leaves a duplicate, so the rules lean to precision. Alice's and Bob's numbers differ
in a word of the subject and never merge; "call Alice about OPS-1234" and "call Alice about
OPS-5678" are two tasks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from memcli.search.tokenizer import tokenize

NEAR_DUPLICATE_COSINE = 0.90
UPDATE_COSINE = 0.75
# The lowest cosine at which a pair is worth a closer (lexical) look.
CANDIDATE_COSINE = min(NEAR_DUPLICATE_COSINE, UPDATE_COSINE)

_VALUE = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail address
    r"|[a-z][a-z0-9+.-]*://\S+"  # URL
    r"|[^\s,;()\[\]{}\"]*\d[^\s,;()\[\]{}\"]*",  # anything with a digit
    re.IGNORECASE,
)
# A token with a digit that is still a value although it starts with a letter: a version
# (v2.3.1), or an e-mail address or URL.
_VERSION = re.compile(r"^v\d+(\.\d+)*$", re.IGNORECASE)
_IDENTIFIER_START = re.compile(r"^[^\W\d_#]|^#", re.UNICODE)
_DATE_OR_TIME = re.compile(
    r"^(\d{4}-\d{1,2}(-\d{1,2})?|\d{1,2}[/.]\d{1,2}([/.]\d{2,4})?|\d{1,2}:\d{2}(:\d{2})?"
    r"|\d{1,2}(st|nd|rd|th)|\d{1,2}(am|pm))$",
    re.IGNORECASE,
)
# Words that announce a change; they are not part of the subject.
CHANGE_WORDS = frozenset(
    {
        *("now", "new", "newly", "changed", "change", "changes", "moved", "move", "moves"),
        *("updated", "update", "rescheduled", "postponed", "instead", "anymore", "longer"),
        *("switched", "replaced", "became", "becomes", "currently", "current", "latest"),
        *("actually", "corrected", "correction"),
    }
)
_NEGATIONS = frozenset(
    {"not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without", "cannot"}
)
# The same words as the search tokenizer stems them ("changed" -> "chang").
_CHANGE_TERMS = CHANGE_WORDS | {term for word in CHANGE_WORDS for term in tokenize(word)}
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


@dataclass(frozen=True)
class Reading:
    """A memory as consolidation sees it."""

    subject: frozenset[str]
    values: frozenset[str]
    negated: bool
    announces_change: bool


def read(text: str) -> Reading:
    found = [v for v in map(_normal_value, _VALUE.findall(text)) if v]
    identifiers = {v for v in found if _is_identifier(v)}
    values = frozenset(v for v in found if v not in identifiers)
    rest = _VALUE.sub(" ", text)
    words = [w.lower() for w in _WORD.findall(rest)]
    subject = frozenset(
        term for term in tokenize(rest) if term not in _CHANGE_TERMS and not term.isdigit()
    ) | frozenset(identifiers)
    return Reading(
        subject=subject,
        values=values,
        negated=any(w in _NEGATIONS or w.endswith("n't") for w in words),
        announces_change=any(w in CHANGE_WORDS for w in words),
    )


def _is_identifier(token: str) -> bool:
    return (
        bool(_IDENTIFIER_START.match(token))
        and not _VERSION.match(token)
        and "@" not in token
        and "://" not in token
    )


def _normal_value(raw: str) -> str:
    return raw.strip(".:!?'").casefold()


def relation(older: Reading, newer: Reading, cosine: float | None) -> str | None:
    """'near-duplicate', 'update' or None for a pair of memories, older first.

    `cosine` is the similarity of their vectors; None (one of them has no vector yet) means
    no verdict: both the words and the vectors must agree."""
    if cosine is None:
        return None
    if not older.subject or older.subject != newer.subject or older.negated != newer.negated:
        return None
    if older.values == newer.values:
        return "near-duplicate" if cosine >= NEAR_DUPLICATE_COSINE else None
    if cosine < UPDATE_COSINE:
        return None
    if not older.values or len(newer.values) < len(older.values):
        return None
    changed = older.values ^ newer.values
    if all(_DATE_OR_TIME.match(v) for v in changed) and not newer.announces_change:
        return None
    return "update"
