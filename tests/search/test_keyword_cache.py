"""The in-process copy of the keyword index (memcli.search.keyword_index): recall with it
gives exactly what recall without it gives, it is made only from the second recall of an
unchanged store, and every kind of change, in this process or in another, is seen at the
very next recall (every write bumps memories_version)."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from memcli.config import load_settings
from memcli.lifecycle import similarity
from memcli.records import Hit
from memcli.search import keyword_index, semantic
from memcli.search.keyword_index import CachedIndex, StoreIndex
from memcli.search.recall import RecallRequest, keyword_candidates
from memcli.service.context import Context
from memcli.service.reading import recall_memories
from memcli.store import meta as store_meta
from memcli.store.connection import open_store
from memcli.store.memories import Filters
from memcli.timeparse import utc_now
from tests.cli.helpers import FILLERS, add, add_fillers, jsonl

ROOT = Path(__file__).resolve().parents[2]
QUERY = "vpn key folder"
NOW = utc_now() + timedelta(hours=1)  # a fixed clock: retention must not move between recalls


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    keyword_index.CACHE.clear()
    semantic.CACHE.clear()
    yield
    keyword_index.CACHE.clear()
    semantic.CACHE.clear()


def _recall(query: str = QUERY, **options: Any) -> list[tuple[Any, ...]]:
    # The semantic channel's own copy rounds cosines differently (tests/search/test_semantic
    # checks it): every recall here reads the vectors, so only the keyword copy varies.
    semantic.CACHE.clear()
    ctx = Context(load_settings(), clock=lambda: NOW)
    hits = recall_memories(ctx, RecallRequest(query, **options), reinforce=False)
    return [_seen(hit) for hit in hits]


def _seen(hit: Hit) -> tuple[Any, ...]:
    m = hit.memory
    return (m.id, m.text, m.state, tuple(m.tags), m.pinned, m.importance, hit.score, hit.parts)


def _reader(store_path: Path) -> StoreIndex:
    with open_store(store_path, write=False) as store:
        return keyword_index.CACHE.reader(store.con)


def _version(store_path: Path) -> str:
    with open_store(store_path, write=False) as store:
        return store_meta.memories_version(store.con)


def _check(store_path: Path, query: str = QUERY, **options: Any) -> list[tuple[Any, ...]]:
    """Recall right after a change (a copy of the old version must not answer it), then
    without any copy, then twice more (a copy of the new version is made and used, and
    stays for the next change): the same hits, scores and score parts every time."""
    first = _recall(query, **options)
    keyword_index.CACHE.clear()
    fresh = _recall(query, **options)
    _recall(query, **options)
    again = _recall(query, **options)
    assert isinstance(_reader(store_path), CachedIndex)
    assert first == fresh == again
    return fresh


def _changed(store_path: Path, change: Callable[[], object]) -> None:
    before = _version(store_path)
    change()
    assert _version(store_path) != before


def _vpn_store(cli: Any) -> dict[str, str]:
    add_fillers(cli)
    return {
        "blue": add(cli, "the vpn key is in the blue folder", "--tag", "vpn"),
        "red": add(cli, "a spare vpn key sits in the red folder"),
        "door": add(cli, "the door key hangs by the folder shelf"),
    }


def test_a_one_shot_recall_never_loads_the_copy(cli, store_path: Path) -> None:
    _vpn_store(cli)
    _recall()
    assert keyword_index.CACHE._copy is None
    assert type(_reader(store_path)) is CachedIndex  # the second look at the same version


def test_a_process_writing_between_recalls_reads_the_store(cli, store_path: Path) -> None:
    _vpn_store(cli)
    for n in range(3):
        _recall()
        add(cli, f"vpn folder note number {n}")
    assert keyword_index.CACHE._copy is None


@pytest.mark.parametrize(
    "change",
    ["add", "edit", "importance", "tag", "pin", "unpin", "archive", "restore", "forget",
     "forget-now", "import", "show", "cli-recall", "duplicate-add", "reindex"],
)  # fmt: skip
def test_every_change_in_this_process_is_seen(cli, store_path: Path, change: str) -> None:
    ids = _vpn_store(cli)
    cli("archive", ids["door"])
    checks: list[dict[str, Any]] = [
        {},
        {"filters": Filters(tags=("vpn",))},
        {"filters": Filters(states=("active", "archived")), "mode": "keyword"},
    ]
    for options in checks:
        _check(store_path, **options)
    commands: dict[str, Callable[[], object]] = {
        "add": lambda: add(cli, "vpn key folder, the third copy"),
        "edit": lambda: cli("edit", ids["blue"], "--text", "the wifi password is on the fridge"),
        "importance": lambda: cli("edit", ids["red"], "--importance", "5"),
        "tag": lambda: cli("tag", ids["red"], "+vpn"),
        "pin": lambda: cli("pin", ids["red"]),
        "unpin": lambda: (cli("pin", ids["red"]), _check(store_path), cli("unpin", ids["red"])),
        "archive": lambda: cli("archive", ids["blue"]),
        "restore": lambda: cli("restore", ids["door"]),
        "forget": lambda: cli("forget", ids["blue"], "--yes"),
        "forget-now": lambda: cli("forget", ids["red"], "--yes", "--now"),
        "import": lambda: cli("import", "-", input=jsonl({"id": "imp00001", "text": QUERY})),
        "show": lambda: cli("show", ids["red"]),
        "cli-recall": lambda: cli("recall", "spare vpn key"),
        "duplicate-add": lambda: cli("add", "a spare vpn key sits in the red folder"),
        "reindex": lambda: cli("reindex"),
    }
    _changed(store_path, lambda: _assert_ok(commands[change]()))
    for options in checks:
        _check(store_path, **options)


def _assert_ok(result: object) -> None:
    if hasattr(result, "code"):
        assert result.code == 0, result


def test_a_consolidation_merge_is_seen(
    cli, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(similarity, "UPDATE_COSINE", 0.3)
    monkeypatch.setattr(similarity, "CANDIDATE_COSINE", 0.3)
    add_fillers(cli)
    documents = [
        {"id": "dup00001", "text": "The VPN key is in the blue folder", "tags": ["vpn"]},
        {"id": "dup00002", "text": "the vpn key is in the  BLUE folder", "tags": ["keys"]},
    ]
    assert cli("import", "-", input=jsonl(*documents)).code == 0
    _check(store_path, filters=Filters(tags=("keys",)))
    _changed(store_path, lambda: _assert_ok(cli("consolidate")))
    hits = _check(store_path, filters=Filters(tags=("keys",)))
    assert [hit[0] for hit in hits] == ["dup00001"]  # the keeper took the merged one's tag
    _changed(store_path, lambda: _assert_ok(cli("restore", "dup00002")))
    _check(store_path, filters=Filters(tags=("keys",)))


@pytest.mark.parametrize(
    "command",
    [("add", "vpn key folder in another process"), ("archive", "{blue}"), ("pin", "{red}"),
     ("forget", "{red}", "--yes"), ("edit", "{blue}", "--text", "no longer about that")],
)  # fmt: skip
def test_a_change_by_another_process_is_seen(
    cli, memcli_proc, store_path: Path, command: tuple[str, ...]
) -> None:
    ids = _vpn_store(cli)
    _check(store_path)
    argv = [part.format(**ids) for part in command]
    _changed(store_path, lambda: _assert_ok(memcli_proc(*argv)))
    _check(store_path)


WORDS = (
    "vpn",
    "key",
    "folder",
    "blue",
    "red",
    "door",
    "wifi",
    "password",
    "printer",
    "office",
    "train",
    "station",
    "milk",
    "bread",
    "alice",
    "bob",
    "phone",
    "number",
    "port",
    "server",
    "backup",
    "disk",
    "certificate",
    "expires",
    "monday",
)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_stores_and_queries_score_the_same_with_the_copy(
    cli, store_path: Path, seed: int
) -> None:
    """keyword_candidates and recall, from the copy and from the store, over random notes
    (some archived, some tagged) and random queries, across random changes."""
    rng = np.random.default_rng(seed)

    def note() -> str:
        return " ".join(rng.choice(WORDS, size=int(rng.integers(2, 9))))

    documents = [
        {"id": f"rnd{n:05d}", "text": note(), "tags": ["odd"] if n % 2 else []} for n in range(60)
    ]
    assert cli("import", "-", input=jsonl(*documents)).code == 0
    for n in rng.choice(60, size=10, replace=False).tolist():
        assert cli("archive", f"rnd{n:05d}").code == 0
    filter_sets = [Filters(), Filters(tags=("odd",)), Filters(states=("active", "archived"))]
    for _round in range(3):
        queries = [note() for _ in range(8)] + [" ".join(rng.choice(WORDS, size=1))]
        for query in queries:
            for filters in filter_sets:
                _same_keyword_candidates(store_path, query, filters)
            _check(store_path, query, limit=int(rng.integers(1, 30)))
        changed = f"rnd{int(rng.integers(60)):05d}"
        cli("edit", changed, "--text", note())
        cli("forget", f"rnd{int(rng.integers(60)):05d}", "--yes")
        add(cli, note())


def _same_keyword_candidates(store_path: Path, query: str, filters: Filters) -> None:
    with open_store(store_path, write=False) as store:
        copy = keyword_index.load(store.con)
        cached = keyword_candidates(
            store.con, query, filters, 1000, source=CachedIndex(store.con, copy)
        )
        fresh = keyword_candidates(store.con, query, filters, 1000, source=StoreIndex(store.con))
    assert list(cached.items()) == list(fresh.items())


def test_a_store_made_anew_at_the_same_path_is_not_mistaken(cli, store_path: Path) -> None:
    _vpn_store(cli)
    _check(store_path)
    store_path.unlink()
    for text in FILLERS[:2]:
        add(cli, text)
    add(cli, "the vpn key went to a locker")
    assert [hit[1] for hit in _check(store_path)] == ["the vpn key went to a locker"]


# Statements that write these tables; reinforcement included (recall reads its columns).
_WRITES = re.compile(
    r"\b(INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+(memories|postings)\b"
)


def test_every_write_to_memories_or_postings_bumps_the_version() -> None:
    """Each function of memcli whose SQL writes memories or postings calls
    bump_memories_version itself (migrations run before any reader of their schema)."""
    unbumped = []
    for path in sorted((ROOT / "memcli").rglob("*.py")):
        if path.name == "migrations.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            writes = any(
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and _WRITES.search(node.value)
                for node in ast.walk(function)
            )
            bumps = any(
                isinstance(node, ast.Attribute | ast.Name)
                and getattr(node, "attr", getattr(node, "id", None)) == "bump_memories_version"
                for node in ast.walk(function)
            )
            if writes and not bumps:
                unbumped.append(f"{path.relative_to(ROOT)}:{function.lineno} {function.name}")
    assert unbumped == []


def test_encrypting_and_decrypting_keep_what_recall_finds(
    cli, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rewrite of the file (encrypt, decrypt) copies the versions with the data: the copy
    stays valid, and recall through the encrypted store finds the same."""
    ids = _vpn_store(cli)
    before = _check(store_path)
    monkeypatch.setenv("MEMCLI_KEY", "k" * 64)
    assert cli("encrypt").code == 0
    assert _check(store_path) == before
    assert cli("archive", ids["blue"]).code == 0
    after = _check(store_path)
    assert ids["blue"] not in [hit[0] for hit in after]
    assert cli("decrypt").code == 0
    assert _check(store_path) == after


def test_a_store_without_postings(cli, store_path: Path) -> None:
    """Every memory forgotten: the copy of an empty index answers (nothing) too."""
    ids = _vpn_store(cli)
    assert cli("forget", *ids.values(), "--yes").code == 0
    assert cli("forget", "--before", "2100-01-01", "--yes").code == 0
    for _ in range(3):
        assert _recall() == []
    assert isinstance(_reader(store_path), CachedIndex)
