"""The scripts in completions/ are exactly what `memcli completion SHELL` prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = {"bash": "memcli.bash", "zsh": "_memcli", "fish": "memcli.fish"}


@pytest.mark.parametrize("shell", sorted(FILES))
def test_completion_files_are_in_sync(cli, shell: str) -> None:
    result = cli("completion", shell)
    assert result.code == 0
    committed = (ROOT / "completions" / FILES[shell]).read_text()
    assert result.stdout == committed, (
        f"completions/{FILES[shell]} is stale: regenerate it with "
        f"memcli completion {shell} > completions/{FILES[shell]}"
    )


def test_bash_completion_completes_commands_and_options(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "_MEMCLI_COMPLETE": "complete_bash",
        "COMP_WORDS": "memcli rec",
        "COMP_CWORD": "1",
    }
    out = subprocess.run(
        [sys.executable, "-m", "memcli"], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["recall"]
    env.update(COMP_WORDS="memcli recall --mo", COMP_CWORD="2")
    out = subprocess.run(
        [sys.executable, "-m", "memcli"], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["--mode"]


def test_completion_json_wraps_the_script(cli) -> None:
    result = cli("--json", "completion", "fish")
    assert result.code == 0
    assert result.json() == {"shell": "fish", "script": cli("completion", "fish").stdout}


def _complete(words: str, shell: str = "bash") -> list[str]:
    env = {
        **os.environ,
        "_MEMCLI_COMPLETE": f"complete_{shell}",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
        "_TYPER_COMPLETE_ARGS": words,
    }
    out = subprocess.run(
        [sys.executable, "-m", "memcli"], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.split()


def test_ids_tags_and_closed_values_complete(cli) -> None:
    first = cli("add", "the staging db port is 6543", "-t", "work,db").stdout.strip()
    second = cli("add", "buy oat milk", "-t", "work").stdout.strip()
    assert _complete("memcli show ") == [second, first]  # newest first
    assert _complete(f"memcli history {first[:2]}") == [first]
    assert _complete("memcli list -t ") == ["work", "db"]  # the most used first
    assert _complete("memcli recall db --mode ") == ["hybrid", "keyword", "semantic"]
    assert _complete("memcli list --sort r") == ["recalled"]
    assert _complete("memcli export --format ") == ["jsonl", "md"]
    assert _complete("memcli import notes --from j") == ["jsonl", "jrnl"]
    assert _complete("memcli schedule install --kind s") == ["systemd"]
    # zsh shows the start of each memory's text beside its id
    zsh = subprocess.run(
        [sys.executable, "-m", "memcli"],
        env={
            **os.environ,
            "_MEMCLI_COMPLETE": "complete_zsh",
            "_TYPER_COMPLETE_ARGS": "memcli show ",
        },
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "buy oat milk" in zsh and first in zsh


def test_completion_without_a_store_completes_nothing() -> None:
    assert _complete("memcli show ") == []
    assert _complete("memcli list -t ") == []
