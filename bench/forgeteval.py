"""ForgetEval-Adv: the 132 hand-crafted adversarial forgetting cases, memcli next to simple
deterministic stores, scored as ../shared/bench/forgeteval/README.md says.

Each case: reset, add the setup facts, apply the mutations, then recall the final query with
k = 5. Pass = every must_contain string is in the joined top-5 texts (case-folded) and no
must_not_contain string is in the top 5 of the final query ("unprobed", the scoring up to
v0.6) nor, "probed" (v0.7, the default), in the top 5 of each must_not_contain string used
as its own query. No system here leaves an operation unimplemented (N/A), so the strict
score, which counts N/A as a failure, equals the lenient one.

memcli runs through the service functions its commands call, one fresh store per case:

  inscribe   `memcli add FACT`                              (writing.add)
  supersede  `memcli recall SELECTOR -k 1`, then `memcli add NEW --supersedes ID` with the
             best hit (the old memory is archived); NEW is added alone when nothing matches
  release    `memcli archive` of the selected memories     (writing.set_flag)
  purge      `memcli forget --now` of the selected memories (forgetting.forget with
             erase_now: text, postings, vectors and history rows are deleted, then the file
             is rewritten so the bytes are gone; active and archived memories are
             candidates, as for `forget --query`)
  recall     `memcli recall QUERY -k 5`                     (reading.recall_memories)

Which memories a release or purge selects is the user's (or agent's) choice; memcli offers
`forget --query Q -k N`. Three policies, fixed before the first run and not tuned here:

  top1      the best hit only (`forget --query Q`, `-k 1` being the default)
  relevant  every hit of `recall Q -k 10` scoring at least half of the best hit's score, as a
            careful agent would take "everything about X" (the headline policy)
  floor     every hit memcli's relevance floor lets through (`recall Q -k 10`)

The baselines are deterministic stores in the sense of the ForgetEval paper: a list of
texts searched by one ranker (rank-bm25 over memcli's tokenizer, numpy cosine over
fastembed vectors of the same model, or grep), where supersede replaces the top-1 match of
the selector, release and purge delete it, and recall returns the top k.

    python bench/forgeteval.py [--cases FILE] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import baselines  # noqa: E402
from common import DATA, Bench, add_common_args, fastembed_model, md_table  # noqa: E402

CASES = DATA / "forgeteval" / "forgeteval_adv_handcrafted_132.jsonl"
TOP_K = 5
POLICIES = ("relevant", "top1", "floor")
RELEVANT_SHARE = 0.5
PUBLISHED = (
    "Published (ForgetEval paper): deterministic-primitive stores 5% on identifier "
    "obfuscation and 0% on cross-lingual cases; an LLM hook at mutation time 91.7-93.2% "
    "overall."
)


class Adapter(Protocol):
    def reset(self) -> None: ...
    def inscribe(self, fact: str) -> None: ...
    def supersede(self, selector: str, new_fact: str) -> None: ...
    def release(self, selector: str) -> None: ...
    def purge(self, selector: str) -> None: ...
    def recall_texts(self, query: str, k: int) -> list[str]: ...


class MemcliAdapter:
    """memcli through its service functions, one store per case in a temporary folder."""

    def __init__(self, folder: Path, policy: str) -> None:
        self._folder = folder
        self._policy = policy
        self._case = 0
        self._ctx: Any = None

    def reset(self) -> None:
        from common import memcli_context

        self._case += 1
        self._ctx = memcli_context(self._folder / f"{self._policy}-{self._case}.duckdb")

    def inscribe(self, fact: str) -> None:
        from memcli.service.writing import add

        add(self._ctx, fact, tags=[])

    def supersede(self, selector: str, new_fact: str) -> None:
        from memcli.service.writing import add

        hits = self._recall(selector, 1, ("active",))
        add(self._ctx, new_fact, tags=[], supersedes=hits[0].memory.id if hits else None)

    def release(self, selector: str) -> None:
        from memcli.service.writing import set_flag

        chosen = self._select(selector, ("active",))
        if chosen:
            set_flag(self._ctx, [m.id for m in chosen], "state", "archived", "archived")

    def purge(self, selector: str) -> None:
        from memcli.service.forgetting import forget

        forget(self._ctx, self._select(selector, ("active", "archived")), erase_now=True)

    def recall_texts(self, query: str, k: int) -> list[str]:
        return [hit.memory.text for hit in self._recall(query, k, ("active",))]

    def _recall(self, query: str, k: int, states: tuple[str, ...]) -> list[Any]:
        from memcli.search.recall import RecallRequest
        from memcli.service.reading import recall_memories
        from memcli.store.memories import Filters

        request = RecallRequest(query, limit=k, filters=Filters(states=states))
        return recall_memories(self._ctx, request, reinforce=False)

    def _select(self, selector: str, states: tuple[str, ...]) -> list[Any]:
        if self._policy == "top1":
            from memcli.service.forgetting import ForgetSelector, select_for_forget

            return select_for_forget(self._ctx, ForgetSelector(query=selector, limit=1))
        hits = self._recall(selector, 10, states)
        if self._policy == "relevant" and hits:
            hits = [h for h in hits if h.score >= RELEVANT_SHARE * hits[0].score]
        return [h.memory for h in hits]


class ListStore:
    """A deterministic store: texts in a list, one ranker, top-1 mutations."""

    def __init__(self, rank: Callable[[Sequence[str], str], np.ndarray]) -> None:
        self._rank = rank
        self._texts: list[str] = []

    def reset(self) -> None:
        self._texts = []

    def inscribe(self, fact: str) -> None:
        self._texts.append(fact)

    def _top(self, query: str, k: int) -> list[int]:
        if not self._texts:
            return []
        return baselines.ranked(self._rank(self._texts, query), k, False)

    def supersede(self, selector: str, new_fact: str) -> None:
        top = self._top(selector, 1)
        if top:
            del self._texts[top[0]]
        self._texts.append(new_fact)

    def release(self, selector: str) -> None:
        for i in self._top(selector, 1):
            del self._texts[i]

    purge = release

    def recall_texts(self, query: str, k: int) -> list[str]:
        return [self._texts[i] for i in self._top(query, k)]


def bm25_ranker(texts: Sequence[str], query: str) -> np.ndarray:
    from rank_bm25 import BM25Okapi

    from memcli.search.tokenizer import tokenize

    return np.asarray(
        BM25Okapi([tokenize(t) or ["\x00"] for t in texts]).get_scores(tokenize(query))
    )


def grep_ranker(texts: Sequence[str], query: str) -> np.ndarray:
    words = baselines.Grep.words(query)
    return np.array([sum(w in t.casefold() for w in words) for t in texts], dtype=np.float64)


def vector_ranker(bench: Bench) -> Callable[[Sequence[str], str], np.ndarray]:
    model = fastembed_model(bench)
    cache: dict[str, np.ndarray] = {}

    def vector(text: str) -> np.ndarray:
        if text not in cache:
            cache[text] = np.asarray(next(iter(model.embed([text]))), dtype=np.float32)
        return cache[text]

    def rank(texts: Sequence[str], query: str) -> np.ndarray:
        return np.array([vector(t) for t in texts]) @ vector(query)

    return rank


@dataclass(frozen=True)
class Outcome:
    unprobed: bool
    probed: bool


def run_case(adapter: Adapter, case: dict[str, Any]) -> Outcome:
    adapter.reset()
    for fact in case["setup_facts"]:
        adapter.inscribe(fact)
    for op, selector, *rest in case["mutations"]:
        if op == "supersede":
            adapter.supersede(selector, rest[0])
        elif op == "release":
            adapter.release(selector)
        elif op == "purge":
            adapter.purge(selector)
        else:
            raise ValueError(f"unknown operation {op!r} in {case['id']}")
    answer = " ".join(adapter.recall_texts(case["final_query"], TOP_K)).casefold()
    must_not = [s.casefold() for s in case["must_not_contain"]]
    contains = all(s.casefold() in answer for s in case["must_contain"])
    unprobed = contains and not any(s in answer for s in must_not)
    seen = answer
    for probe in case["must_not_contain"]:
        seen += " " + " ".join(adapter.recall_texts(probe, TOP_K)).casefold()
    return Outcome(unprobed, unprobed and not any(s in seen for s in must_not))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=Path, default=CASES)
    parser.add_argument("--limit", type=int, help="only the first N cases")
    add_common_args(parser)
    args = parser.parse_args(argv)
    from common import record, setup

    bench = setup(args, __file__, argv)
    started = time.time()
    cases = [json.loads(line) for line in args.cases.read_text().splitlines() if line.strip()]
    cases = cases[: args.limit]
    with tempfile.TemporaryDirectory(prefix="forgeteval-", dir=bench.cache) as folder:
        systems: dict[str, Adapter] = {
            f"memcli, {p}": MemcliAdapter(Path(folder), p) for p in POLICIES
        }
        systems["list store, rank-bm25"] = ListStore(bm25_ranker)
        systems["list store, vectors"] = ListStore(vector_ranker(bench))
        systems["list store, grep"] = ListStore(grep_ranker)
        results: dict[str, dict[str, list[Outcome]]] = defaultdict(lambda: defaultdict(list))
        for name, adapter in systems.items():
            for case in cases:
                outcome = run_case(adapter, case)
                results[name][case["attack_category"]].append(outcome)
                results[name]["all"].append(outcome)
    body = report(cases, results)
    print(
        "\n".join(
            f"{name:<24} probed {rate(r['all'], 'probed')}  unprobed {rate(r['all'], 'unprobed')}"
            for name, r in results.items()
        ),
        file=sys.stderr,
    )
    from memcli.search.fusion import FUSION_VERSION

    record(
        bench, f"ForgetEval-Adv, memcli ({FUSION_VERSION}) and deterministic stores", body, started
    )


def rate(outcomes: list[Outcome], kind: str) -> str:
    passed = sum(getattr(o, kind) for o in outcomes)
    return f"{100 * passed / len(outcomes):.1f}% ({passed}/{len(outcomes)})"


def report(cases: list[dict[str, Any]], results: dict[str, dict[str, list[Outcome]]]) -> str:
    categories = sorted({c["attack_category"] for c in cases})
    names = list(results)
    counts = {c: sum(x["attack_category"] == c for x in cases) for c in categories}
    parts = [
        f"{len(cases)} cases. Pass rates, probed (v0.7 scoring) / unprobed (v0.6); strict = "
        "lenient (no operation is N/A). memcli policies for release and purge: `relevant` = "
        f"hits of the selector scoring >= {RELEVANT_SHARE} x the best (headline), `top1` = "
        "the best hit, `floor` = every hit past memcli's relevance floor. " + PUBLISHED,
        "",
        md_table(
            ["system", "probed", "unprobed"],
            [
                [n, rate(results[n]["all"], "probed"), rate(results[n]["all"], "unprobed")]
                for n in names
            ],
        ),
        "",
        "Probed pass rate per attack category (%):",
        "",
        md_table(
            ["category (cases)", *names],
            [
                [f"{c} ({counts[c]})", *(_pct(results[n][c], "probed") for n in names)]
                for c in categories
            ],
        ),
    ]
    return "\n".join(parts)


def _pct(outcomes: list[Outcome], kind: str) -> str:
    return f"{100 * sum(getattr(o, kind) for o in outcomes) / len(outcomes):.0f}"


if __name__ == "__main__":
    main()
