"""hybrid-v4 on personal notes with the real all-MiniLM-L6-v2 (skipped when it is absent):
paraphrases, exact words, updates and unrelated questions (tests/search/notes_fixture.py),
through `memcli import` and `memcli recall --json` as a user runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import REAL_MODEL
from tests.search.notes_fixture import NOTES, QUESTIONS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (REAL_MODEL / "model.onnx").exists(),
        reason=f"the real all-MiniLM-L6-v2 is not at {REAL_MODEL}",
    ),
]

LAST = datetime(2026, 11, 1, tzinfo=UTC)


def _id(key: str) -> str:
    return "n-" + key.replace("_", "-")


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], list[Any]]:
    """{(question, mode): the JSON hits} for every question in every mode, from one store."""
    from typer.testing import CliRunner

    from memcli.cli import app

    home = tmp_path_factory.mktemp("home")
    env = {"MEMCLI_HOME": str(home), "MEMCLI_MODEL_PATH": str(REAL_MODEL)}

    def run_cli(env: dict[str, str], *args: str) -> Any:
        return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)

    source = home / "notes.jsonl"
    source.write_text(
        "".join(
            json.dumps(
                {
                    "id": _id(key),
                    "text": text,
                    "created_at": (LAST - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            )
            + "\n"
            for key, text, days in NOTES
        )
    )
    assert run_cli(env, "import", str(source)).exit_code == 0
    found = {}
    for question, _, _ in QUESTIONS:
        for mode in ("hybrid", "keyword", "semantic"):
            result = run_cli(env, "--json", "recall", question, "--mode", mode, "-k", "5")
            assert result.exit_code == 0, result.output
            found[question, mode] = json.loads(result.stdout)
    return found


def _top1(answers: dict[tuple[str, str], list[Any]], kind: str, mode: str) -> float:
    asked = [(q, key) for q, key, k in QUESTIONS if k == kind]
    right = sum(
        bool(answers[q, mode]) and answers[q, mode][0]["id"] == _id(key) for q, key in asked
    )
    return right / len(asked)


@pytest.mark.parametrize("kind", ["paraphrase", "exact"])
def test_hybrid_is_at_least_as_good_as_the_better_channel(answers, kind: str) -> None:
    keyword, semantic, hybrid = (_top1(answers, kind, m) for m in ("keyword", "semantic", "hybrid"))
    assert hybrid >= max(keyword, semantic), (kind, keyword, semantic, hybrid)
    assert hybrid == 1.0, (kind, hybrid)


def test_a_common_verb_does_not_outrank_the_note_that_means_the_same(answers) -> None:
    hits = answers["who gives me my allergy shots", "hybrid"]
    assert hits[0]["id"] == _id("allergy")


def test_the_newer_fact_comes_first_and_the_older_is_marked(answers) -> None:
    for question, key, kind in QUESTIONS:
        if kind != "update":
            continue
        hits = answers[question, "hybrid"]
        assert hits[0]["id"] == _id(key) and not hits[0]["stale_candidate"], question
        older = [h for h in hits if h["id"] == _id(key.replace("_new", "_old"))]
        assert older and older[0]["stale_candidate"] and older[0]["newer"] == _id(key)


def test_scores_tell_answerable_from_unrelated_questions(answers) -> None:
    """The top score of an answerable question is above an unrelated one's (AUROC), and
    most unrelated questions get no answer at all."""
    top = {q: (answers[q, "hybrid"] or [{"score": 0.0}])[0]["score"] for q, _, _ in QUESTIONS}
    answerable = [top[q] for q, key, _ in QUESTIONS if key is not None]
    unrelated = [top[q] for q, key, _ in QUESTIONS if key is None]
    pairs = [(a > u) + 0.5 * (a == u) for a in answerable for u in unrelated]
    assert sum(pairs) / len(pairs) >= 0.9, (answerable, unrelated)
    assert sum(score == 0.0 for score in unrelated) >= 2, unrelated
    assert all(answers[q, "hybrid"] for q, key, _ in QUESTIONS if key is not None)


def test_exact_identifiers_score_high(answers) -> None:
    for question, _, kind in QUESTIONS:
        if kind == "exact":
            assert answers[question, "hybrid"][0]["score"] >= 0.65, question
