"""Bad input, fuzzed with Hypothesis: text, tag, date and id arguments, stdin, JSON Lines.

Every generated command must end with a documented exit code (0, 1, 2, 3, 4, 130), never a
traceback or memcli's "this is a bug" message, and a command that fails must leave the
store's content exactly as it was (every table's rows, by count and checksum).

Commands run in-process through Typer's runner (the `cli` fixture), tens of milliseconds
each. CI runs EXAMPLES (40) generated cases per test; MEMCLI_TEST_PROFILE=full runs 2,000 per
test, 10,000 in all (about 13,000 commands: some cases run two). `pytest -s` prints how many
commands ran and how they ended.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli.helpers import add

FULL = os.environ.get("MEMCLI_TEST_PROFILE") == "full"
EXAMPLES = 2_000 if FULL else 40
DOCUMENTED_EXIT_CODES = {0, 1, 2, 3, 4, 130}
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CASES: Counter[str] = Counter()
OUTCOMES: Counter[str] = Counter()

# Text as argv can carry it: any code point but NUL-free surrogates are added on purpose,
# because Python turns invalid UTF-8 in argv into lone surrogates (surrogateescape).
any_text = st.text(st.characters(exclude_categories=()), max_size=40)
huge_text = st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=4), st.integers(1, 30_000))
text_arg = st.one_of(any_text, any_text.map(str.strip), huge_text)
valid_when = st.one_of(
    st.sampled_from(
        ["yesterday", "today", "3d", "2w", "6mo", "last week", "monday", "2025-03", "0d"]
    ),
    st.datetimes().map(lambda d: d.isoformat(timespec="minutes")),
    st.dates().map(str),
    st.integers(0, 10**6).flatmap(lambda n: st.sampled_from([f"{n}d", f"{n}w", f"{n}mo"])),
)
bad_when = st.one_of(
    st.sampled_from(
        [
            "2025-02-30", "2025-13-01", "-3d", "99999999999999d", "1e9d", "2025-03-14T25:00",
            "now", "", " ", "next year", "3 days ago", "0001-01-01T00:00-23:59",
        ]
    ),
    any_text,
    st.integers(-(10**20), 10**20).map(str),
)  # fmt: skip
when_arg = st.one_of(valid_when, bad_when)
maybe_when = st.one_of(st.none(), valid_when, bad_when)
id_alphabet = st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-_")
id_like = st.text(id_alphabet, min_size=0, max_size=12)


_TABLES: dict[Path, list[str]] = {}


def fingerprint(path: Path) -> tuple[Any, ...]:
    """Every table's row count and checksum: the store's content, independent of its bytes."""
    if not path.exists():
        return ()
    con = duckdb.connect(str(path), read_only=True)
    try:
        if path not in _TABLES:  # the schema does not change while a test fuzzes
            rows = con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()
            _TABLES[path] = [str(r[0]) for r in rows]
        sums = ", ".join(
            f'(SELECT (count(*), coalesce(sum(hash(x)), 0)) FROM "{t}" x)' for t in _TABLES[path]
        )
        row = con.execute(f"SELECT {sums}").fetchone()
        assert row is not None
        return tuple(row)
    finally:
        con.close()


def run_checked(cli: Any, store: Path, name: str, *args: str, input: Any = None) -> Any:
    """Run one generated command and check what every command must honour."""
    before = fingerprint(store)
    result = cli(*args, input=input)
    CASES[name] += 1
    OUTCOMES[f"{name} exit {result.code}"] += 1
    assert result.code in DOCUMENTED_EXIT_CODES, result
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "this is a bug" not in output, result
    if result.code != 0:
        assert fingerprint(store) == before, f"failed command changed the store: {result}"
        assert result.stderr.strip(), f"an error without a message: {result}"
    return result


def option(name: str, value: str | None) -> list[str]:
    return [] if value is None else [name, value]


@pytest.fixture
def seeded(cli: Any, store_path: Path) -> Iterator[list[str]]:
    ids = [
        add(cli, "staging db is on port 6543, user ro_reader", "-t", "work"),
        add(cli, "the dentist appointment is on tuesday", "-t", "health"),
        add(cli, "wifi password is correct-horse-battery"),
    ]
    yield ids
    print(f"\nfuzz cases so far: {sum(CASES.values())}; outcomes {dict(sorted(OUTCOMES.items()))}")


def maybe(valid: list[str], garbage: st.SearchStrategy[str] = any_text) -> Any:
    """An optional argument: left out, a valid value, or garbage (a third each)."""
    return st.one_of(st.none(), st.sampled_from(valid), garbage)


@FUZZ
@given(
    text=text_arg,
    tags=st.lists(any_text, max_size=3),
    importance=maybe(["1", "3", "5"], st.sampled_from(["0", "6", "-1", "x", "", "3.5"])),
    at=maybe_when,
    source=maybe(["cli", "tui", "import", "mcp"], st.sampled_from(["CLI", "agent", "", " "])),
    stdin=st.none() | st.binary(max_size=200),
)
def test_add_arguments(
    cli: Any,
    store_path: Path,
    seeded: list[str],
    text: str,
    tags: list[str],
    importance: str | None,
    at: str | None,
    source: str | None,
    stdin: bytes | None,
) -> None:
    args = ["--json", "add", "-" if stdin is not None else text]
    args += [part for tag in tags for part in ("-t", tag)]
    args += option("-i", importance) + option("--source", source) + option("--at", at)
    result = run_checked(cli, store_path, "add", *args, input=stdin)
    if result.code == 0:
        memory_id = result.json()["id"]
        shown = cli("--json", "show", memory_id)
        assert shown.code == 0 and shown.json()["id"] == memory_id, shown


@FUZZ
@given(
    query=text_arg,
    limit=maybe(["1", "10"], st.sampled_from(["0", "-1", "x", "999999999999", ""])),
    since=maybe_when,
    until=maybe_when,
    mode=maybe(["hybrid", "keyword", "semantic"], st.sampled_from(["fuzzy", "", "HYBRID"])),
    min_score=maybe(["0", "0.5", "1"], st.sampled_from(["-1", "nan", "inf", "x", "1e400"])),
    tags=st.lists(any_text, max_size=2),
)
def test_recall_arguments(
    cli: Any,
    store_path: Path,
    seeded: list[str],
    query: str,
    limit: str | None,
    since: str | None,
    until: str | None,
    mode: str | None,
    min_score: str | None,
    tags: list[str],
) -> None:
    args = ["--json", "recall", query, *option("-k", limit), *option("--mode", mode)]
    args += option("--since", since) + option("--until", until)
    args += option("--min-score", min_score)
    args += [part for tag in tags for part in ("-t", tag)]
    result = run_checked(cli, store_path, "recall", *args)
    if result.code == 0:
        assert isinstance(result.json(), list)


ID_COMMANDS = [
    ("show",),
    ("pin",),
    ("unpin",),
    ("archive",),
    ("restore",),
    ("history",),
    ("tag", "+fuzzed", "-work"),
    ("edit", "--text", "an edited note about the staging db"),
    ("forget", "-y", "--dry-run"),
]


@FUZZ
@given(
    command=st.sampled_from(ID_COMMANDS),
    raw=st.one_of(id_like, any_text),
    prefix_of=st.none() | st.integers(0, 2),
    cut=st.integers(1, 8),
)
def test_id_arguments(
    cli: Any,
    store_path: Path,
    seeded: list[str],
    command: tuple[str, ...],
    raw: str,
    prefix_of: int | None,
    cut: int,
) -> None:
    """Unknown ids, short and ambiguous prefixes, garbage: clear errors, nothing changed."""
    memory_id = raw if prefix_of is None else seeded[prefix_of][:cut]
    name, *options = command
    result = run_checked(cli, store_path, f"id:{name}", name, memory_id, *options)
    if result.code == 0:
        assert prefix_of is not None or len(memory_id) >= 4, result


@FUZZ
@given(since=maybe_when, until=maybe_when, before=when_arg)
def test_date_arguments(
    cli: Any, store_path: Path, seeded: list[str], since: str | None, until: str | None, before: str
) -> None:
    args = ["--json", "list", "--all", *option("--since", since), *option("--until", until)]
    run_checked(cli, store_path, "list dates", *args)
    run_checked(cli, store_path, "forget --before", "forget", "--before", before, "-y", "--dry-run")


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), any_text
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(any_text, children, max_size=3)
    ),
    max_leaves=6,
)
record = st.fixed_dictionaries(
    {"text": st.one_of(any_text, st.just("a note from the importer"), json_values)},
    optional={
        "id": st.one_of(id_like, json_values),
        "tags": st.one_of(st.lists(any_text, max_size=3), json_values),
        "created_at": st.one_of(
            st.sampled_from(["2025-03-14T09:12:00Z", "2025-03-14", "2025-02-30T00:00:00Z"]),
            json_values,
        ),
        "importance": st.one_of(st.integers(-2, 8), json_values),
        "pinned": st.one_of(st.booleans(), json_values),
        "state": st.one_of(st.sampled_from(["active", "archived", "deleted"]), json_values),
        "source": st.one_of(st.sampled_from(["cli", "import", "mcp", "web"]), json_values),
        "superseded_by": st.one_of(id_like, json_values),
        "unknown_field": json_values,
    },
)
jsonl_line = st.one_of(
    record.map(lambda r: json.dumps(r, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=60),
    st.just(b""),
    st.just(b"   "),
)


@FUZZ
@given(lines=st.lists(jsonl_line, max_size=12), skip_bad=st.booleans(), crlf=st.booleans())
def test_jsonl_importer(
    cli: Any, store_path: Path, seeded: list[str], lines: list[bytes], skip_bad: bool, crlf: bool
) -> None:
    data = (b"\r\n" if crlf else b"\n").join(lines)
    options = ["--skip-bad"] if skip_bad else []
    result = run_checked(cli, store_path, "import", "--json", "import", "-", *options, input=data)
    if result.code != 0:
        return
    report = result.json()
    if not skip_bad:
        assert report["bad_lines"] == []
    # Import is idempotent: the same file again adds nothing and changes nothing.
    before = fingerprint(store_path)
    again = run_checked(cli, store_path, "import", "--json", "import", "-", *options, input=data)
    assert again.code == 0 and again.json()["imported"] == 0, again
    assert fingerprint(store_path) == before
