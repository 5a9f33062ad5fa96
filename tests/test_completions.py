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
