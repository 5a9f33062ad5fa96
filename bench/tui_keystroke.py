"""The TUI at scale: how fast it opens, and from a keystroke to its results on the screen.

Runs the real `memcli tui` app (memcli.tui.app.MemcliApp) on a private copy of the scale
store of --size notes (bench/scale.py builds it, cached in --cache; the copy keeps the
TUI's reads and its reinforcements out of the cache other scripts share). Measured:

  cold open     `memcli --db COPY tui` started in a tmux pane, as a user starts it -> the
                recent list on the terminal (capture-pane polled every ~10 ms); needs tmux
  first screen  in this process (Pilot, headless, 120x40): app start -> the recent list drawn
  model ready   app start -> the model loaded and the vectors read once, in a worker
  keystroke     warm: every character of the query but the last in the search box and
                answered; press the last key -> its results drawn (after the next screen
                refresh). Includes the debounce (tui.debounce_ms, default 40 ms), the search
                in its worker thread and the redraw; `search` is the worker's part alone.
  typing        the whole query typed at --cps keys a second: last keystroke -> its results
                drawn (searches of earlier keystrokes may still hold the store)
  open          Enter on the first result of a query -> the opened memory drawn in the
                detail pane; every memory of the copy is due for reinforcement
                (bench/scale.py's due_copy), so this open also writes, as a user's first
                look at a note that day (unless an earlier query's open counted it already)
  open again    back in the search box, Enter on the same result: a read, nothing due

    python bench/tui_keystroke.py [--size 100000] [--rounds 2] [--cold-runs 6]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from common import Bench, add_common_args, md_table, percentile  # noqa: E402

# Queries a person would type at the scale store's notes (names, hosts, tickets, books).
QUERIES = [
    "Alice phone number",
    "staging db port",
    "who is allergic to peanuts",
    "OPS-1423",
    "VPN certificate expires",
    "book recommendation from Bob",
    "where does Carol live now",
    "router ip address",
    "dentist in March",
    "gift for Dmitri",
    "trip to Lisbon",
    "grafana dashboard user",
    "Priya moved",
    "backup disk",
    "kiwi allergy",
    "build server port and user",
    "Hiro phone",
    "CI runner is down",
    "redis cache port",
    "hotel booked for the trip",
]


def cold_open(bench: Bench, db: Path, runs: int) -> list[float]:
    """Seconds from starting `memcli tui` in a tmux pane to the recent list on screen."""
    tmux = shutil.which("tmux")
    if tmux is None or runs < 1:
        return []
    # os.environ, not the C environment, which readline may have given COLUMNS and LINES.
    env = {k: v for k, v in bench.env().items() if k not in ("COLUMNS", "LINES")}
    command = f"{sys.executable} -m memcli --db {db} tui; sleep 30"
    times = []
    for run in range(runs):
        base = [tmux, "-L", f"memcli-bench-{os.getpid()}-{run}", "-f", os.devnull]
        started = time.perf_counter()
        new = [*base, "new-session", "-d", "-x", "120", "-y", "40", "-s", "b", command]
        subprocess.run(new, check=True, env=env)
        try:
            while True:
                screen = subprocess.run(
                    [*base, "capture-pane", "-p", "-t", "b"], capture_output=True, text=True
                ).stdout
                if " recent" in screen:
                    times.append(time.perf_counter() - started)
                    break
                if time.perf_counter() - started > 60:
                    raise SystemExit(f"the TUI did not open in 60 s:\n{screen}")
                time.sleep(0.01)
        finally:
            subprocess.run([*base, "kill-server"], check=False, capture_output=True)
    return times


async def in_process(
    db: Path, queries: list[str], rounds: int, cps: float
) -> dict[str, list[float]]:
    """The Pilot measurements (see the module docstring), plus empty answers."""
    from textual.widgets import Input

    from memcli.config import load_settings
    from memcli.service.context import Context
    from memcli.tui.app import MemcliApp
    from memcli.tui.backend import Browser, ModelState
    from memcli.tui.messages import DetailLoaded, SearchDone
    from memcli.tui.screens.main import MainScreen
    from memcli.tui.settings import load_tui_settings

    drawn: dict[int, float] = {}  # search generation -> when its results were drawn
    searching: list[float] = []
    opened: list[float] = []  # when an opened memory was drawn in the detail pane
    handle_results, search = MainScreen.on_search_done, Browser.search
    handle_detail = MainScreen.on_detail_loaded

    def timed_results(self: MainScreen, message: SearchDone) -> None:
        handle_results(self, message)
        generation = message.generation
        if generation == self.generation:
            self.call_after_refresh(lambda: drawn.setdefault(generation, time.perf_counter()))

    def timed_detail(self: MainScreen, message: DetailLoaded) -> None:
        handle_detail(self, message)
        if message.opened:
            self.call_after_refresh(lambda: opened.append(time.perf_counter()))

    def timed_search(self: Browser, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return search(self, *args)
        finally:
            searching.append(time.perf_counter() - started)

    MainScreen.on_search_done = timed_results  # type: ignore[method-assign]
    MainScreen.on_detail_loaded = timed_detail  # type: ignore[method-assign]
    Browser.search = timed_search  # type: ignore[method-assign]
    try:
        ctx = Context(load_settings(db))
        settings = load_tui_settings(ctx.settings)
        app = MemcliApp(Browser(ctx, settings.limit), settings)
        out: dict[str, list[float]] = {
            k: []
            for k in (
                "first screen",
                "model ready",
                "keystroke",
                "search",
                "typing",
                "open",
                "open again",
            )
        }
        empty = 0
        started = time.perf_counter()
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen_stack[0]
            assert isinstance(screen, MainScreen)
            while not drawn:
                await asyncio.sleep(0.002)
            out["first screen"].append(min(drawn.values()) - started)
            while screen.status.model == ModelState.LOADING or any(
                worker.is_running for worker in app.workers
            ):
                await asyncio.sleep(0.005)
            out["model ready"].append(time.perf_counter() - started)
            assert screen.status.model == ModelState.READY, screen.browser.model_problem
            search_box = screen.query_one("#search", Input)

            async def answered(generation: int) -> float:
                """When search `generation`'s results were drawn, once every worker is done."""
                while generation not in drawn:
                    await asyncio.sleep(0.001)
                while any(worker.is_running for worker in app.workers):
                    await asyncio.sleep(0.002)  # (waiting on a cancelled worker would raise)
                await pilot.pause()
                return drawn[generation]

            async def put(text: str) -> int:
                """Set the search box; the number of the search that starts (or the last)."""
                if search_box.value != text:
                    before = screen.generation
                    search_box.value = text
                    while screen.generation == before:  # Input.Changed comes asynchronously
                        await asyncio.sleep(0.001)
                return screen.generation

            for query in queries[:3]:  # untimed: the first searches of this process
                await answered(await put(query))
            for _ in range(rounds):
                for query in queries:
                    await answered(await put(query[:-1]))
                    del searching[:]
                    generation = screen.generation + 1
                    pressed = time.perf_counter()
                    await pilot.press(query[-1] if query[-1] != " " else "space")
                    out["keystroke"].append(await answered(generation) - pressed)
                    out["search"].extend(searching)
                    assert screen.generation == generation, query
                    empty += not screen.results.rows
                for query in queries:
                    await answered(await put(""))
                    for end in range(1, len(query) + 1):
                        generation = await put(query[:end])
                        pressed = time.perf_counter()
                        await asyncio.sleep(1 / cps)
                    out["typing"].append(await answered(generation) - pressed)
            for query in queries:  # each query's first result: opened, then opened again
                await answered(await put(query))
                if not screen.results.rows:
                    continue
                for step in ("open", "open again"):
                    search_box.focus()
                    await pilot.pause()
                    count = len(opened)
                    pressed = time.perf_counter()
                    await pilot.press("enter")
                    while len(opened) == count:
                        await asyncio.sleep(0.001)
                    out[step].append(opened[-1] - pressed)
                    while any(worker.is_running for worker in app.workers):
                        await asyncio.sleep(0.002)
    finally:
        MainScreen.on_search_done = handle_results  # type: ignore[method-assign]
        MainScreen.on_detail_loaded = handle_detail  # type: ignore[method-assign]
        Browser.search = search  # type: ignore[method-assign]
    out["empty"] = [float(empty)]
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="notes in the scale store")
    parser.add_argument("--rounds", type=int, default=2, help="passes over the queries")
    parser.add_argument("--queries", type=int, default=len(QUERIES), help="how many queries")
    parser.add_argument("--cps", type=float, default=8.0, help="typing speed, keys a second")
    parser.add_argument("--cold-runs", type=int, default=6, help="cold opens in tmux (0: none)")
    add_common_args(parser)
    args = parser.parse_args(argv)
    from common import record, setup
    from scale import build, due_copy

    bench = setup(args, __file__, argv)
    started = time.time()
    source = build(bench, args.size)
    queries = QUERIES[: args.queries]
    with tempfile.TemporaryDirectory(prefix="memcli-tui-bench-") as folder:
        db = Path(folder) / source.name
        due_copy(source, db)  # every memory due: the first open of each one writes
        opened = cold_open(bench, db, args.cold_runs)
        results = {
            "cold open": opened,
            **asyncio.run(in_process(db, queries, args.rounds, args.cps)),
        }
    empty = int(results.pop("empty")[0])
    rows = [
        [
            name,
            len(values),
            f"{statistics.median(values) * 1000:.0f}",
            f"{percentile(values, 0.95) * 1000:.0f}",
            f"{max(values) * 1000:.0f}",
        ]
        for name, values in results.items()
        if values
    ]
    body = (
        f"{args.size:,} memories, {args.rounds} round(s) of {len(queries)} queries, typing at "
        f"{args.cps:g} keys/s; {empty} keystroke(s) found nothing.\n\n"
        + md_table(["step", "n", "p50 (ms)", "p95 (ms)", "max (ms)"], rows)
    )
    record(bench, "TUI: open and keystroke to results", body, started)


if __name__ == "__main__":
    main()
