"""The TUI on a 100k store: time to the first screen, and from a keystroke to its results.

Runs the real `memcli tui` app (memcli.tui.app.MemcliApp, headless under Textual's Pilot,
120x40) on a private copy of the cached 100k scale store (bench/scale.py builds it; the copy
keeps other benchmarks' use of the cache out of the way), with the real all-MiniLM-L6-v2
from ../shared/models. Measured:

  cold open     `memcli tui` started in tmux (a fresh process, as a user starts it) -> the
                recent list on the terminal (polled with capture-pane every ~10 ms);
                needs tmux, skipped without it
  first screen  in-process app start -> the recent list drawn (the model still loading)
  model ready   app start -> model loaded and the vectors read once (in a worker)
  keystroke     warm: the query but its last character is in the search box and answered;
                press the last key -> its results drawn (after the next screen refresh).
                Includes the debounce (tui.debounce_ms, default 40 ms), the search in the
                worker thread and the redraw. `search` is the worker's part of it.
  typing        the whole query typed at --cps characters a second: last keystroke ->
                its results drawn (searches of earlier keystrokes may still hold the store)

    python bench/tui_keystroke.py [--db bench/.cache/scale-100000.duckdb] [--rounds 2]
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
CACHE = HERE / ".cache"
MODEL = HERE.parent.parent / "shared" / "models" / "all-MiniLM-L6-v2-onnx"

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


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def row(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"| {name} | {len(ms)} | {statistics.median(ms):.0f} | {percentile(ms, 0.95):.0f} "
        f"| {max(ms):.0f} |"
    )


async def measure(db: Path, rounds: int, cps: float) -> dict[str, list[float]]:
    from textual.widgets import Input

    from memcli.config import load_settings
    from memcli.service.context import Context
    from memcli.tui.app import MemcliApp
    from memcli.tui.backend import Browser, ModelState
    from memcli.tui.messages import SearchDone
    from memcli.tui.screens.main import MainScreen
    from memcli.tui.settings import load_tui_settings

    drawn: dict[int, float] = {}  # search generation -> when its results were drawn
    searching: list[float] = []
    handle_results = MainScreen.on_search_done

    def timed_results(self: MainScreen, message: SearchDone) -> None:
        handle_results(self, message)
        generation = message.generation
        if generation == self.generation:
            self.call_after_refresh(lambda: drawn.setdefault(generation, time.perf_counter()))

    search = Browser.search

    def timed_search(self: Browser, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return search(self, *args)
        finally:
            searching.append(time.perf_counter() - started)

    MainScreen.on_search_done = timed_results  # type: ignore[method-assign]
    Browser.search = timed_search  # type: ignore[method-assign]

    ctx = Context(load_settings(db))
    settings = load_tui_settings(ctx.settings)
    app = MemcliApp(Browser(ctx, settings.limit), settings)
    results: dict[str, list[float]] = {
        "first screen": [],
        "model ready": [],
        "keystroke": [],
        "search": [],
        "typing": [],
    }
    started = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen_stack[0]
        assert isinstance(screen, MainScreen)
        while not drawn:
            await asyncio.sleep(0.002)
        results["first screen"].append(min(drawn.values()) - started)
        print(f"first screen after {min(drawn.values()) - started:.2f} s", file=sys.stderr)
        while screen.status.model == ModelState.LOADING:
            await asyncio.sleep(0.005)
        await app.workers.wait_for_complete()
        results["model ready"].append(time.perf_counter() - started)
        print(f"model ready after {time.perf_counter() - started:.2f} s", file=sys.stderr)
        assert screen.status.model == ModelState.READY, screen.browser.model_problem
        search_box = screen.query_one("#search", Input)

        async def answered(generation: int) -> float:
            """When the results of search `generation` were drawn, once every worker is done."""
            while generation not in drawn:
                await asyncio.sleep(0.001)
            await app.workers.wait_for_complete()
            await pilot.pause()
            return drawn[generation]

        async def put(text: str) -> int:
            """Set the search box to `text`; the number of the search it starts (or 0)."""
            if search_box.value == text:
                return 0
            before = screen.generation
            search_box.value = text
            while screen.generation == before:  # Input.Changed is handled asynchronously
                await asyncio.sleep(0.001)
            return screen.generation

        for query in QUERIES[:3]:  # untimed: the first searches of this process
            await answered(await put(query))
        for _ in range(rounds):
            for query in QUERIES:
                await answered(await put(query[:-1]))
                del searching[:]
                generation = screen.generation + 1
                pressed = time.perf_counter()
                await pilot.press(query[-1] if query[-1] != " " else "space")
                results["keystroke"].append(await answered(generation) - pressed)
                results["search"].extend(searching)
                assert screen.generation == generation and screen.results.rows, query
            for query in QUERIES:
                await answered(await put("") or screen.generation)
                for end in range(1, len(query) + 1):
                    generation = await put(query[:end])
                    pressed = time.perf_counter()
                    await asyncio.sleep(1 / cps)
                results["typing"].append(await answered(generation) - pressed)
    return results


def cold_open(home: Path, runs: int) -> list[float]:
    """Seconds from starting `memcli tui` in a tmux pane to the recent list on screen."""
    tmux = shutil.which("tmux")
    if tmux is None:
        return []
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    command = f"env MEMCLI_HOME={home} {sys.executable} -m memcli tui; sleep 30"
    times = []
    for run in range(runs):
        base = [tmux, "-L", f"memcli-bench-{os.getpid()}-{run}", "-f", os.devnull]
        started = time.perf_counter()
        subprocess.run(
            [*base, "new-session", "-d", "-x", "120", "-y", "40", "-s", "b", command],
            check=True,
            env=env,
        )
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
        subprocess.run([*base, "kill-server"], check=False)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=CACHE / "scale-100000.duckdb")
    parser.add_argument("--rounds", type=int, default=2, help="passes over the 20 queries")
    parser.add_argument("--cps", type=float, default=8.0, help="typing speed, keys a second")
    args = parser.parse_args()
    if not (MODEL / "model.onnx").exists():
        sys.exit(f"skipped: the real model is not at {MODEL}")
    if not args.db.exists():
        sys.exit(f"no store at {args.db} (python bench/scale.py builds it)")
    with tempfile.TemporaryDirectory(prefix="memcli-tui-bench-") as folder:
        home = Path(folder)
        db = home / "memcli.duckdb"
        shutil.copyfile(args.db, db)
        os.environ["MEMCLI_HOME"] = str(home)
        os.environ["MEMCLI_MODEL_PATH"] = str(MODEL)
        for name in ("MEMCLI_MODEL", "MEMCLI_LOCK_TIMEOUT"):
            os.environ.pop(name, None)
        opened = cold_open(home, args.rounds * 3)
        results = {"cold open": opened, **asyncio.run(measure(db, args.rounds, args.cps))}
    print(f"{args.db.name}, {args.rounds} round(s) of {len(QUERIES)} queries\n")
    print("| step | n | p50 (ms) | p95 (ms) | max (ms) |")
    print("|---|---:|---:|---:|---:|")
    for name, values in results.items():
        if values:
            print(row(name, values))


if __name__ == "__main__":
    main()
