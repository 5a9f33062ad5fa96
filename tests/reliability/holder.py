"""A process that uses the store the way the TUI does, for test_concurrency.py.

It drives memcli.tui.backend.Browser (what the TUI's workers call): searches as someone
types, with short pauses, opening a memory now and then, until the file named by argv[1]
appears. Prints one JSON line: how many calls it made and the errors it met.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

from memcli.config import load_settings
from memcli.errors import MemcliError
from memcli.service.context import Context
from memcli.tui.backend import Browser

QUERIES = ["note", "river lamp", "orbit", "cedar violet", "quartz", "falcon meadow", "signal"]


def main() -> None:
    stop = Path(sys.argv[1])
    browser = Browser(Context(load_settings()))
    browser.load_model()
    rng = random.Random(7)
    calls: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    while not stop.exists():
        query = rng.choice(QUERIES)
        try:
            for end in range(1, len(query) + 1, 3):  # typing: one search per few keys
                result = browser.search(query[:end], "hybrid", False)
                calls["search"] += 1
                time.sleep(0.02)
            if result.rows and rng.random() < 0.3:
                browser.peek(result.rows[0].memory.id)
                calls["peek"] += 1
        except MemcliError as exc:
            errors[f"{type(exc).__name__}: {exc.message}"] += 1
        time.sleep(rng.uniform(0.05, 0.3))  # reading the results
    print(json.dumps({"calls": dict(calls), "errors": dict(errors)}))


if __name__ == "__main__":
    main()
