"""memcli import of what people already have, on files shaped like the real ones, each
imported twice (nothing twice) and once more after a change (updated, not duplicated)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli.helpers import export_all


def vault(root: Path) -> Path:
    """An Obsidian-like vault: nested folders, front matter, #tags, an attachment, the
    app's own folder and an empty note."""
    (root / "work" / "projects").mkdir(parents=True)
    (root / ".obsidian").mkdir()
    (root / ".obsidian" / "app.json").write_text("{}")
    (root / "attachments").mkdir()
    (root / "attachments" / "diagram.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / "work" / "staging.md").write_text(
        "---\ntitle: Staging database\ntags: [work, db]\ndate: 2024-05-02\n---\n"
        "The staging db is on port 6543, user ro_reader. #infra\n"
    )
    (root / "work" / "projects" / "atlas.md").write_text(
        "---\ntags:\n  - project\n  - Atlas Launch\ncreated: 2024-06-10T09:30:00Z\n---\n"
        "# Atlas\n\nKickoff with Priya.\n\n## Risks\n\nThe vendor contract ends in March. "
        "#risk\n\n```\n# not a heading #notatag\n```\n"
    )
    (root / "inbox.md").write_text("buy oat milk #errand, see issue #4521\n")
    (root / "empty.md").write_text("   \n")
    return root


def imported(cli: Any, *args: str) -> dict[str, Any]:
    result = cli("--json", "import", *args)
    assert result.code == 0, result
    report: dict[str, Any] = result.json()
    return report


def test_a_markdown_vault_imports_once_and_updates_what_changed(cli, tmp_path: Path) -> None:
    notes = vault(tmp_path / "vault")
    first = imported(cli, str(notes))
    assert first["format"] == "markdown" and first["imported"] == 3
    skipped = {s["where"]: s["why"] for s in first["skipped_sources"]}
    assert skipped == {"attachments/diagram.png": "not a Markdown file", "empty.md": "empty"}
    memories = {m["origin"]: m for m in export_all(cli)}
    staging = memories["markdown:work/staging.md"]
    assert staging["text"].startswith("# Staging database\n\nThe staging db is on port 6543")
    assert staging["tags"] == ["work", "db", "infra"] and staging["source"] == "import"
    assert staging["created_at"].startswith("2024-05-02")
    atlas = memories["markdown:work/projects/atlas.md"]
    assert atlas["tags"] == ["project", "atlas-launch", "risk"]
    assert atlas["created_at"] == "2024-06-10T09:30:00Z"
    assert memories["markdown:inbox.md"]["tags"] == ["errand"]  # #4521 is an issue number

    again = imported(cli, str(notes))
    assert again["imported"] == 0 and again["updated"] == [] and again["skipped_existing"] == 3
    (notes / "inbox.md").write_text("buy oat milk and eggs #errand\n")
    changed = imported(cli, str(notes))
    assert changed["imported"] == 0 and len(changed["updated"]) == 1
    texts = [m["text"] for m in export_all(cli)]
    assert "buy oat milk and eggs #errand" in texts and len(texts) == 3


def test_split_headings_makes_a_memory_per_section(cli, tmp_path: Path) -> None:
    notes = vault(tmp_path / "vault")
    report = imported(cli, str(notes / "work" / "projects" / "atlas.md"), "--split", "headings")
    assert report["imported"] == 2
    texts = sorted(m["text"] for m in export_all(cli))
    assert texts[0].startswith("# Atlas\n\nKickoff with Priya.")
    assert texts[1].startswith("## Risks") and "# not a heading" in texts[1]
    assert (
        imported(cli, str(notes / "work" / "projects" / "atlas.md"), "--split", "headings")[
            "imported"
        ]
        == 0
    )


def test_a_jrnl_export(cli, tmp_path: Path) -> None:
    export = tmp_path / "journal.json"
    export.write_text(
        json.dumps(
            {
                "tags": {"@work": 1},
                "entries": [
                    {
                        "title": "Met Tom about the migration.",
                        "body": "He wants it done by June.",
                        "date": "2024-03-01",
                        "time": "09:15",
                        "tags": ["@work"],
                        "starred": True,
                    },
                    {
                        "title": "Dentist moved to Friday.",
                        "body": "",
                        "date": "2024-03-02",
                        "time": "18:00",
                        "tags": [],
                        "starred": False,
                    },
                ],
            }
        )
    )
    report = imported(cli, str(export))
    assert report["format"] == "jrnl" and report["imported"] == 2
    memories = {m["text"].split("\n")[0]: m for m in export_all(cli)}
    tom = memories["Met Tom about the migration."]
    assert tom["text"].endswith("He wants it done by June.") and tom["tags"] == ["work"]
    assert tom["pinned"] is True and tom["origin"] == "jrnl"
    assert tom["created_at"].startswith("2024-03-01") or tom["created_at"].startswith("2024-02-29")
    assert imported(cli, str(export))["imported"] == 0


def test_a_mem0_export(cli, tmp_path: Path) -> None:
    export = tmp_path / "mem0.json"
    export.write_text(
        json.dumps(
            {
                "results": [
                    {
                        "id": "6f0a3c1e-6a9b-4a4f-9a55-0a1c2e3d4f5a",
                        "memory": "Is allergic to peanuts",
                        "categories": ["health", "food"],
                        "created_at": "2024-07-01T10:00:00-07:00",
                        "user_id": "alex",
                    },
                    {"id": "x", "memory": ""},
                ]
            }
        )
    )
    report = imported(cli, str(export))
    assert report["format"] == "mem0" and report["imported"] == 1
    assert report["skipped_sources"] == [{"where": "memory 2", "why": "no `memory` text"}]
    (memory,) = export_all(cli)
    assert memory["text"] == "Is allergic to peanuts" and memory["tags"] == ["health", "food"]
    assert memory["created_at"] == "2024-07-01T17:00:00Z" and memory["origin"] == "mem0"
    assert imported(cli, str(export))["imported"] == 0


def test_the_mcp_memory_servers_graph(cli, tmp_path: Path) -> None:
    graph = tmp_path / "memory.jsonl"
    graph.write_text(
        "\n".join(
            json.dumps(line)
            for line in [
                {
                    "type": "entity",
                    "name": "John Smith",
                    "entityType": "person",
                    "observations": ["Speaks fluent Spanish", "Prefers morning meetings"],
                },
                {
                    "type": "entity",
                    "name": "Acme",
                    "entityType": "organization",
                    "observations": [],
                },
                {
                    "type": "relation",
                    "from": "John Smith",
                    "to": "Acme",
                    "relationType": "works_at",
                },
            ]
        )
        + "\n"
    )
    report = imported(cli, str(graph))
    assert report["format"] == "mcp-memory" and report["imported"] == 3
    texts = {m["text"]: m["tags"] for m in export_all(cli)}
    assert texts == {
        "John Smith: Speaks fluent Spanish": ["john-smith", "person"],
        "John Smith: Prefers morning meetings": ["john-smith", "person"],
        "John Smith works at Acme": ["john-smith", "acme"],
    }
    assert imported(cli, str(graph))["imported"] == 0


def test_a_folder_without_from_is_markdown_and_bad_formats_are_clear(cli, tmp_path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("a note\n")
    assert imported(cli, str(notes))["imported"] == 1
    unknown = tmp_path / "data.csv"
    unknown.write_text("a,b\n1,2\n")
    refused = cli("import", str(unknown))
    assert refused.code == 2 and "--from" in refused.stderr
    assert cli("import", str(notes), "--from", "csv").code == 2
    assert cli("import", "-", "--from", "jrnl").code == 2
