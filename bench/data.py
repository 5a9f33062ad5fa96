"""The development sets (LoCoMo, SciFact) as corpora with judged queries, their metrics, and
memcli stores built from them through memcli's own import path.

Protocols: ../shared/bench/README.md.
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from common import DATA, memcli_context

LOCOMO_FILE = DATA / "locomo" / "locomo10.json"
SCIFACT_DIR = DATA / "scifact"
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


@dataclass
class Corpus:
    """Memories (id, text, created_at) and the queries judged against them."""

    name: str
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    queries: list[Query] = field(default_factory=list)

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
    report = import_memories(memcli_context(building), lines, skip_bad=False)
    building.rename(db)
    print(
        f"  built {db.name}: {report.imported} memories in {time.time() - started:.0f} s",
        file=sys.stderr,
    )


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
