"""show, list, edit, tag, pin/unpin, archive/restore, reindex, stats, doctor, --version,
--help, completion and --json on every command (SPEC §2)."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import duckdb
import pytest

from memcli import __version__
from tests.cli.helpers import add, add_fillers, by_id, query_db, recall_ids

COMMANDS = ["add", "show", "list", "edit", "tag", "pin", "unpin", "archive", "restore"]
COMMANDS += ["recall", "forget", "import", "export", "init", "reindex", "stats", "doctor"]
COMMANDS += ["completion"]


def set_flag(cli, command: str, *ids: str) -> None:
    result = cli(command, *ids)
    assert result.code == 0, result
    assert result.stdout.split() == list(ids)


def test_show_text_tags_and_history(cli) -> None:
    memory_id = add(cli, "the spare key is under the blue pot", "-t", "home,keys", "-i", "4")
    result = cli("show", memory_id[:5])
    assert result.code == 0, result
    for fragment in (memory_id, "the spare key is under the blue pot", "#home #keys", "created"):
        assert fragment in result.stdout, result
    document = cli("--json", "show", memory_id).json()
    assert document["text"] == "the spare key is under the blue pot"
    assert document["tags"] == ["home", "keys"]
    assert document["importance"] == 4
    assert 0 < document["strength"] <= 1
    kinds = [event["kind"] for event in document["history"]]
    assert kinds[0] == "created" and "reinforced" in kinds  # the first show reinforces it
    assert cli("-q", "show", memory_id).stdout == "the spare key is under the blue pot\n"


def list_ids(cli, *options: str) -> list[str]:
    result = cli("--json", "list", *options)
    assert result.code == 0, result
    return [memory["id"] for memory in result.json()]


def test_list_filters(cli) -> None:
    work = add(cli, "quarterly report due friday", "-t", "work")
    home = add(cli, "fix the garage door", "-t", "home", "--at", "2024-05-01")
    imported = add(cli, "imported note", "--source", "import", "-t", "work")
    archived = add(cli, "old work laptop serial", "-t", "work")
    set_flag(cli, "archive", archived)
    assert list_ids(cli) == [imported, work, home]  # newest first, archived hidden
    assert list_ids(cli, "--tag", "work") == [imported, work]
    assert list_ids(cli, "--archived") == [archived]
    assert set(list_ids(cli, "--all")) == {work, home, imported, archived}
    assert list_ids(cli, "--source", "import") == [imported]
    assert list_ids(cli, "--since", "2025-01-01") == [imported, work]
    assert list_ids(cli, "--until", "2024-12-31") == [home]
    assert list_ids(cli, "-k", "1") == [imported]
    assert cli("-q", "list").stdout.split() == [imported, work, home]
    assert cli("list", "--sort", "alphabetical").code == 2


def test_list_sorts(cli, store_path) -> None:
    early = add(cli, "happened long ago", "--at", "2020-01-01")
    middle = add(cli, "happened last year", "--at", "2024-01-01")
    late = add(cli, "happened just now")
    assert list_ids(cli, "--sort", "created") == [late, middle, early]
    assert recall_ids(cli, "long ago", "--mode", "keyword") == [early]  # reinforces it
    assert list_ids(cli, "--sort", "recalled")[0] == early
    stale = add(cli, "touched a year ago")
    con = duckdb.connect(str(store_path))  # a memory last touched 400 days ago has faded
    try:
        con.execute(
            "UPDATE memories SET added_at = added_at - INTERVAL 400 DAY WHERE id = ?", [stale]
        )
    finally:
        con.close()
    by_strength = cli("--json", "list", "--sort", "strength").json()
    assert by_strength[-1]["id"] == stale
    strengths = [memory["strength"] for memory in by_strength]
    assert strengths == sorted(strengths, reverse=True)
    assert strengths[-1] < strengths[0]


def test_edit_text_is_reindexed(cli, store_path) -> None:
    add_fillers(cli)
    memory_id = add(cli, "the plumber comes on tuesday")
    result = cli("--json", "edit", memory_id, "--text", "the electrician comes on friday")
    assert result.code == 0, result
    assert result.json()["text"] == "the electrician comes on friday"
    assert recall_ids(cli, "plumber", "--mode", "keyword") == []
    assert recall_ids(cli, "electrician", "--mode", "keyword") == [memory_id]
    assert recall_ids(cli, "friday electrician")[0] == memory_id
    history = [e["kind"] for e in cli("--json", "show", memory_id).json()["history"]]
    assert "edited" in history
    orphans = "SELECT count(*) FROM vectors WHERE seq NOT IN (SELECT seq FROM memories)"
    assert query_db(store_path, orphans)[0][0] == 0


def test_edit_importance_and_text_from_stdin(cli) -> None:
    memory_id = add(cli, "first draft")
    assert cli("edit", memory_id, "-i", "5").code == 0
    assert cli("edit", memory_id, "--text", "-", input="second draft\n").code == 0
    memory = by_id(cli)[memory_id]
    assert (memory["text"], memory["importance"]) == ("second draft", 5)


def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    script = tmp_path / "editor.py"
    script.write_text(f"import sys\nfrom pathlib import Path\npath = Path(sys.argv[1])\n{body}\n")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}")


def test_edit_in_editor(cli, tmp_path, monkeypatch) -> None:
    add_fillers(cli)
    memory_id = add(cli, "the plumber comes on tuesday")
    editor(tmp_path, monkeypatch, "path.write_text(path.read_text().replace('plumber', 'roofer'))")
    result = cli("edit", memory_id)
    assert result.code == 0, result
    assert by_id(cli)[memory_id]["text"] == "the roofer comes on tuesday"
    assert recall_ids(cli, "roofer", "--mode", "keyword") == [memory_id]


def test_edit_in_editor_without_change_or_with_failure(cli, tmp_path, monkeypatch) -> None:
    memory_id = add(cli, "unchanged text")
    editor(tmp_path, monkeypatch, "pass")
    result = cli("edit", memory_id)
    assert result.code == 0, result
    assert "no change" in result.stderr
    editor(tmp_path, monkeypatch, "path.write_text('half-edited'); sys.exit(3)")
    failed = cli("edit", memory_id)
    assert failed.code == 2, failed
    assert "nothing saved" in failed.stderr
    assert by_id(cli)[memory_id]["text"] == "unchanged text"


def test_tag_adds_and_removes(cli) -> None:
    memory_id = add(cli, "draft of the talk", "-t", "draft,talks")
    result = cli("tag", memory_id, "+Work", "-draft", "conference")
    assert result.code == 0, result
    assert result.stdout.split() == ["#talks", "#work", "#conference"]
    assert by_id(cli)[memory_id]["tags"] == ["talks", "work", "conference"]
    assert cli("--json", "tag", memory_id, "-talks").json()["tags"] == ["work", "conference"]


def test_pin_and_unpin(cli) -> None:
    first, second = add(cli, "pin me"), add(cli, "pin me too")
    set_flag(cli, "pin", first, second)
    assert all(m["pinned"] for m in by_id(cli).values())
    set_flag(cli, "unpin", second)
    memories = by_id(cli)
    assert memories[first]["pinned"] and not memories[second]["pinned"]


def test_archive_and_restore(cli) -> None:
    add_fillers(cli)
    memory_id = add(cli, "the old alarm code was 4455")
    set_flag(cli, "archive", memory_id)
    assert by_id(cli)[memory_id]["state"] == "archived"
    assert recall_ids(cli, "alarm code", "--mode", "keyword") == []
    set_flag(cli, "restore", memory_id)
    assert by_id(cli)[memory_id]["state"] == "active"
    assert recall_ids(cli, "alarm code", "--mode", "keyword") == [memory_id]


def test_restore_of_a_superseded_memory_clears_the_link(cli) -> None:
    old = add(cli, "the gate code is 1111")
    add(cli, "the gate code is 2222", "--supersedes", old)
    set_flag(cli, "restore", old)
    memory = by_id(cli)[old]
    assert (memory["state"], memory["superseded_by"]) == ("active", None)


def test_reindex(cli, store_path) -> None:
    ids = [add(cli, text) for text in ("one note", "two notes", "three notes")]
    result = cli("--json", "reindex")
    assert result.code == 0, result
    assert result.json() == {"memories": 3, "embedded": 3, "model": "memcli-test/tiny-bow"}
    assert query_db(store_path, "SELECT count(DISTINCT seq) FROM vectors")[0][0] == len(ids)
    assert recall_ids(cli, "two", "--mode", "keyword") == [ids[1]]


def test_stats_json(cli) -> None:
    add(cli, "one note")
    archived = add(cli, "two notes")
    set_flag(cli, "archive", archived)
    stats = cli("--json", "stats").json()
    assert {"memories", "vectors", "model", "schema_version"} <= set(stats)
    assert stats["memories"]["total"] == 2 and stats["memories"]["archived"] == 1
    assert stats["vectors"] == {"current": 2, "other_model": 0, "missing": 0}
    assert stats["model"]["name"] == "memcli-test/tiny-bow" and stats["model"]["available"]
    assert isinstance(stats["schema_version"], int)
    assert cli("stats").code == 0


def test_stats_and_doctor_on_a_fresh_home(cli, store_path) -> None:
    stats = cli("--json", "stats")
    assert stats.code == 0, stats
    assert stats.json()["exists"] is False
    assert cli("doctor").code == 0
    assert cli("--json", "list").json() == []
    assert not store_path.exists()


def test_doctor_on_a_healthy_store(cli) -> None:
    add(cli, "one note")
    result = cli("doctor")
    assert result.code == 0, result
    assert "BAD" not in result.stdout
    document = cli("--json", "doctor").json()
    assert document["ok"] is True and all(check["ok"] for check in document["checks"])


def test_version(cli) -> None:
    result = cli("--version")
    assert result.code == 0
    assert result.stdout == f"memcli {__version__}\n"


def test_help_lists_every_command(cli) -> None:
    result = cli("--help")
    assert result.code == 0, result
    listed = {line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line}
    assert set(COMMANDS) <= listed
    assert cli("-h").stdout == result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_help_of_every_command(cli, command: str) -> None:
    result = cli(command, "--help")
    assert result.code == 0, result
    assert result.stdout.startswith(f"Usage: memcli {command}")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion(cli, shell: str) -> None:
    result = cli("completion", shell)
    assert result.code == 0, result
    assert "memcli" in result.stdout and "_MEMCLI_COMPLETE" in result.stdout


def test_completion_of_an_unknown_shell(cli) -> None:
    result = cli("completion", "powershell")
    assert result.code == 2, result
    assert "powershell" in result.stderr and "bash" in result.stderr


JSON_COMMANDS = [
    ["add", "another note"],
    ["show", "{id}"],
    ["list"],
    ["list", "--archived"],
    ["edit", "{id}", "--text", "an edited note"],
    ["tag", "{id}", "+x"],
    ["pin", "{id}"],
    ["unpin", "{id}"],
    ["archive", "{id}"],
    ["restore", "{id}"],
    ["recall", "note"],
    ["recall", "note", "--explain", "-q"],
    ["forget", "{id}", "--dry-run"],
    ["forget", "--tag", "nosuchtag", "-y"],
    ["forget", "{id}", "-y"],
    ["import", "{jsonl}"],
    ["export"],
    ["export", "--all", "-"],
    ["export", "{out}"],
    ["init"],
    ["reindex"],
    ["stats"],
    ["doctor"],
]


@pytest.mark.parametrize("args", JSON_COMMANDS, ids=lambda args: "-".join(args))
def test_json_on_every_command(cli, tmp_path, args: list[str]) -> None:
    memory_id = add(cli, "a note to work on", "-t", "x")
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "imported note"}\n')
    fill = {"{id}": memory_id, "{jsonl}": str(source), "{out}": str(tmp_path / "out.jsonl")}
    argv = [fill.get(arg, arg) for arg in args]
    for result in (cli("--json", *argv), cli(*argv[:1], "--json", *argv[1:])):
        assert result.code == 0, result
        json.loads(result.stdout)  # exactly one JSON document
        if args[0] == "forget" and "-y" in args:
            break  # the memory is gone: the second spelling has nothing to do
