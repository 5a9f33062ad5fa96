"""memcli forget: by id, --query (-k), --tag, --before; confirmation, --dry-run, and that
nothing of a forgotten memory is left in the store's tables (SPEC §2 and §5)."""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import (
    add,
    add_fillers,
    assert_clean_error,
    by_id,
    export_all,
    query_db,
    recall_ids,
    snapshot,
    store_file_bytes,
)

ORPHANS = {
    "postings": "SELECT count(*) FROM postings WHERE seq NOT IN (SELECT seq FROM memories)",
    "vectors": "SELECT count(*) FROM vectors WHERE seq NOT IN (SELECT seq FROM memories)",
    "events": "SELECT count(*) FROM events WHERE memory_id NOT IN (SELECT id FROM memories)",
}


def count(store: Path, sql: str, params: list | None = None) -> int:
    return int(query_db(store, sql, params)[0][0])


def forget(cli, *args: str) -> list[str]:
    """`memcli --json forget ARGS -y`; asserts success and returns the forgotten ids."""
    result = cli("--json", "forget", *args, "-y")
    assert result.code == 0, result
    forgotten: list[str] = result.json()["forgotten"]
    return forgotten


def test_forget_by_id_removes_everything(cli, store_path) -> None:
    keep = add_fillers(cli)
    gone = add(cli, "the secret launch code is tangerine", "-t", "secret")
    assert cli("show", gone).code == 0  # adds a history row
    assert cli("recall", "launch code").code == 0  # and a reinforcement
    result = cli("forget", gone, "-y")
    assert result.code == 0, result
    assert "forgot 1" in result.stderr
    assert_clean_error(cli("show", gone), 1, gone)
    memories = export_all(cli)
    assert sorted(m["id"] for m in memories) == sorted(keep)
    assert "tangerine" not in cli("export", "--all").stdout
    for table, sql in ORPHANS.items():
        assert count(store_path, sql) == 0, table
    # The other memories keep their index entries and vectors.
    assert count(store_path, "SELECT count(DISTINCT seq) FROM postings") == len(keep)
    assert count(store_path, "SELECT count(DISTINCT seq) FROM vectors") == len(keep)
    assert count(store_path, "SELECT count(*) FROM events WHERE memory_id = ?", [gone]) == 0
    assert count(store_path, "SELECT count(*) FROM memories WHERE text LIKE '%tangerine%'") == 0


def test_forget_now_erases_the_text_from_the_file(cli, store_path) -> None:
    add_fillers(cli)
    gone = add(cli, "my secret is xylophone-tangerine-42")
    kept = add(cli, "the spare key is under the blue flowerpot")
    # A plain forget deletes the row; the bytes stay in free blocks (the test can see them,
    # so their absence below means something).
    other = add(cli, "my other secret is marmalade-quokka-7")
    assert cli("forget", other, "-y").code == 0
    assert b"quokka" in store_file_bytes(store_path)

    result = cli("forget", gone, "-y", "--now")
    assert result.code == 0, result
    data = store_file_bytes(store_path)
    assert b"tangerine" not in data and b"quokka" not in data
    assert b"flowerpot" in data
    assert kept in by_id(cli)


def test_forgotten_memory_is_not_recalled(cli) -> None:
    add_fillers(cli)
    gone = add(cli, "the secret launch code is tangerine")
    assert forget(cli, gone) == [gone]
    assert gone not in recall_ids(cli, "launch code tangerine", "--all")
    assert recall_ids(cli, "tangerine", "--mode", "keyword") == []


def test_forget_several_ids_and_prefixes(cli) -> None:
    keep = add(cli, "keep this one")
    first, second = add(cli, "first to go"), add(cli, "second to go")
    assert sorted(forget(cli, first[:4], second)) == sorted([first, second])
    assert list(by_id(cli)) == [keep]


def test_forget_a_superseding_memory_unlinks_the_old_one(cli) -> None:
    old = add(cli, "the gate code is 1111")
    new = add(cli, "the gate code is 2222", "--supersedes", old)
    forget(cli, new)
    memories = by_id(cli)
    assert list(memories) == [old]
    assert memories[old]["superseded_by"] is None


def test_without_yes_and_without_a_terminal_nothing_is_removed(cli, store_path) -> None:
    memory_id = add(cli, "do not delete me without asking")
    before = snapshot(cli, store_path)
    result = cli("forget", memory_id)
    assert_clean_error(result, 2, "-y")
    assert snapshot(cli, store_path) == before


def test_dry_run_lists_and_removes_nothing(cli, store_path) -> None:
    memory_id = add(cli, "still here after a dry run", "-t", "keep")
    before = snapshot(cli, store_path)
    result = cli("forget", memory_id, "--dry-run")
    assert result.code == 0, result
    assert memory_id in result.stdout and "still here after a dry run" in result.stdout
    assert "would forget 1" in result.stderr
    by_tag = cli("--json", "forget", "--tag", "keep", "--dry-run")
    assert by_tag.code == 0, by_tag
    assert [m["id"] for m in by_tag.json()["would_forget"]] == [memory_id]
    assert by_tag.json()["forgotten"] == []
    assert snapshot(cli, store_path) == before


def test_dry_run_with_query_changes_nothing(cli, store_path) -> None:
    add_fillers(cli)
    add(cli, "the garden hose leaks at the tap")
    before = snapshot(cli, store_path)
    result = cli("forget", "--query", "garden hose", "--dry-run")
    assert result.code == 0, result
    assert snapshot(cli, store_path) == before


def garden_memories(cli) -> dict[str, str]:
    add_fillers(cli)
    return {
        "best": add(cli, "the garden hose leaks at the tap"),
        "second": add(cli, "ordered a new garden hose"),
        "third": add(cli, "planted tulips in the garden"),
    }


def test_query_forgets_the_single_best_match(cli) -> None:
    memories = garden_memories(cli)
    assert forget(cli, "--query", "garden hose leaks") == [memories["best"]]
    remaining = by_id(cli)
    assert memories["second"] in remaining and memories["third"] in remaining


def test_query_with_k_forgets_the_top_matches(cli) -> None:
    memories = garden_memories(cli)
    forgotten = forget(cli, "--query", "garden hose leaks", "-k", "2")
    assert sorted(forgotten) == sorted([memories["best"], memories["second"]])
    assert memories["third"] in by_id(cli)


def test_query_without_a_match_forgets_nothing(cli, store_path) -> None:
    add_fillers(cli)
    before = snapshot(cli, store_path)
    result = cli("--json", "forget", "--query", "kubernetes cluster upgrade", "-y")
    assert result.code == 0, result
    assert result.json()["forgotten"] == []
    assert snapshot(cli, store_path) == before


def test_tag_forgets_tagged_memories_not_mentions(cli) -> None:
    tagged = [
        add(cli, "sold the old bike", "-t", "bike"),
        add(cli, "new helmet ordered", "-t", "Bike,gear"),
    ]
    archived = add(cli, "repaired the chain", "-t", "#bike")
    assert cli("archive", archived).code == 0
    mention = add(cli, "the bike shop closes at six")
    other = add(cli, "gear for the hiking trip", "-t", "gear")
    assert sorted(forget(cli, "--tag", "bike")) == sorted([*tagged, archived])
    assert sorted(by_id(cli)) == sorted([mention, other])


def test_before_forgets_older_memories(cli) -> None:
    old = add(cli, "notes from the 2019 offsite", "--at", "2019-06-01")
    older = add(cli, "notes from the 2018 offsite", "--at", "2018-06-01")
    recent = add(cli, "notes from this year's offsite")
    assert sorted(forget(cli, "--before", "2020-01-01")) == sorted([old, older])
    assert list(by_id(cli)) == [recent]


def test_ids_and_query_together_are_a_usage_error(cli, store_path) -> None:
    memory_id = add(cli, "keep me")
    before = snapshot(cli, store_path)
    assert_clean_error(cli("forget", memory_id, "--query", "keep", "-y"), 2, "not both")
    assert_clean_error(cli("forget", memory_id, "--tag", "x", "-y"), 2, "not both")
    assert snapshot(cli, store_path) == before


def test_forget_without_a_selector_is_a_usage_error(cli) -> None:
    add(cli, "keep me")
    assert_clean_error(cli("forget", "-y"), 2, "nothing to forget")


def test_forget_json_and_quiet_output(cli) -> None:
    first, second = add(cli, "first to go"), add(cli, "second to go")
    quiet = cli("-q", "forget", first, "-y")
    assert quiet.code == 0, quiet
    assert quiet.stdout.split() == [first]
    assert cli("--json", "forget", second, "-y").json() == {
        "forgotten": [second],
        "memories": [{"id": second, "first_line": "second to go"}],
        "dry_run": False,
        "erased": False,
    }
