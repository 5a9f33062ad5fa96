"""memcli add: ids, stdin, JSON output, tags, importance, pin, --at, --source, --supersedes,
and exact duplicates that reinforce instead of adding a copy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.cli.helpers import ID_RE, add, add_fillers, by_id, export_all, recall_ids


def parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def stored(cli, memory_id: str) -> dict:
    return by_id(cli)[memory_id]


def test_add_prints_a_short_id_and_stores_the_text(cli) -> None:
    result = cli("add", "staging db is on port 6543")
    assert result.code == 0, result
    memory_id = result.stdout.strip()
    assert ID_RE.fullmatch(memory_id)
    assert result.stdout == memory_id + "\n"
    assert stored(cli, memory_id)["text"] == "staging db is on port 6543"


def test_add_ids_are_distinct(cli) -> None:
    ids = {add(cli, f"note number {n} about something else") for n in range(5)}
    assert len(ids) == 5


def test_add_dash_reads_stdin(cli) -> None:
    result = cli("add", "-", input="line one\nline two with ü\n")
    assert result.code == 0, result
    memory_id = result.stdout.strip()
    assert ID_RE.fullmatch(memory_id), result
    assert stored(cli, memory_id)["text"] == "line one\nline two with ü"


def test_add_json_is_one_document(cli) -> None:
    result = cli("--json", "add", "the wifi password is hunter2", "-t", "home")
    assert result.code == 0, result
    document = result.json()
    assert document["status"] == "added"
    assert ID_RE.fullmatch(document["id"])
    memory = document["memory"]
    assert memory["id"] == document["id"]
    assert memory["text"] == "the wifi password is hunter2"
    assert memory["tags"] == ["home"]
    assert memory["state"] == "active"
    assert memory["source"] == "cli"
    # The per-command --json works as well as the global one.
    assert cli("add", "another note entirely", "--json").json()["status"] == "added"


def test_tags_repeated_and_comma_separated_are_normalised(cli) -> None:
    memory_id = add(cli, "tagged note", "-t", "#Work", "-t", "DB,Home", "--tag", "work")
    assert stored(cli, memory_id)["tags"] == ["work", "db", "home"]


@pytest.mark.parametrize("importance", ["1", "3", "5"])
def test_importance_in_range_is_stored(cli, importance: str) -> None:
    memory_id = add(cli, f"importance {importance} note", "-i", importance)
    assert stored(cli, memory_id)["importance"] == int(importance)


def test_importance_defaults_to_three(cli) -> None:
    assert stored(cli, add(cli, "plain note"))["importance"] == 3


@pytest.mark.parametrize("importance", ["0", "6"])
def test_importance_out_of_range_is_a_usage_error(cli, store_path, importance: str) -> None:
    result = cli("add", "out of range", "-i", importance)
    assert result.code == 2, result
    assert "importance" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not store_path.exists()


def test_pin(cli) -> None:
    pinned = add(cli, "never forget this", "--pin")
    plain = add(cli, "may fade away")
    memories = by_id(cli)
    assert memories[pinned]["pinned"] is True
    assert memories[plain]["pinned"] is False


def test_at_with_an_iso_time_sets_created_at(cli) -> None:
    memory_id = add(cli, "met the landlord", "--at", "2025-03-14T09:12:00Z")
    memory = stored(cli, memory_id)
    assert memory["created_at"] == "2025-03-14T09:12:00Z"
    assert parse_utc(memory["added_at"]) > parse_utc(memory["created_at"])


@pytest.mark.parametrize(("when", "ago"), [("3d", timedelta(days=3)), ("2w", timedelta(weeks=2))])
def test_at_with_a_relative_date_sets_created_at(cli, when: str, ago: timedelta) -> None:
    memory_id = add(cli, f"something that happened {when} ago", "--at", when)
    created = parse_utc(stored(cli, memory_id)["created_at"])
    assert abs(created - (datetime.now(UTC) - ago)) < timedelta(minutes=10)


def test_at_yesterday_is_yesterday(cli) -> None:
    memory_id = add(cli, "yesterday's standup", "--at", "yesterday")
    created = parse_utc(stored(cli, memory_id)["created_at"])
    age = datetime.now(UTC) - created
    assert timedelta(hours=22) < age < timedelta(hours=50)


def test_bad_at_is_refused(cli, store_path) -> None:
    result = cli("add", "when?", "--at", "tomorow")
    assert result.code == 2, result
    assert "tomorow" in result.stderr
    assert not store_path.exists()


def test_source(cli) -> None:
    assert stored(cli, add(cli, "from a script", "--source", "import"))["source"] == "import"
    assert stored(cli, add(cli, "typed by hand"))["source"] == "cli"
    bad = cli("add", "from nowhere", "--source", "carrier-pigeon")
    assert bad.code == 2, bad
    assert "source" in bad.stderr
    assert len(export_all(cli)) == 2


def test_supersedes_archives_the_old_memory(cli) -> None:
    add_fillers(cli)
    old = add(cli, "dentist appointment is on monday at nine")
    result = cli("--json", "add", "dentist appointment moved to friday at ten", "--supersedes", old)
    assert result.code == 0, result
    assert result.json()["superseded"] == old
    new = result.json()["id"]
    memories = by_id(cli)
    assert memories[old]["state"] == "archived"
    assert memories[old]["superseded_by"] == new
    assert memories[new]["state"] == "active"
    keyword = ("--mode", "keyword")
    assert recall_ids(cli, "dentist appointment", *keyword) == [new]
    assert set(recall_ids(cli, "dentist appointment", "--all", *keyword)) == {old, new}
    hybrid = recall_ids(cli, "dentist appointment")
    assert hybrid[0] == new and old not in hybrid
    assert old in recall_ids(cli, "dentist appointment", "--all")


def test_supersedes_accepts_an_id_prefix_and_says_so(cli) -> None:
    old = add(cli, "the office door code is 1234")
    result = cli("add", "the office door code is 9876", "--supersedes", old[:5])
    assert result.code == 0, result
    assert old in result.stderr
    assert by_id(cli)[old]["state"] == "archived"


def test_supersedes_an_unknown_id_adds_nothing(cli) -> None:
    add(cli, "something already stored")
    before = export_all(cli)
    result = cli("add", "replacement text", "--supersedes", "zzzz9999")
    assert result.code == 1, result
    assert "zzzz9999" in result.stderr
    assert export_all(cli) == before


def test_exact_duplicate_reinforces_instead_of_adding(cli) -> None:
    first = add(cli, "Buy milk on the way home", "-t", "errands")
    again = cli("add", "  buy   MILK on the way\thome ", "-t", "shopping,errands")
    assert again.code == 0, again
    assert again.stdout.strip() == first
    assert "reinforced" in again.stderr
    assert first in again.stderr
    memories = export_all(cli)
    assert len(memories) == 1
    assert memories[0]["reinforcements"] == 1
    assert memories[0]["tags"] == ["errands", "shopping"]
    assert memories[0]["text"] == "Buy milk on the way home"


def test_duplicate_in_json_reports_reinforced(cli) -> None:
    first = add(cli, "renew the passport in may")
    document = cli("--json", "add", "Renew the passport in May").json()
    assert document["status"] == "reinforced"
    assert document["id"] == first
    assert document["memory"]["reinforcements"] == 1


def test_duplicate_of_an_archived_memory_brings_it_back(cli) -> None:
    memory_id = add(cli, "water the plants on sunday")
    assert cli("archive", memory_id).code == 0
    assert add(cli, "Water the plants on Sunday") == memory_id
    assert by_id(cli)[memory_id]["state"] == "active"


def test_supersedes_is_honoured_when_the_new_text_is_a_duplicate(cli) -> None:
    current = add(cli, "the wifi password is hunter2")
    old = add(cli, "the wifi password was swordfish")
    result = cli("add", "The WiFi password is hunter2", "--supersedes", old)
    assert result.code == 0, result
    memories = by_id(cli)
    assert memories[old]["state"] == "archived"
    assert memories[old]["superseded_by"] == current
