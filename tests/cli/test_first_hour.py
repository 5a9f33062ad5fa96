"""What a newcomer types in the first hour, the way people type it."""

from __future__ import annotations

from tests.cli.helpers import add_fillers


def test_unquoted_words_are_the_text_and_the_query(cli) -> None:
    add_fillers(cli)
    added = cli("add", "buy", "oat", "milk", "and", "eggs", "-t", "shop")
    assert added.code == 0, added
    memory_id = added.stdout.strip()
    shown = cli("--json", "show", memory_id).json()
    assert shown["text"] == "buy oat milk and eggs" and shown["tags"] == ["shop"]
    hits = cli("--json", "recall", "oat", "milk", "--mode", "keyword").json()
    assert hits[0]["id"] == memory_id
    gone = cli("--json", "forget", "--query", "oat", "milk", "-y")
    assert gone.code == 0, gone
    assert gone.json()["forgotten"] == [memory_id]
    assert gone.json()["memories"] == [{"id": memory_id, "first_line": "buy oat milk and eggs"}]


def test_text_that_starts_with_a_dash_goes_after_two_dashes(cli) -> None:
    add_fillers(cli)
    refused = cli("add", "-v2", "of the api is out")
    assert refused.code == 2, refused
    assert 'goes after "--": memcli add -- -v2' in refused.stderr
    added = cli("add", "--", "-v2", "of", "the", "api", "is", "out")
    assert added.code == 0, added
    text = cli("--json", "show", added.stdout.strip()).json()["text"]
    assert text == "-v2 of the api is out"
    assert cli("recall", "--", "-v2", "api").code == 0


def test_forget_says_what_it_forgot(cli) -> None:
    add_fillers(cli)
    first = cli("add", "the wifi password is hunter2\nsecond line").stdout.strip()
    result = cli("forget", "--query", "wifi password", "-y")
    assert result.code == 0, result
    assert f"forgot {first}  the wifi password is hunter2" in result.stderr
    assert "second line" not in result.stderr and "forgot 1 memory" in result.stderr


def on_a_terminal(*args: str) -> tuple[str, str]:
    """Run memcli with stdout on a pseudo-terminal (as a person sees it); stderr piped."""
    import os
    import pty
    import subprocess
    import sys

    main, side = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "memcli", *args], stdout=side, stderr=subprocess.PIPE, text=True
    )
    os.close(side)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    return b"".join(chunks).decode().replace("\r\n", "\n"), stderr


def test_list_says_how_many_it_left_out_and_what_its_tags_mean(cli) -> None:
    for i in range(25):
        tags = ["work", "db"] if i % 5 == 0 else ["work"] if i % 2 else ["home"]
        assert cli("add", f"note number {i}", "-t", ",".join(tags)).code == 0
    stdout, stderr = on_a_terminal("list")
    lines = stdout.splitlines()
    assert lines[0].split() == ["id", "text", "·", "#tags", "age", "strength"]
    assert len(lines) == 21 and "20 of 25; -k 0 lists all" in stderr
    stdout, stderr = on_a_terminal("list", "-k", "0")
    assert len(stdout.splitlines()) == 26 and "of 25" not in stderr
    piped = cli("list")
    assert len(piped.stdout.splitlines()) == 20 and piped.stderr == ""  # a script: rows only
    both = {m["text"] for m in cli("--json", "list", "-k", "0", "-t", "work,db").json()}
    either = {m["text"] for m in cli("--json", "list", "-k", "0", "--any-tag", "db,home").json()}
    assert both == {f"note number {i}" for i in range(0, 25, 5)}
    assert either == {f"note number {i}" for i in range(25) if i % 5 == 0 or i % 2 == 0}


def test_every_commands_help_ends_with_examples(cli) -> None:
    from memcli.cli import app
    from memcli.cli.root import register

    register()
    names = [
        c.name or c.callback.__name__.replace("_", "-")  # type: ignore[union-attr]
        for c in app.registered_commands
    ]
    assert len(names) >= 26 and {"runs", "add", "recall", "tui", "mcp"} <= set(names)
    schedule = [["schedule", s] for s in ("show", "install", "remove")]
    for args in [[n] for n in names] + schedule:
        shown = cli(*args, "--help")
        assert shown.code == 0, args
        assert "Examples:" in shown.stdout or "Install it:" in shown.stdout, args
        assert shown.stdout.rstrip().splitlines()[-1].strip().startswith("-h, --help"), args
    listing = cli("--help").stdout
    assert "Print the shell completion script for bash, zsh or fish" in listing


def test_the_model_coming_back_embeds_what_was_stored_without_it(
    cli, tmp_path, monkeypatch
) -> None:
    """Offline: one notice in the hour, not one per command. Online again: recall says how
    many notes meaning cannot find yet, and each add embeds a few of them."""
    empty = tmp_path / "no-model"
    empty.mkdir()
    monkeypatch.setenv("MEMCLI_MODEL_PATH", str(empty))
    first = cli("add", "offline note 0 about bicycles")
    assert first.code == 0 and "stored without a vector" in first.stderr
    for i in range(1, 10):
        later = cli("add", f"offline note {i} about bicycles")
        assert later.code == 0 and later.stderr == "", later  # said once this hour
    assert cli("recall", "bicycles").stderr == ""
    monkeypatch.delenv("MEMCLI_MODEL_PATH")
    recalled = cli("recall", "bicycles")
    assert "10 memories are not searchable by meaning yet" in recalled.stderr
    assert cli("add", "back online").code == 0  # embeds 8 of them
    assert cli("--json", "stats").json()["vectors"]["missing"] == 2
    assert "2 memories are not searchable" in cli("recall", "bicycles").stderr
    assert cli("add", "online again").code == 0
    assert cli("--json", "stats").json()["vectors"]["missing"] == 0
    assert cli("recall", "bicycles").stderr == ""
