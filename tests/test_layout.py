"""The architecture's rule that SQL lives in one place: only memcli/store/ talks to DuckDB
(services, search, lifecycle, CLI and TUI call its functions)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "memcli"
QUERY_METHODS = {"execute", "executemany", "sql", "query"}


def _queries_outside_store(package: Path) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        if path.relative_to(package).parts[0] == "store":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in QUERY_METHODS
            ):
                found.append(f"{path.relative_to(package)}:{node.lineno} .{node.func.attr}(")
    return found


def test_only_the_store_package_runs_sql() -> None:
    assert _queries_outside_store(PACKAGE) == []


def test_the_check_finds_a_query_outside_the_store(tmp_path: Path) -> None:
    for folder, name in (("store", "rows.py"), ("service", "act.py")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / name).write_text('def f(con):\n    con.execute("SELECT 1")\n')
    assert _queries_outside_store(tmp_path) == ["service/act.py:2 .execute("]
