from __future__ import annotations


def test_add_then_recall_finds_it(cli) -> None:
    added = cli("add", "staging db is on port 6543, user ro_reader", "-t", "work")
    assert added.code == 0, added
    memory_id = added.stdout.strip()
    found = cli("--json", "recall", "staging port")
    assert found.code == 0, found
    assert found.json()[0]["id"] == memory_id
