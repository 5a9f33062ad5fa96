"""A tiny run of every bench script (bench/), so the harness cannot rot.

Each script runs on a few synthetic memories with the tiny test model, writes its stores in
a temporary cache, and records its section in a temporary results file (never in
bench/RESULTS.md). The assertions check the tables the scripts print and record, and that
memcli's numbers in them are the ones the data allows.
"""

from __future__ import annotations

import importlib
import json
import lzma
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support.tiny_model import TINY_DIM, TINY_MODEL_NAME

BENCH = Path(__file__).resolve().parents[2] / "bench"

TURNS = [
    ("Ann", "I adopted a puppy named Biscuit last weekend"),
    ("Ben", "Congrats! What breed is Biscuit?"),
    ("Ann", "A beagle, he loves the park by the river"),
    ("Ben", "I started pottery classes on Tuesdays"),
    ("Ann", "Pottery sounds fun, what did you make?"),
    ("Ben", "A blue bowl for my sister"),
]
LATER = [
    ("Ann", "Biscuit learned to sit and fetch"),
    ("Ben", "My sister loved the blue bowl"),
    ("Ann", "We moved to a flat near the station"),
]


def _locomo(folder: Path) -> Path:
    def turns(session: int, rows: list[tuple[str, str]]) -> list[dict[str, str]]:
        return [
            {"speaker": who, "text": text, "dia_id": f"D{session}:{i + 1}"}
            for i, (who, text) in enumerate(rows)
        ]

    conversation = {
        "speaker_a": "Ann",
        "speaker_b": "Ben",
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": turns(1, TURNS),
        "session_2_date_time": "10:37 am on 27 June, 2023",
        "session_2": turns(2, LATER),
    }
    qa = [
        {"question": "What is the name of Ann's puppy?", "evidence": ["D1:1"], "category": 4},
        {"question": "When are Ben's pottery classes?", "evidence": ["D1:4"], "category": 1},
        {"question": "Where did Ann move?", "evidence": ["D2:3; D9:99"], "category": 2},
        {"question": "no evidence", "answer": "x", "category": 5},
    ]
    path = folder / "locomo.json"
    path.write_text(json.dumps([{"sample_id": "conv-t", "conversation": conversation, "qa": qa}]))
    return path


def _scifact(folder: Path) -> Path:
    docs = {  # ids of three digits or more, as in SciFact (memcli ids have 4+ characters)
        "101": ("Aspirin and heart attacks", "Daily aspirin lowers the risk of heart attack."),
        "102": ("Coffee and sleep", "Caffeine in coffee delays sleep onset in adults."),
        "103": ("Dogs and stress", "Owning a dog reduces stress hormones in owners."),
        "104": ("Vitamin D", "Vitamin D supplements do not prevent fractures."),
    }
    root = folder / "scifact"
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": k, "title": t, "text": x}) + "\n" for k, (t, x) in docs.items())
    )
    queries = {"q1": "aspirin prevents heart attack", "q2": "coffee keeps people awake"}
    (root / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": k, "text": v}) + "\n" for k, v in queries.items())
    )
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\t101\t1\nq2\t102\t1\n")
    return root


def _longmemeval(folder: Path) -> Path:
    """Three questions over two-session haystacks: one answerable in each way the protocol
    scores (a single gold session, and an update across two sessions), and one abstention."""

    def question(qid: str, qtype: str, text: str, sessions: list[list[tuple[str, bool]]]) -> Any:
        return {
            "question_id": qid,
            "question_type": qtype,
            "question": text,
            "answer": "x",
            "question_date": "2023/06/30 (Fri) 10:00",
            "haystack_session_ids": [f"{qid}_s{i}" for i in range(len(sessions))],
            "haystack_dates": [f"2023/0{i + 1}/15 (Mon) 09:30" for i in range(len(sessions))],
            "answer_session_ids": [f"{qid}_s{i}" for i in range(len(sessions))],
            "haystack_sessions": [
                [
                    {"role": "user", "content": text, **({"has_answer": True} if gold else {})}
                    for text, gold in session
                ]
                for session in sessions
            ],
        }

    questions = [
        question(
            "q1", "single-session-user", "What breed is my puppy Biscuit?",
            [[("I adopted a beagle puppy named Biscuit", True), ("the park is by a river", False)],
             [("pottery classes start on Tuesdays", False), ("  ", False)]],
        ),
        question(
            "q2", "knowledge-update", "How many engineers do I lead now?",
            [[("I lead a team of 4 engineers at work", True), ("my sister loved the bowl", False)],
             [("I now lead a team of 5 engineers", True), ("we moved near the station", False)]],
        ),
        question(
            "q3_abs", "single-session-user", "What is the name of my hamster?",
            [[("my cat Luna sleeps all day", False)], [("the train was late again", False)]],
        ),
    ]  # fmt: skip
    path = folder / "longmemeval.json.xz"
    with lzma.open(path, "wt", encoding="utf-8") as handle:
        json.dump(questions, handle)
    return path


CASES = [
    {
        "id": "adv_prefix_collision_01",
        "family": "purge",
        "setup_facts": [
            "Customer alice@acme.io subscribed in 2024.",
            "Customer alice.smith@acme.io subscribed in 2023.",
            "Quarterly all-hands was rescheduled.",
        ],
        "mutations": [["purge", "alice@acme.io"]],
        "final_query": "Which alice customers subscribed?",
        "must_contain": ["alice.smith@acme.io"],
        "must_not_contain": ["alice@acme.io subscribed"],
        "attack_category": "prefix_collision",
    },
    {
        "id": "adv_recursive_supersession_01",
        "family": "drift",
        "setup_facts": ["User has been using Chrome as primary browser since 2020."],
        "mutations": [
            ["supersede", "user primary browser Chrome", "User switched to Brave in 2024."],
            ["supersede", "user primary browser Brave", "User switched back to Chrome in 2025."],
        ],
        "final_query": "Did the user switch back to Chrome?",
        "must_contain": ["Chrome"],
        "must_not_contain": ["switched to Brave"],
        "attack_category": "recursive_supersession",
    },
]


@pytest.fixture
def bench(tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run a bench script's main() in this process with the tiny model and a temporary cache;
    returns (its stdout, the results file)."""
    monkeypatch.syspath_prepend(str(BENCH))
    for name in ("MEMCLI_HOME", "MEMCLI_MODEL_PATH", "PYTHONPATH"):
        monkeypatch.setenv(name, "")  # restored after the test: the scripts set them
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\nIntro.\n\n## older section\n\nold\n")
    common = [
        "--cache", str(tmp_path / "cache"), "--model", str(tiny_model_dir),
        "--model-name", TINY_MODEL_NAME, "--dim", str(TINY_DIM), "--results", str(results),
    ]  # fmt: skip

    def run(script: str, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
        module = _load(script)
        module.main([*args, *common])
        return capsys.readouterr().out, results.read_text()

    return run


def _load(script: str) -> ModuleType:
    if script in sys.modules:
        return importlib.reload(sys.modules[script])
    return importlib.import_module(script)


def _row(table: str, name: str) -> list[str]:
    line = next(line for line in table.splitlines() if line.startswith(f"| {name} |"))
    return [cell.strip() for cell in line.strip("|").split("|")][1:]


def _recorded_newest_first(results: str, title: str) -> None:
    sections = re.findall(r"^## (.*)$", results, flags=re.MULTILINE)
    assert title in sections[0] and sections[1] == "older section"
    assert results.startswith("# Benchmark results\n\nIntro.\n")
    assert "cores" in results and "RAM" in results and "python bench/" in results


def test_dev_eval_ranks_every_system_on_every_set(bench: Any, tmp_path: Path, capsys: Any) -> None:
    out, results = bench(
        "dev_eval",
        "--locomo-file", str(_locomo(tmp_path)), "--scifact-dir", str(_scifact(tmp_path)),
        "--longmemeval-file", str(_longmemeval(tmp_path)),
        capsys=capsys,
    )  # fmt: skip
    _recorded_newest_first(results, "recall quality")
    for system in ("memcli hybrid", "rank-bm25, lowercase split", "grep, substrings"):
        locomo = _row(out, system)
        assert len(locomo) == 5
        recall = [float(v) for v in locomo[:4]]
        assert recall == sorted(recall) and all(0 <= r <= 100 for r in recall)
    # "Where did Ann move?" has one evidence id that is no turn: a miss by protocol, so no
    # system reaches 100 at any k; the other two questions are found by keyword search.
    assert max(float(v) for v in _row(out, "memcli keyword")[:4]) == pytest.approx(83.3, abs=0.1)
    assert "R@5 per category" in out and "1 multi-hop (1)" in out
    assert len(_row(out, "hybrid - better channel")) == 5
    scifact = out[out.index("SciFact nDCG@10") :]
    assert float(_row(scifact, "memcli keyword")[0]) == pytest.approx(1.0)
    assert float(_row(scifact, "rank-bm25, memcli tokenizer")[0]) == pytest.approx(1.0)
    lme = out[out.index("LongMemEval_S dev") :]
    assert "3 questions, 2 answerable with gold sessions, 1 abstention" in lme
    # two answerable questions of two sessions each: every session is in the top 5
    assert [float(v) for v in _row(lme, "memcli keyword")[:4]] == [1.0, 1.0, 1.0, 1.0]
    assert "knowledge-update (1)" in lme and "single-session-user (1)" in lme
    abstention = lme[lme.index("Abstention and updates") :]
    auroc, empty_abs, empty_answerable, newest = _row(abstention, "memcli hybrid")
    assert 0.0 <= float(auroc) <= 1.0 and float(empty_answerable) == 0.0
    assert float(empty_abs) in (0.0, 1.0) and float(newest) in (0.0, 1.0)


def test_forgeteval_scores_every_system(bench: Any, tmp_path: Path, capsys: Any) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps(c) + "\n" for c in CASES))
    out, results = bench("forgeteval", "--cases", str(cases), capsys=capsys)
    _recorded_newest_first(results, "ForgetEval-Adv")
    # top1 forgets only the best match of "alice@acme.io", and supersedes twice: both pass
    assert _row(out, "memcli, top1") == ["100.0% (2/2)", "100.0% (2/2)"]
    assert "prefix_collision (1)" in out and "recursive_supersession (1)" in out


def test_forgeteval_case_scoring() -> None:
    sys.path.insert(0, str(BENCH))
    try:
        forgeteval = _load("forgeteval")
    finally:
        sys.path.remove(str(BENCH))

    class Keeps(forgeteval.ListStore):  # type: ignore[misc,name-defined]
        """Ignores every mutation: the forgotten fact stays findable."""

        def supersede(self, selector: str, new_fact: str) -> None:
            self.inscribe(new_fact)

        def purge(self, selector: str) -> None:
            pass

    assert forgeteval.run_case(Keeps(forgeteval.bm25_ranker), CASES[0]) == forgeteval.Outcome(
        False, False
    )
    # BM25 over memcli's tokens tells alice@acme.io from alice.smith@acme.io; grep's words
    # (alice, acme, io) do not, and its top-1 purge takes the newer memory: the wrong one.
    assert forgeteval.run_case(forgeteval.ListStore(forgeteval.bm25_ranker), CASES[0]).probed
    assert not forgeteval.run_case(forgeteval.ListStore(forgeteval.grep_ranker), CASES[0]).probed


def test_ann_probe_compares_probes_with_the_exact_channel(
    bench: Any, tmp_path: Path, capsys: Any
) -> None:
    out, results = bench(
        "ann_probe",
        "--scifact-dir", str(_scifact(tmp_path)),
        "--clusters", "2", "--shares", "0.25", "1.0", "--keyword-exact", "0", "all",
        capsys=capsys,
    )  # fmt: skip
    _recorded_newest_first(results, "approximate semantic channel")
    exact = float(_row(out, "exact (memcli)")[3])
    probes = [line for line in out.splitlines() if line.startswith("| probe |")]
    assert len(probes) == 4  # 2 shares x 2 keyword counts, one clustering
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in probes]
    assert [c[2] for c in cells] == ["25%", "25%", "100%", "100%"]
    assert [c[3] for c in cells] == ["0", "all", "0", "all"]
    # Reading every row is the exact channel: the same ranking and every candidate found.
    for row in cells[2:]:
        assert float(row[4]) == pytest.approx(exact) and row[6] == "1.000"


@pytest.mark.parametrize(
    "bad",
    [["--shares", "0"], ["--shares", "1.5"], ["--keyword-exact", "some"], ["--clusters", "0"]],
)
def test_ann_probe_refuses_bad_options(
    bench: Any, tmp_path: Path, capsys: Any, bad: list[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        bench("ann_probe", "--scifact-dir", str(_scifact(tmp_path)), *bad, capsys=capsys)
    assert exited.value.code == 2
    assert "expected" in capsys.readouterr().err
    assert not (tmp_path / "cache").exists()  # nothing was built


def test_consolidate_cost_times_a_night(bench: Any, capsys: Any) -> None:
    out, results = bench(
        "consolidate_cost", "--size", "30", "--new", "12", "--runs", "2", capsys=capsys
    )
    _recorded_newest_first(results, "nightly consolidate at scale")
    row = _row(out, "30")
    assert row[0] == "12" and len(row) == 6
    for cell in row[1:4]:  # embed, consolidate wall, in the run: median (min-max), in seconds
        median, spread = cell.split(" ")
        low, high = (float(v) for v in spread.strip("()").split("-"))
        assert 0 <= low <= float(median) <= high
    assert float(row[4]) > 0 and float(row[5]) > 0
    # The night's new notes were compared (an exact repeat is not a new row: import
    # reinforces the stored one instead), not the 30 stored ones marked as consolidated.
    found = re.search(r"Last run: compared (\d+), merged \d+, superseded \d+", out)
    assert found is not None and 1 <= int(found.group(1)) <= 12


def test_tune_reproduces_memcli_recall(bench: Any, tmp_path: Path, capsys: Any) -> None:
    out, results = bench(
        "tune",
        "--locomo-file", str(_locomo(tmp_path)), "--scifact-dir", str(_scifact(tmp_path)),
        "--longmemeval-file", str(_longmemeval(tmp_path)), "--check", "6",
        capsys=capsys,
    )  # fmt: skip
    _recorded_newest_first(results, "fusion ablations")
    assert "LoCoMo 0/6, SciFact 0/6, LongMemEval 0/6." in out
    row = _row(out, "hybrid-v4 (memcli's)")
    assert len(row) == 5 and float(row[0]) == pytest.approx(83.3, abs=0.1)
    assert float(row[2]) == pytest.approx(1.0) and float(row[3]) == pytest.approx(1.0)
    assert len(_row(out, "hybrid-v3 (min-max, relative BM25)")) == 5


def test_warm_times_recalls(bench: Any, capsys: Any) -> None:
    out, results = bench("warm", "--sizes", "20", "--runs", "5", "--breakdown", capsys=capsys)
    _recorded_newest_first(results, "warm recall")
    row = _row(out, "20")
    assert len(row) == 5 and all(float(v) > 0 for v in row[:4])
    steps = _row(out[out.index("Where a warm recall's time goes") :], "20")
    assert len(steps) == 6 and all(float(v) >= 0 for v in steps)


def test_mcp_call_times_tool_calls_on_a_served_store(bench: Any, capsys: Any) -> None:
    pytest.importorskip("mcp", reason="the mcp extra is not installed")
    out, results = bench("mcp_call", "--sizes", "20", "--runs", "3", capsys=capsys)
    _recorded_newest_first(results, "memcli mcp: recall tool calls")
    row = _row(out, "20")
    assert len(row) == 5 and all(float(v) > 0 for v in row)


def test_scale_runs_every_cold_command(bench: Any, capsys: Any) -> None:
    out, results = bench(
        "scale", "--sizes", "20", "--runs", "1", "--import-count", "10", capsys=capsys
    )
    _recorded_newest_first(results, "speed and size")
    row = _row(out, "20")
    assert len(row) == 10 and int(row[9].replace(",", "")) > 0
    assert all(float(row[i].split()[0]) > 0 for i in (2, 3, 4, 6))  # recall, first, add
    assert _row(out, "10")[2].split()[0].replace(".", "").isdigit()


def test_no_record_leaves_the_results_file_alone(bench: Any, tmp_path: Path, capsys: Any) -> None:
    before = (tmp_path / "RESULTS.md").read_text()
    out, results = bench(
        "dev_eval", "--scifact", "--scifact-dir", str(_scifact(tmp_path)), "--no-record",
        capsys=capsys,
    )  # fmt: skip
    assert "SciFact nDCG@10" in out and results == before


def test_due_copy_makes_every_hit_due_for_reinforcement(cli: Any, store_path: Path) -> None:
    from tests.cli.helpers import add, query_db, recall_ids

    add(cli, "the staging db is on port 6543")
    add(cli, "the gate code is 2222")
    assert recall_ids(cli, "staging db port")  # reinforces its hits (today)
    sys.path.insert(0, str(BENCH))
    try:
        scale = _load("scale")
    finally:
        sys.path.remove(str(BENCH))
    due = store_path.with_name("due.duckdb")
    scale.due_copy(store_path, due)
    reinforced = "SELECT count(*) FROM events WHERE kind = 'reinforced'"
    before = query_db(due, reinforced)[0][0]
    assert cli("--db", str(due), "--json", "recall", "staging db port").code == 0
    again = query_db(due, reinforced)[0][0]
    assert again > before > 0  # the same query, a day later as far as the copy knows
    assert cli("--db", str(due), "--json", "recall", "staging db port").code == 0
    assert query_db(due, reinforced)[0][0] == again  # and then within the day
