"""Recall quality on the development sets: memcli hybrid vs its keyword and semantic channels.

Builds one memcli store per LoCoMo conversation and one for SciFact through memcli's own
import path (cached under bench/.cache), then runs memcli's recall function in the three
modes on the same stores. Needs the real all-MiniLM-L6-v2 in ../shared/models.

    python bench/dev_eval.py [--locomo] [--scifact] [--alpha 0.5 ...]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"
CACHE = HERE / ".cache"
MODEL = SHARED / "models" / "all-MiniLM-L6-v2-onnx"


def _setup_env() -> None:
    if not (MODEL / "model.onnx").exists():
        sys.exit(f"skipped: the real model is not at {MODEL}")
    os.environ["MEMCLI_HOME"] = str(CACHE / "home")
    os.environ["MEMCLI_MODEL_PATH"] = str(MODEL)
    os.environ.pop("MEMCLI_MODEL", None)


def _context(db: Path):  # type: ignore[no-untyped-def]
    from memcli.config import load_settings
    from memcli.service.context import Context

    return Context(load_settings(db))


def _build(db: Path, records: list[dict[str, object]]) -> None:
    from memcli.service.transfer import import_memories

    if db.exists():
        return
    db.parent.mkdir(parents=True, exist_ok=True)
    tmp = db.with_name(db.name + ".building")
    tmp.unlink(missing_ok=True)
    ctx = _context(tmp)
    lines = [json.dumps(r).encode() for r in records]
    started = time.time()
    report = import_memories(ctx, lines, skip_bad=False)
    print(
        f"  built {db.name}: {report.imported} memories in {time.time() - started:.0f}s",
        file=sys.stderr,
    )
    tmp.rename(db)


def _run(db: Path, queries: list[str], mode: str, k: int, params):  # type: ignore[no-untyped-def]
    """Top-k memory ids per query, through memcli.search.recall.recall (what the CLI runs)."""
    from memcli.search.recall import QueryVector, RecallRequest, recall
    from memcli.store.memories import Filters

    ctx = _context(db)
    embedder = ctx.embedder()
    assert embedder is not None, ctx.model_error
    vectors = embedder.embed_documents(queries) if mode != "keyword" else [None] * len(queries)
    now = datetime.now(UTC)
    out = []
    with ctx.store(write=False) as store:
        for query, vector in zip(queries, vectors, strict=True):
            qv = None if vector is None else QueryVector(embedder.name, vector)
            request = RecallRequest(query, limit=k, filters=Filters(states=("active",)), mode=mode)
            out.append([h.memory.id for h in recall(store.con, request, qv, now, params)])
    return out


# --- LoCoMo -------------------------------------------------------------------------------


def _locomo_date(text: str) -> str:
    moment = datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y")
    return moment.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _turn_id(dia_id: str) -> str:
    return "t" + re.sub(r"[^0-9a-z]+", "-", dia_id.lower())


def locomo(params, ks=(5, 10, 25, 50)) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    data = json.loads((SHARED / "bench" / "locomo" / "locomo10.json").read_text())
    totals: dict[str, dict[str, list[float]]] = {}
    for conv in data:
        c = conv["conversation"]
        records = []
        for key, turns in c.items():
            if not re.fullmatch(r"session_\d+", key):
                continue
            when = _locomo_date(c[f"{key}_date_time"])
            for turn in turns:
                text = f"{turn['speaker']}: {turn['text']}"
                if turn.get("blip_caption"):
                    text += f" [image: {turn['blip_caption']}]"
                records.append({"id": _turn_id(turn["dia_id"]), "text": text, "created_at": when})
        db = CACHE / f"locomo-{conv['sample_id']}.duckdb"
        _build(db, records)
        qas = [qa for qa in conv["qa"] if qa.get("evidence")]
        questions = [qa["question"] for qa in qas]
        for mode in ("keyword", "semantic", "hybrid"):
            results = _run(db, questions, mode, max(ks), params)
            for qa, got in zip(qas, results, strict=True):
                evidence = [e for part in qa["evidence"] for e in re.split(r"[;,\s]+", part) if e]
                wanted = {_turn_id(e) for e in evidence}
                for k in ks:
                    r = len(wanted & set(got[:k])) / len(wanted)
                    for cat in ("all", f"cat{qa['category']}"):
                        totals.setdefault(mode, {}).setdefault(f"{cat}@{k}", []).append(r)
    return {m: {key: 100 * sum(v) / len(v) for key, v in d.items()} for m, d in totals.items()}


# --- SciFact ------------------------------------------------------------------------------


def scifact(params) -> dict[str, float]:  # type: ignore[no-untyped-def]
    base = SHARED / "bench" / "scifact"
    records = []
    for line in (base / "corpus.jsonl").read_text().splitlines():
        doc = json.loads(line)
        text = (doc["title"] + ". " + doc["text"]).strip()
        records.append({"id": f"d{doc['_id']}", "text": text, "created_at": "2020-01-01T00:00:00Z"})
    db = CACHE / "scifact.duckdb"
    _build(db, records)
    qrels: dict[str, dict[str, int]] = {}
    for line in (base / "qrels" / "test.tsv").read_text().splitlines()[1:]:
        qid, did, score = line.split("\t")
        qrels.setdefault(qid, {})[f"d{did}"] = int(score)
    queries = {
        q["_id"]: q["text"]
        for q in map(json.loads, (base / "queries.jsonl").read_text().splitlines())
    }
    qids = [q for q in qrels if q in queries]
    out = {}
    for mode in ("keyword", "semantic", "hybrid"):
        results = _run(db, [queries[q] for q in qids], mode, 10, params)
        scores = []
        for qid, got in zip(qids, results, strict=True):
            rel = qrels[qid]
            dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(got[:10]))
            ideal = sorted(rel.values(), reverse=True)[:10]
            idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
            scores.append(dcg / idcg if idcg else 0.0)
        out[mode] = sum(scores) / len(scores)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--locomo", action="store_true")
    parser.add_argument("--scifact", action="store_true")
    parser.add_argument("--alpha", type=float, nargs="*")
    args = parser.parse_args()
    _setup_env()
    from memcli.search.fusion import DEFAULT_PARAMS, FUSION_VERSION, FusionParams

    both = not (args.locomo or args.scifact)
    for alpha in args.alpha or [DEFAULT_PARAMS.alpha]:
        params = FusionParams(**{**DEFAULT_PARAMS.__dict__, "alpha": alpha})
        print(f"## {FUSION_VERSION}, alpha {alpha}")
        if args.locomo or both:
            res = locomo(params)
            print("LoCoMo evidence recall (%)   R@5    R@10   R@25   R@50")
            for mode, d in res.items():
                print(f"  {mode:<26} " + " ".join(f"{d[f'all@{k}']:6.1f}" for k in (5, 10, 25, 50)))
        if args.scifact or both:
            res2 = scifact(params)
            print("SciFact nDCG@10  " + "  ".join(f"{m} {v:.4f}" for m, v in res2.items()))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
