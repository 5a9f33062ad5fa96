"""The development sets (LoCoMo, SciFact, LongMemEval_S dev) as corpora with judged queries,
their metrics, and memcli stores built from them through memcli's own import path.

Protocols: ../shared/bench/README.md.
"""

from __future__ import annotations

import json
import lzma
import math
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import DATA, memcli_context

LOCOMO_FILE = DATA / "locomo" / "locomo10.json"
SCIFACT_DIR = DATA / "scifact"
LONGMEMEVAL_FILE = DATA / "longmemeval" / "longmemeval_s_dev.json.xz"
LOCOMO_KS = (5, 10, 25, 50)
LOCOMO_CATEGORIES = {
    "1": "multi-hop",
    "2": "temporal",
    "3": "open-domain",
    "4": "single-hop",
    "5": "adversarial",
}


@dataclass(frozen=True)
class Query:
    text: str
    relevant: dict[str, int]  # memory id -> grade; ids found in no memory count as misses
    category: str = ""
    asked_at: str | None = None  # when the question is asked (None: now)
    answerable: bool = True  # False for an abstention question (nothing in the store answers)


@dataclass
class Corpus:
    """Memories (id, text, created_at) and the queries judged against them."""

    name: str
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    queries: list[Query] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)  # memory id -> its session, if judged
    # by session (LongMemEval): the query's `relevant` then names sessions, not memories

    def records(self) -> list[dict[str, str]]:
        return [
            {"id": i, "text": t, "created_at": c}
            for i, t, c in zip(self.ids, self.texts, self.created, strict=True)
        ]


# --- LoCoMo -------------------------------------------------------------------------------


def _locomo_date(text: str) -> str:
    moment = datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y")
    return moment.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def turn_id(dia_id: str) -> str:
    """A memcli id for a dialog id: 'D3:5' -> 't-d3-5' (the same for malformed ones)."""
    return "t" + re.sub(r"[^0-9a-z]+", "-", dia_id.lower())


def locomo(path: Path = LOCOMO_FILE, conversations: int | None = None) -> list[Corpus]:
    """One corpus per conversation: every turn a memory ('speaker: text [image: caption]',
    created at its session's date); every QA with evidence a query."""
    out = []
    for conv in json.loads(path.read_text())[:conversations]:
        c = conv["conversation"]
        corpus = Corpus(f"locomo-{conv['sample_id']}")
        for key, turns in c.items():
            if not re.fullmatch(r"session_\d+", key):
                continue
            when = _locomo_date(c[f"{key}_date_time"])
            for turn in turns:
                text = f"{turn['speaker']}: {turn['text']}"
                if turn.get("blip_caption"):
                    text += f" [image: {turn['blip_caption']}]"
                corpus.ids.append(turn_id(turn["dia_id"]))
                corpus.texts.append(text)
                corpus.created.append(when)
        for qa in conv["qa"]:
            if not qa.get("evidence"):
                continue
            evidence = [e for part in qa["evidence"] for e in re.split(r"[;,\s]+", part) if e]
            relevant = dict.fromkeys((turn_id(e) for e in evidence), 1)
            corpus.queries.append(Query(qa["question"], relevant, str(qa["category"])))
        out.append(corpus)
    return out


def recall_at(ranked: Sequence[str], relevant: dict[str, int], k: int) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant)


# --- SciFact ------------------------------------------------------------------------------


def scifact(folder: Path = SCIFACT_DIR) -> Corpus:
    """The BEIR corpus (title + '. ' + text per abstract) with the judged test queries."""
    corpus = Corpus("scifact")
    for line in (folder / "corpus.jsonl").read_text().splitlines():
        doc = json.loads(line)
        corpus.ids.append(f"d{doc['_id']}")
        corpus.texts.append((doc["title"] + ". " + doc["text"]).strip())
        corpus.created.append("2020-01-01T00:00:00Z")
    qrels: dict[str, dict[str, int]] = {}
    for line in (folder / "qrels" / "test.tsv").read_text().splitlines()[1:]:
        qid, did, score = line.split("\t")
        qrels.setdefault(qid, {})[f"d{did}"] = int(score)
    texts = {q["_id"]: q["text"] for q in map(json.loads, (folder / "queries.jsonl").open())}
    corpus.queries = [Query(texts[qid], rel) for qid, rel in qrels.items() if qid in texts]
    return corpus


def ndcg_at(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


# --- LongMemEval_S (development split) ---------------------------------------------------

LONGMEMEVAL_KS = (5, 10)


def _longmemeval_date(text: str) -> str:
    moment = datetime.strptime(text.split(" (")[0] + text[-6:], "%Y/%m/%d %H:%M")
    return moment.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def longmemeval(path: Path = LONGMEMEVAL_FILE, limit: int | None = None) -> list[Corpus]:
    """One corpus per question: every user turn of its haystack a memory (created at its
    session's date, id 's<session>-t<turn>'; the few empty turns are left out), judged by
    session; the question is asked at its question_date. Gold sessions are those with a
    `has_answer` turn."""
    with lzma.open(path, "rt", encoding="utf-8") as handle:
        questions = json.load(handle)
    out = []
    for q in questions[:limit]:
        corpus = Corpus(f"longmemeval/{q['question_id']}")
        gold: dict[str, int] = {}
        sessions = zip(
            q["haystack_session_ids"], q["haystack_dates"], q["haystack_sessions"], strict=True
        )
        for s, (session_id, date, turns) in enumerate(sessions):
            when = _longmemeval_date(date)
            for t, turn in enumerate(turns):
                if not turn["content"].strip():
                    continue  # a few turns are empty: memcli refuses an empty memory
                memory_id = f"s{s:03d}-t{t:03d}"
                corpus.ids.append(memory_id)
                corpus.texts.append(turn["content"])
                corpus.created.append(when)
                corpus.groups[memory_id] = session_id
                if turn.get("has_answer"):
                    gold[session_id] = 1
        answerable = not q["question_id"].endswith("_abs")
        asked = _longmemeval_date(q["question_date"])
        corpus.queries.append(Query(q["question"], gold, q["question_type"], asked, answerable))
        out.append(corpus)
    return out


def sessions_ranked(ranked: Sequence[str], groups: dict[str, str]) -> list[str]:
    """Sessions in the order of their best-ranked memory."""
    return list(dict.fromkeys(groups[m] for m in ranked))


def recall_all_at(ranked: Sequence[str], relevant: dict[str, int], k: int) -> float:
    return float(set(relevant) <= set(ranked[:k]))


def recall_any_at(ranked: Sequence[str], relevant: dict[str, int], k: int) -> float:
    return float(bool(set(relevant) & set(ranked[:k])))


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """The probability that a random positive scores above a random negative (ties: half)."""
    if not positives or not negatives:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


# --- memcli stores ------------------------------------------------------------------------


def store(cache: Path, corpus: Corpus) -> Path:
    """The memcli store of a corpus, built once and kept in the cache (see build_store)."""
    db = cache / f"{corpus.name}.duckdb"
    if not (db.exists() and store_is_current(db, len(corpus.ids))):
        build_store(db, corpus.records())
    return db


def build_store(db: Path, records: Sequence[dict[str, str]]) -> None:
    """(Re)build a store through memcli's import (memcli.service.transfer.import_memories,
    what `memcli import` runs), into a side file renamed when complete."""
    from memcli.service.transfer import import_memories

    db.unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    building = db.with_name(db.name + ".building")
    building.unlink(missing_ok=True)
    started = time.time()
    lines = [json.dumps(r).encode() for r in records]
    ctx = memcli_context(building)
    _memoise_embeddings(ctx.embedder())
    report = import_memories(ctx, lines, skip_bad=False)
    building.rename(db)
    print(
        f"  built {db.name}: {report.imported} memories in {time.time() - started:.0f} s",
        file=sys.stderr,
    )


_MEMO: dict[str, Any] = {}


def _memoise_embeddings(embedder: Any) -> None:
    """Make the loaded model embed each distinct chunk once per process: LongMemEval's 415
    stores share most of their turns. The vectors stored are the model's own, as memcli's
    import would compute them (a chunk's vector does not depend on its batch but for
    float rounding); only the repeats are not computed again."""
    if embedder is None or getattr(embedder, "_bench_memo", False):
        return
    import numpy as np

    embed = embedder.embed_documents

    def remembered(texts: Sequence[str], batch_size: int = 32) -> Any:
        missing = list(dict.fromkeys(t for t in texts if t not in _MEMO))
        if missing:
            _MEMO.update(zip(missing, embed(missing, batch_size), strict=True))
        return np.array([_MEMO[t] for t in texts], dtype=np.float32).reshape(len(texts), -1)

    embedder.embed_documents = remembered
    embedder._bench_memo = True


def store_is_current(db: Path, count: int) -> bool:
    """Whether a cached store holds `count` memories indexed by the current tokenizer."""
    import duckdb

    from memcli.search.tokenizer import TOKENIZER_VERSION

    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'tokenizer_version'").fetchone()
        found = con.execute("SELECT count(*) FROM memories").fetchone()
    finally:
        con.close()
    return row is not None and row[0] == str(TOKENIZER_VERSION) and found == (count,)
