"""Recall quality with the real all-MiniLM-L6-v2 (skipped when ../shared/models is absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REAL_MODEL

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (REAL_MODEL / "model.onnx").exists(),
        reason=f"the real all-MiniLM-L6-v2 is not at {REAL_MODEL}",
    ),
]

NOTES = {
    "stagingdb": "staging db is on port 6543, user ro_reader",
    "dentist1": "dentist appointment on friday at 3pm with Dr. Okafor",
    "mombday": "Mom's birthday is March 3rd, she likes orchids",
    "wifipass": "the wifi password at the office is hunter2",
    "ops1423": "OPS-1423: checkout fails with ERR_SSL_PROTOCOL_ERROR behind the proxy",
    "bastion": "the bastion host is 10.20.3.17, ssh with --no-verify is forbidden",
    "carinsur": "car insurance renews in June, policy number AX-77120",
    "allergy1": "Priya is allergic to peanuts, keep snacks nut-free at team lunch",
    "bookrec1": "Hiro recommended the book Piranesi by Susanna Clarke",
    "passport": "my passport expires in 2027, renewal takes six weeks",
    "plantwtr": "water the fig tree every sunday, it drops leaves when dry",
    "gymsched": "gym on monday wednesday friday mornings before work",
}
QUERIES = {
    "what port does the staging database use": "stagingdb",
    "when do I see the dentist": "dentist1",
    "what flowers does my mother like": "mombday",
    "office internet credentials": "wifipass",
    "OPS-1423": "ops1423",
    "10.20.3.17": "bastion",
    "automobile insurance policy": "carinsur",
    "who can't eat nuts": "allergy1",
    "novel suggestion": "bookrec1",
    "travel document expiry": "passport",
    "how often to water the plant": "plantwtr",
    "workout schedule": "gymsched",
}


@pytest.fixture
def real_store(cli, memcli_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    (memcli_home / "config.toml").unlink()
    monkeypatch.setenv("MEMCLI_MODEL_PATH", str(REAL_MODEL))
    lines = [json.dumps({"id": key, "text": text}) for key, text in NOTES.items()]
    source = tmp_path / "notes.jsonl"
    source.write_text("\n".join(lines) + "\n")
    assert cli("import", str(source)).code == 0
    return cli


def _top1(cli, mode: str) -> float:
    hits = 0
    for query, expected in QUERIES.items():
        result = cli("--json", "recall", query, "--mode", mode, "-k", "3")
        assert result.code == 0, result
        found = result.json()
        hits += bool(found) and found[0]["id"] == expected
    return hits / len(QUERIES)


def test_hybrid_is_at_least_as_good_as_either_channel(real_store) -> None:
    keyword, semantic, hybrid = (_top1(real_store, m) for m in ("keyword", "semantic", "hybrid"))
    assert hybrid >= max(keyword, semantic), (keyword, semantic, hybrid)
    assert hybrid >= 0.9, (keyword, semantic, hybrid)


def test_unrelated_query_returns_nothing(real_store) -> None:
    result = real_store("--json", "recall", "quantum chromodynamics lattice gauge theory")
    assert result.code == 0
    assert result.json() == []
