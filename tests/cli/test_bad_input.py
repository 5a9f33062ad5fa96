"""Bad input gets a clear one- or two-line error, the right exit code, and changes nothing
(SPEC §2 exit codes, §5 "Bad input gets a clear error and changes nothing")."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from tests.cli.helpers import add, assert_clean_error, export_all, jsonl, sha256, snapshot


def check_unchanged(cli, store: Path, action: Callable[[], object]) -> object:
    """Run `action`; the store (or its absence) must look the same afterwards."""
    before = snapshot(cli, store)
    result = action()
    assert snapshot(cli, store) == before
    return result


@pytest.fixture
def populated(cli) -> list[str]:
    return [add(cli, "the staging db is on port 6543"), add(cli, "dog food is in the garage")]


# --- text that cannot be stored -------------------------------------------------------------

BAD_TEXTS = {
    "empty": ("", "empty"),
    "whitespace": ("  \t\n  ", "empty"),
    "too large": ("x" * 70000, "limit"),
    "nul byte": ("before\x00after", "NUL"),
}


@pytest.mark.parametrize("name", sorted(BAD_TEXTS))
def test_bad_text_on_a_fresh_home_creates_no_store(cli, store_path, name: str) -> None:
    text, fragment = BAD_TEXTS[name]
    result = check_unchanged(cli, store_path, lambda: cli("add", text))
    assert_clean_error(result, 1, fragment)
    assert not store_path.exists()


@pytest.mark.parametrize("name", sorted(BAD_TEXTS))
def test_bad_text_leaves_an_existing_store_unchanged(cli, store_path, populated, name) -> None:
    text, fragment = BAD_TEXTS[name]
    result = check_unchanged(cli, store_path, lambda: cli("add", text))
    assert_clean_error(result, 1, fragment)


def test_text_just_under_the_limit_is_accepted(cli) -> None:
    assert add(cli, "y" * 65536)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"\xff\xfe bad", "UTF-8"),
        (b"half a note\x00and the rest", "NUL"),
        (b"", "empty"),
        (b"   \n\n", "empty"),
    ],
    ids=["invalid-utf8", "nul", "empty", "whitespace"],
)
def test_bad_stdin(cli, store_path, populated, data: bytes, fragment: str) -> None:
    result = check_unchanged(cli, store_path, lambda: cli("add", "-", input=data))
    assert_clean_error(result, 1, fragment)


def test_invalid_utf8_on_stdin_creates_no_store(cli, store_path) -> None:
    assert_clean_error(cli("add", "-", input=b"\xff\xfe bad"), 1, "UTF-8")
    assert not store_path.exists()


def test_bad_text_for_edit(cli, store_path, populated) -> None:
    result = check_unchanged(cli, store_path, lambda: cli("edit", populated[0], "--text", " "))
    assert_clean_error(result, 1, "empty")


# --- ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["show", "forget", "edit", "pin", "unpin", "archive", "tag"])
def test_unknown_id(cli, store_path, populated, command: str) -> None:
    extra = {"forget": ["-y"], "edit": ["--text", "new text"], "tag": ["+x"]}.get(command, [])
    result = check_unchanged(cli, store_path, lambda: cli(command, "zzzz9999", *extra))
    assert_clean_error(result, 1, "zzzz9999")


@pytest.mark.parametrize(
    "args",
    [["show", "zzzz9999"], ["add", ""], ["recall", "x", "--since", "tomorow"], ["show", "ab"]],
)
def test_errors_with_json_leave_stdout_empty(cli, populated, args: list[str]) -> None:
    result = cli("--json", *args)
    assert result.code in (1, 2), result
    assert result.stdout == "" and "memcli: error:" in result.stderr


def test_unknown_id_on_a_fresh_home(cli, store_path) -> None:
    assert_clean_error(cli("show", "zzzz9999"), 1)
    assert not store_path.exists()


def import_lines(cli, *documents: dict) -> None:
    result = cli("import", "-", input=jsonl(*documents))
    assert result.code == 0, result


@pytest.mark.parametrize("command", ["show", "forget", "pin", "archive"])
def test_ambiguous_prefix(cli, store_path, command: str) -> None:
    import_lines(cli, {"id": "abcd1111", "text": "first"}, {"id": "abcd2222", "text": "second"})
    extra = ["-y"] if command == "forget" else []
    result = check_unchanged(cli, store_path, lambda: cli(command, "abcd", *extra))
    assert_clean_error(result, 1, "abcd1111", "abcd2222")


def test_unique_prefix_is_accepted(cli) -> None:
    import_lines(cli, {"id": "abcd1111", "text": "first"}, {"id": "abce2222", "text": "second"})
    result = cli("--json", "show", "abcd")
    assert result.code == 0, result
    assert result.json()["text"] == "first"


@pytest.mark.parametrize("prefix", ["a", "ab", "abc"])
def test_prefix_shorter_than_four(cli, store_path, prefix: str) -> None:
    import_lines(cli, {"id": "abcd1111", "text": "first"})
    result = check_unchanged(cli, store_path, lambda: cli("show", prefix))
    assert_clean_error(result, 2, "4")


# --- options ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["recall", "port", "--since", "tomorow"],
        ["recall", "port", "--until", "the day after"],
        ["list", "--since", "tomorow"],
        ["forget", "--before", "tomorow", "-y"],
        ["add", "a new note", "--at", "tomorow"],
    ],
    ids=["recall-since", "recall-until", "list-since", "forget-before", "add-at"],
)
def test_bad_date(cli, store_path, populated, args: list[str]) -> None:
    result = check_unchanged(cli, store_path, lambda: cli(*args))
    assert_clean_error(result, 2, "as a date")


def test_unknown_mode(cli, store_path, populated) -> None:
    result = check_unchanged(cli, store_path, lambda: cli("recall", "port", "--mode", "fuzzy"))
    assert_clean_error(result, 2, "fuzzy", "hybrid")


def test_empty_query(cli, store_path, populated) -> None:
    assert_clean_error(cli("recall", "   "), 2, "empty")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["recall", "port", "--limit", "0"], ["'--limit'", "0 is not in the range 1<=x<="]),
        (["recall", "port", "-k", "many"], ["'--limit'", "'many' is not a valid int"]),
        (
            ["recall", "port", "--min-score", "high"],
            ["'--min-score'", "'high' is not a valid float"],
        ),
        (["list", "--limit", "-3"], ["'--limit'", "-3 is not in the range 0<=x<="]),
    ],
)
def test_bad_option_values_name_the_option_and_the_value(
    cli, store_path, populated, args: list[str], fragments: list[str]
) -> None:
    # Typer's own usage errors (exit 2) in two lines: what was wrong, where the options are.
    result = check_unchanged(cli, store_path, lambda: cli(*args))
    assert result.code == 2, result
    assert result.stdout == "" and "Traceback" not in result.stderr, result
    error, hint = result.stderr.strip().splitlines()
    assert error.startswith("memcli: error: Invalid value for "), result
    assert hint == f"hint: memcli {args[0]} -h shows its options", result
    for fragment in fragments:
        assert fragment in error, (fragment, result)


# --- import ----------------------------------------------------------------------------------

MALFORMED = (
    '{"text": "good one"}\n'
    "this is not json\n"
    '{"text": "good two"}\n'
    '{"text": 5}\n'
    '{"text": "good three"}\n'
)


def test_malformed_import_imports_nothing(cli, store_path, populated, tmp_path) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text(MALFORMED)
    result = check_unchanged(cli, store_path, lambda: cli("import", str(source)))
    assert_clean_error(result, 1, "line 2", "line 4", "--skip-bad")
    assert "line 1" not in result.stderr and "line 3" not in result.stderr


def test_malformed_import_on_a_fresh_home_creates_no_store(cli, store_path) -> None:
    assert_clean_error(cli("import", "-", input=MALFORMED), 1, "line 2", "line 4")
    assert not store_path.exists()


def test_malformed_import_with_skip_bad(cli, populated) -> None:
    result = cli("import", "--skip-bad", "-", input=MALFORMED)
    assert result.code == 0, result
    assert "line 2" in result.stderr and "line 4" in result.stderr
    texts = {memory["text"] for memory in export_all(cli)}
    assert {"good one", "good two", "good three"} <= texts
    assert len(texts) == len(populated) + 3


def test_malformed_import_with_skip_bad_in_json(cli) -> None:
    result = cli("--json", "import", "--skip-bad", "-", input=MALFORMED)
    assert result.code == 0, result
    report = result.json()
    assert report["imported"] == 3
    assert [bad["line"] for bad in report["bad_lines"]] == [2, 4]


def test_import_of_a_missing_file(cli, tmp_path) -> None:
    assert_clean_error(cli("import", str(tmp_path / "nope.jsonl")), 1, "nope.jsonl")


# --- --db that is not a memcli store ---------------------------------------------------------


@pytest.mark.parametrize("args", [["add", "x"], ["recall", "x"], ["list"], ["show", "abcd"]])
def test_db_is_a_text_file(cli, tmp_path, args: list[str]) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("my precious notes, not a database\n" * 20)
    before = path.read_bytes()
    assert_clean_error(cli("--db", str(path), *args), 1, "not a memcli store")
    assert path.read_bytes() == before


def make_foreign_duckdb(path: Path) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE TABLE x (a INTEGER)")
        con.execute("INSERT INTO x VALUES (1), (2)")
    finally:
        con.close()


@pytest.mark.parametrize("args", [["add", "x"], ["recall", "x"], ["list"], ["stats"]])
def test_db_is_somebody_elses_duckdb(cli, tmp_path, args: list[str]) -> None:
    path = tmp_path / "other.duckdb"
    make_foreign_duckdb(path)
    before = path.read_bytes()
    assert_clean_error(cli("--db", str(path), *args), 1, "not a memcli store")
    assert path.read_bytes() == before


# --- a store from a newer memcli -------------------------------------------------------------


@pytest.fixture
def newer_store(cli, store_path) -> str:
    add(cli, "written by this memcli")
    con = duckdb.connect(str(store_path))
    try:
        con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    finally:
        con.close()
    return sha256(store_path)


@pytest.mark.parametrize(
    "args",
    [
        ["add", "a new note"],
        ["recall", "memcli"],
        ["list"],
        ["export"],
        ["forget", "--tag", "x", "-y"],
    ],
)
def test_store_from_a_newer_memcli_is_refused(cli, store_path, newer_store, args) -> None:
    assert_clean_error(cli(*args), 4, "newer memcli", "upgrade")
    assert sha256(store_path) == newer_store
    assert not store_path.with_name(store_path.name + ".wal").exists()
