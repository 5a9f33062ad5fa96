"""When two memories are one: near duplicates and updates, decided without an LLM.

A memory is read as a *subject* (its words, stemmed by the search tokenizer, and its
identifiers, which name a thing: a token with a digit that starts with a letter or '#', such
as OPS-1423, u182, S3 or #4521; a number after a noun that names things by number, such as
invoice 1042, server 3, room 12 or flat 4b; a number inside the part of a statement before
its verb, as in "port 22 is open"; and a code that starts with digits, such as 221b or
3f9a) and its *values* (the other tokens holding a digit, e-mail addresses and URLs:
numbers, phone numbers, IPs, dates, times, ports, versions such as v2.3.1, quantities such
as 3pm or 16GB). Two memories then relate in one of three ways:

- **near duplicate**: the same subject and the same values, and the vectors agree
  (cosine >= NEAR_DUPLICATE_COSINE). "Staging DB: port 6543." and "staging db port 6543"
  fold into one memory.
- **update**: the same subject, different values, the newer one holding at least as many
  values as the older (so nothing the older said is lost), and the vectors agree
  (cosine >= UPDATE_COSINE). "Alice's phone is 555-1234" is superseded by "Alice's phone
  number is now 555-9876". When the only values that differ are dates or times, the newer
  memory must also say that something changed ("moved", "now", "rescheduled"...): two
  meetings on two dates are two facts, a meeting moved to another date is one.
- **announced update**: people write updates the way they talk ("Tom has a new number:
  555-0199, the old one is dead", "Moved! New address: 12 Elm Street", "Reorg: my new lead
  is Priya"), so the words differ more than the values. The newer memory announces a change
  (a change word), names everyone the older one names (its names before the verb or colon,
  and owners such as "Alice's"), holds the same identifiers, and replaces the values: a
  number, address or link, or a name after the verb or colon (Marcus -> Priya), holding at
  least as many as the older one (so nothing it said is lost). Then either the
  vectors agree (cosine >= ANNOUNCED_COSINE), or both are short statements that share a
  word of their subject besides names and values and the vectors are not unrelated (cosine
  >= SHORT_COSINE): names weigh so much in a sentence's vector that "my team lead is
  Marcus" and "Reorg: my new lead is Priya" hardly agree.
- **unrelated**: anything else.

"The same subject" means the same set of words and identifiers once values and change words
are set aside, and both memories negated or neither: a wrong merge hides a fact, a missed
one only leaves a duplicate, so the rules lean to precision. Alice's and Bob's numbers differ
in a word of the subject and never merge; "call Alice about OPS-1234" and "call Alice about
OPS-5678" are two tasks, and so are "invoice 1042 is paid" and "invoice 1043 is paid".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from memcli.search.tokenizer import STOPWORDS, tokenize

NEAR_DUPLICATE_COSINE = 0.90
UPDATE_COSINE = 0.75
ANNOUNCED_COSINE = 0.6
SHORT_COSINE = 0.25
SHORT_WORDS = 30  # a short statement, not a conversation or a document
# The lowest cosine at which a pair is worth a closer (lexical) look.
CANDIDATE_COSINE = min(NEAR_DUPLICATE_COSINE, UPDATE_COSINE, ANNOUNCED_COSINE, SHORT_COSINE)

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
# Where a statement's subject ends and what it says of it begins: "X is Y", "X: Y", "X = Y".
_PREDICATE = re.compile(r"\b(?:is|are|was|were|am)\b|[:=]", re.IGNORECASE)
_CAPITALISED = re.compile(r"\b[A-Z][\w-]*(?:['\u2019]s)?")
_OWNER = re.compile(r"\b([A-Z][\w-]*)['\u2019]s\b")
_NOT_NAMES = STOPWORDS | CHANGE_WORDS
# Nouns that name things by number: the number after them is part of the subject.
NUMBERED_NOUNS = frozenset(
    {
        *("invoice", "bill", "receipt", "order", "ticket", "issue", "bug", "pr", "case", "task"),
        *("job", "build", "release", "version", "server", "host", "node", "machine", "vm"),
        *("cluster", "shard", "rack", "instance", "room", "flat", "apartment", "apt", "suite"),
        *("floor", "unit", "building", "block", "house", "office", "desk", "locker", "box"),
        *("gate", "platform", "seat", "table", "row", "bus", "line", "route", "lane", "car"),
        *("chapter", "page", "section", "step", "part", "volume", "episode", "season", "item"),
        *("note", "account", "card", "customer", "client", "patient", "user", "team", "group"),
        *("sprint", "phase", "stage", "level", "round", "week", "lesson", "exercise", "question"),
        *("slide", "figure", "lot", "batch", "project", "site", "store", "branch", "camera"),
    }
)
# Letters after a number that make it a quantity, an ordinal or a time, not a code.
_UNITS = frozenset(
    {
        *("st", "nd", "rd", "th", "am", "pm", "k", "m", "bn", "x", "s", "ms", "h", "hr", "hrs"),
        *("min", "mins", "d", "w", "y", "yr", "yrs", "mo", "kb", "mb", "gb", "tb", "kg", "g"),
        *("mg", "lb", "lbs", "oz", "km", "cm", "mm", "mi", "ft", "in", "l", "ml", "px", "pt"),
        *("kw", "kwh", "hz", "khz", "mhz", "ghz", "c", "f", "v", "mph", "kmh", "mbps", "gbps"),
        *("eur", "usd", "gbp", "chf", "p", "pc", "pcs", "t", "e"),
    }
)
_NUMBER_CODE = re.compile(r"^\d+[a-z]\w*$")
_NUMBER = re.compile(r"^\d+$")
_PREVIOUS_WORD = re.compile(r"([^\W\d_]+)\W{0,2}$")


@dataclass(frozen=True)
class Reading:
    """A memory as consolidation sees it."""

    subject: frozenset[str]
    values: frozenset[str]
    negated: bool
    announces_change: bool
    identifiers: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()  # capitalised words before the verb, and owners
    value_names: frozenset[str] = frozenset()  # capitalised words after it
    short: bool = True

    @property
    def content(self) -> frozenset[str]:
        """The subject's words without names and identifiers: what it is about."""
        named = {t for name in self.names | self.value_names for t in tokenize(name)}
        return self.subject - named - self.identifiers


def read(text: str) -> Reading:
    rest = _VALUE.sub(lambda m: " " * len(m.group()), text)  # positions kept for the split
    predicate = _PREDICATE.search(rest)
    split = predicate.start() if predicate else len(rest)
    found = [
        (value, _names_a_thing(value, text[: m.start()], m.start() < split and bool(predicate)))
        for m in _VALUE.finditer(text)
        if (value := _normal_value(m.group()))
    ]
    identifiers = frozenset(v for v, naming in found if naming)
    values = frozenset(v for v, naming in found if not naming)
    words = [w.lower() for w in _WORD.findall(rest)]
    subject = (
        frozenset(
            term for term in tokenize(rest) if term not in _CHANGE_TERMS and not term.isdigit()
        )
        | identifiers
    )
    owners = {o.casefold() for o in _OWNER.findall(text)}
    names = _names(rest[:split]) | owners
    return Reading(
        subject=subject,
        values=values,
        negated=any(w in _NEGATIONS or w.endswith("n't") for w in words),
        announces_change=any(w in CHANGE_WORDS for w in words),
        identifiers=identifiers,
        names=frozenset(names),
        value_names=frozenset(_names(rest[split:]) - names),
        short=len(text.split()) <= SHORT_WORDS,
    )


def _names(part: str) -> set[str]:
    """Capitalised words that are not function or change words ("My", "New", "Moved")."""
    found = {re.sub(r"['\u2019]s$", "", w).casefold() for w in _CAPITALISED.findall(part)}
    return {w for w in found if w not in _NOT_NAMES}


def _names_a_thing(token: str, before: str, in_subject: bool) -> bool:
    """Whether a token holding a digit is an identifier (part of the subject), not a value.

    `before` is the text before it; `in_subject` says it stands before the statement's verb
    or colon, where "port 22 is open" names port 22 and "the port is 22" gives a value."""
    if _IDENTIFIER_START.match(token):
        return not _VERSION.match(token) and "@" not in token and "://" not in token
    if _NUMBER_CODE.match(token) and not _DATE_OR_TIME.match(token):
        return re.sub(r"^\d+", "", token) not in _UNITS  # 221b, 4b or 3f9a; not 16gb, 3pm
    if not _NUMBER.match(token):
        return False  # 555-1234, 10:30, 2026-03-05, 3.5
    previous = _PREVIOUS_WORD.search(before)
    if not previous:
        return False
    noun = previous.group(1).casefold()
    return noun in NUMBERED_NOUNS or (in_subject and noun not in STOPWORDS)


def _normal_value(raw: str) -> str:
    return raw.strip(".:!?'").casefold()


def relation(older: Reading, newer: Reading, cosine: float | None) -> str | None:
    """'near-duplicate', 'update' or None for a pair of memories, older first.

    `cosine` is the similarity of their vectors; None (one of them has no vector yet) means
    no verdict: both the words and the vectors must agree."""
    if cosine is None:
        return None
    if not older.subject or older.negated != newer.negated:
        return None
    if older.subject != newer.subject:
        return "update" if announced_update(older, newer, cosine) else None
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


def announced_update(older: Reading, newer: Reading, cosine: float) -> bool:
    """The newer memory says in other words that a value of the older one changed."""
    if not newer.announces_change or older.identifiers != newer.identifiers:
        return False
    if not older.names <= newer.names:  # Alice's number is not updated by Bob's
        return False
    before, after = older.values | older.value_names, newer.values | newer.value_names
    if not before or not after or before == after:
        return False  # nothing replaced: a refinement, or a second fact
    if len(after) < len(before):
        return False  # the older one says more than the newer replaces
    if cosine >= ANNOUNCED_COSINE:
        return True
    shared = older.content & newer.content
    return older.short and newer.short and cosine >= SHORT_COSINE and bool(shared)
