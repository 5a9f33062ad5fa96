"""What every bench script shares: paths, the model, memcli's environment, the machine
description and the dated sections of bench/RESULTS.md.

Every script takes the same options for these (see `add_common_args`), so the test suite
can run each one on a few synthetic memories with the tiny test model (tests/bench/)
without touching bench/.cache or bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import compileall
import fcntl
import functools
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared"
DATA = SHARED / "bench"
REAL_MODEL = SHARED / "models" / "all-MiniLM-L6-v2-onnx"
REAL_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
RESULTS = HERE / "RESULTS.md"


@dataclass(frozen=True)
class Bench:
    """The options every script shares, resolved."""

    cache: Path  # stores and embeddings built by the scripts (git-ignored)
    model_path: Path  # a folder with model.onnx and the tokenizer files
    model_name: str  # the name memcli stores vectors under
    dim: int
    pooling: str
    results: Path | None  # where to record the run (None: print only)
    command: str  # the command line of the run, as recorded

    @property
    def home(self) -> Path:
        return self.cache / "home"

    def env(self) -> dict[str, str]:
        """The environment of a memcli process using this bench's model and home."""
        env = {k: v for k, v in os.environ.items() if k not in ("MEMCLI_MODEL", "MEMCLI_DEBUG")}
        env.update(MEMCLI_HOME=str(self.home), MEMCLI_MODEL_PATH=str(self.model_path))
        env.setdefault("PYTHONPATH", "")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env["PYTHONPATH"]) if p)
        return env


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cache", type=Path, default=HERE / ".cache", help="stores and caches")
    parser.add_argument("--model", type=Path, default=REAL_MODEL, help="model folder")
    parser.add_argument("--model-name", default=REAL_MODEL_NAME)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--pooling", default="mean", choices=("mean", "cls"))
    parser.add_argument("--results", type=Path, default=RESULTS, help="file to record the run in")
    parser.add_argument(
        "--no-record", action="store_true", help="print the tables only; record nothing"
    )


def setup(args: argparse.Namespace, script: str, argv: Sequence[str] | None) -> Bench:
    """Check the model, point memcli (this process and its children) at it and at the cache.

    `script` and `argv` (None: sys.argv[1:]) make the command line recorded with results."""
    if not (args.model / "model.onnx").exists():
        sys.exit(f"skipped: no model at {args.model} (the real one belongs in ../shared/models)")
    bench = Bench(
        cache=args.cache.resolve(),
        model_path=args.model.resolve(),
        model_name=args.model_name,
        dim=args.dim,
        pooling=args.pooling,
        results=None if args.no_record else args.results,
        command=command_line(script, sys.argv[1:] if argv is None else argv),
    )
    bench.home.mkdir(parents=True, exist_ok=True)
    (bench.home / "config.toml").write_text(
        f'[model]\nname = "{bench.model_name}"\npath = "{bench.model_path}"\n'
        f'pooling = "{bench.pooling}"\ndim = {bench.dim}\n'
        # One LongMemEval turn is 76 KB, over the default limit of 64 KB: raised (as a user
        # with long texts would) rather than cut, so every turn is indexed whole.
        f"[store]\nmax_text_bytes = {2**20}\n"
    )
    os.environ.update(bench.env())
    os.environ.pop("MEMCLI_MODEL", None)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    compile_memcli()
    return bench


def compile_memcli() -> None:
    """Write the bytecode of memcli's modules, as installing memcli does. In a checkout run
    with PYTHONDONTWRITEBYTECODE (this host sets it) every module edited since its .pyc was
    written would be compiled again in every timed process: about 55 ms of a cold recall
    at the time of writing, which fastembed and duckdb (compiled when installed) never pay."""
    compileall.compile_dir(ROOT / "memcli", quiet=1)


def memcli_context(db: Path) -> Any:
    """A memcli Context on `db`, as the CLI makes one (after `setup`)."""
    from memcli.config import load_settings
    from memcli.service.context import Context

    return Context(load_settings(db))


@functools.lru_cache(maxsize=2)
def fastembed_model(bench: Bench) -> Any:
    """The same model straight from fastembed, without any memcli code (for baselines and
    the floor)."""
    from fastembed import TextEmbedding
    from fastembed.common.model_description import ModelSource, PoolingType

    name = f"bench/{bench.model_name}"
    if name not in {m["model"] for m in TextEmbedding.list_supported_models()}:
        TextEmbedding.add_custom_model(
            model=name,
            pooling=PoolingType.MEAN if bench.pooling == "mean" else PoolingType.CLS,
            normalization=True,
            sources=ModelSource(hf=name),
            dim=bench.dim,
            model_file="model.onnx",
        )
    return TextEmbedding(name, specific_model_path=str(bench.model_path))


# --- describing and recording a run ---------------------------------------------------------


def commit() -> str:
    """HEAD's short hash, marked when memcli/ or bench/ (but for the results file) have
    uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "memcli", "bench", ":!bench/RESULTS.md"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head} + uncommitted changes" if dirty else head or "unknown"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        ram = f"{mem_kb / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        ram = "RAM unknown"
    load = ""
    if hasattr(os, "getloadavg"):
        load = ", load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores ({cpu}), {ram}, Python {platform.python_version()}{load}"


def command_line(script: str, argv: Sequence[str]) -> str:
    path = Path(script).resolve()
    shown = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    return " ".join(shlex.quote(a) for a in ["python", shown, *argv])


def record(bench: Bench, title: str, body: str, started: float) -> None:
    """Print the section, and add it to the results file (newest first) unless --no-record."""
    section = (
        f"## {time.strftime('%Y-%m-%d %H:%M', time.localtime(started))} — {title}\n\n"
        f"```\n{bench.command}\n```\n\n"
        f"Commit {commit()}; {machine()}; model {bench.model_name} from {bench.model_path.name}; "
        f"{time.time() - started:.0f} s.\n\n{body.strip()}\n"
    )
    print(section)
    if bench.results is None:
        return
    with bench.results.open("a+", encoding="utf-8") as handle:
        # Other engineers' bench runs write this file too: one read-modify-write at a time.
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        old = handle.read() or "# Benchmark results\n"
        head, found, rest = old.partition("\n## ")
        handle.truncate(0)  # in append mode, the write below then starts the file
        handle.write(f"{head.rstrip()}\n\n{section}" + (f"\n## {rest}" if found else ""))
    print(f"recorded in {bench.results}", file=sys.stderr)


def md_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table; the first column is left-aligned, the others right-aligned."""
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(headers) - 1)) + "|")
    lines.extend("| " + " | ".join(str(c) for c in row) + " |" for row in rows)
    return "\n".join(lines)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank, as the old warm bench reported p95."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
