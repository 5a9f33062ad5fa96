"""export (JSON Lines to stdout or a file, Markdown, --all) and import (idempotent by id,
ids and dates preserved) through the CLI (SPEC §2)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli.helpers import add, by_id, export_all, jsonl, recall_ids

FIELDS = {"id", "text", "tags", "created_at", "importance", "pinned", "state", "source"}


@pytest.fixture
def sample(cli) -> dict[str, str]:
    """An active, a pinned and tagged one, and an archived memory."""
    ids = {
        "plain": add(cli, "the staging db is on port 6543", "--at", "2025-03-14T09:12:00Z"),
        "pinned": add(cli, "mother's birthday is on june 3", "-t", "family", "-i", "5", "--pin"),
        "archived": add(cli, "the old locker code was 1234"),
    }
    assert cli("archive", ids["archived"]).code == 0
    return ids


def parse_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memcli_home: Path) -> Path:
    """Switch MEMCLI_HOME to a new, empty home with the same config (the tiny model)."""
    home = tmp_path / "second-home"
    home.mkdir()
    shutil.copy(memcli_home / "config.toml", home / "config.toml")
    monkeypatch.setenv("MEMCLI_HOME", str(home))
    return home


def test_export_jsonl_to_stdout(cli, sample) -> None:
    for args in (["export", "--active"], ["export", "--active", "-"]):
        result = cli(*args)
        assert result.code == 0, result
        documents = parse_lines(result.stdout)
        assert {d["id"] for d in documents} == {sample["plain"], sample["pinned"]}
        for document in documents:
            assert set(document) >= FIELDS
    plain = next(d for d in parse_lines(cli("export").stdout) if d["id"] == sample["plain"])
    assert plain["created_at"] == "2025-03-14T09:12:00Z"
    assert plain["text"] == "the staging db is on port 6543"


def test_export_is_a_backup_of_every_memory_by_default(cli, sample) -> None:
    documents = parse_lines(cli("export").stdout)
    assert cli("export", "--all").stdout == cli("export").stdout  # --all: kept for scripts
    assert cli("export", "--all", "--active").code == 2
    assert {d["id"] for d in documents} == set(sample.values())
    archived = next(d for d in documents if d["id"] == sample["archived"])
    assert archived["state"] == "archived"


def test_export_to_a_file(cli, sample, tmp_path) -> None:
    target = tmp_path / "backup.jsonl"
    result = cli("export", str(target))
    assert result.code == 0, result
    assert result.stdout == ""
    assert "exported 3" in result.stderr  # archived ones too: a backup
    assert target.read_text() == cli("export").stdout


def test_export_to_an_unwritable_place(cli, sample, tmp_path) -> None:
    result = cli("export", str(tmp_path / "no" / "such" / "dir" / "out.jsonl"))
    assert result.code == 1, result
    assert "cannot write" in result.stderr and "Traceback" not in result.stderr


def test_export_markdown(cli, sample) -> None:
    result = cli("export", "--format", "md")
    assert result.code == 0, result
    text = result.stdout
    assert text.startswith("# memcli export")
    assert f"## {sample['plain']}" in text and "the staging db is on port 6543" in text
    assert "#family" in text and "pinned" in text
    assert sample["archived"] in text and "archived" in text
    assert sample["archived"] not in cli("export", "--active", "--format", "md").stdout
    assert cli("export", "--format", "csv").code == 2


def test_export_of_a_fresh_home_is_empty(cli, store_path) -> None:
    result = cli("export")
    assert (result.code, result.stdout) == (0, "")
    assert cli("--json", "export").json() == []
    assert not store_path.exists()


def test_import_into_a_fresh_home_twice(cli, sample, tmp_path, monkeypatch, memcli_home) -> None:
    exported = cli("export", "--all").stdout
    original = by_id(cli)
    fresh_home(tmp_path, monkeypatch, memcli_home)
    assert export_all(cli) == []
    first = cli("--json", "import", "-", input=exported)
    assert first.code == 0, first
    assert first.json()["imported"] == 3
    second = cli("--json", "import", "-", input=exported)
    assert second.code == 0, second
    assert (second.json()["imported"], second.json()["skipped_existing"]) == (0, 3)
    copies = by_id(cli)
    assert set(copies) == set(original)
    for memory_id, memory in original.items():
        for field in FIELDS - {"source"}:
            assert copies[memory_id][field] == memory[field], field
    # The copies are indexed: keyword and semantic recall work in the new home.
    assert recall_ids(cli, "staging port", "--mode", "keyword") == [sample["plain"]]
    assert recall_ids(cli, "birthday", "--mode", "semantic")[0] == sample["pinned"]


def test_import_from_a_file_and_without_ids(cli, tmp_path) -> None:
    source = tmp_path / "notes.jsonl"
    source.write_text(jsonl({"text": "only text is required"}, {"text": "tags too", "tags": ["A"]}))
    result = cli("import", str(source))
    assert result.code == 0, result
    assert "imported 2" in result.stderr
    memories = {m["text"]: m for m in export_all(cli)}
    assert memories["tags too"]["tags"] == ["a"]
    assert memories["only text is required"]["source"] == "import"
    again = cli("--json", "import", str(source))
    assert again.json()["skipped_duplicate"] == 2
    assert len(export_all(cli)) == 2


def test_json_report_of_a_line_with_a_lone_surrogate(memcli_proc) -> None:
    """A field name like "\\ud800" (valid JSON, no UTF-8 text) is echoed back in the report
    as JSON's escape: the --json document stays valid, and the good line is imported."""
    lines = b'{"\\ud800": null}\n{"text": "the good line"}\n'
    result = memcli_proc("--json", "import", "-", "--skip-bad", input=lines)
    assert result.code == 0, result
    report = json.loads(result.stdout)
    assert report["imported"] == 1
    [bad] = report["bad_lines"]
    assert bad["line"] == 1 and "\ud800" in bad["error"], bad


def test_imported_ids_are_accepted_by_other_commands(cli) -> None:
    assert cli("import", "-", input=jsonl({"id": "abcd1111", "text": "imported"})).code == 0
    assert cli("pin", "abcd").code == 0
    assert by_id(cli)["abcd1111"]["pinned"] is True


def test_import_keeps_supersession_links(cli, tmp_path, monkeypatch, memcli_home) -> None:
    old = add(cli, "the gate code is 1111")
    new = add(cli, "the gate code is 2222", "--supersedes", old)
    exported = cli("export", "--all").stdout
    fresh_home(tmp_path, monkeypatch, memcli_home)
    assert cli("import", "-", input=exported).code == 0
    assert by_id(cli)[old]["superseded_by"] == new


def test_json_with_markdown_export_is_json_or_refused(cli, sample) -> None:
    result = cli("--json", "export", "--format", "md")
    if result.code == 2:
        assert "json" in result.stderr.lower()
    else:
        json.loads(result.stdout)
