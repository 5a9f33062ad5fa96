"""A `recall` tool call on a warm `memcli mcp` server, against the same recall in-process.

For each synthetic store of bench/scale.py (built there, cached in --cache), on a copy of
it: a server started as an agent's client starts one (`python -m memcli --db COPY mcp`, the
SDK's ClientSession over stdio), the time from the spawn to the first answer of `recall`
(the SDK's import, the model's load and a cold recall), then --runs `recall` calls of
different queries, timed at the client (the whole round trip; the server writes the
recalls' reinforcements in a batch a minute, see memcli/mcp/server.py). The reference, in
the same run: the same queries through memcli.service.reading.recall_memories in this
process after one untimed recall, on another copy, without reinforcing (bench/warm.py's
recall). The ratio is what the protocol and the server add.

    python bench/mcp_call.py --sizes 10000 100000 --runs 100
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from common import Bench, add_common_args, md_table, memcli_context, percentile  # noqa: E402
from scale import build  # noqa: E402
from warm import queries  # noqa: E402


def copy_store(db: Path, folder: Path, name: str) -> Path:
    target = folder / name
    shutil.copyfile(db, target)
    wal = db.with_name(db.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
    return target


async def served(bench: Bench, db: Path, asked: list[str]) -> tuple[float, list[float]]:
    """(spawn to the first answer, the round trip of each later call) in seconds."""
    from mcp import ClientSession, StdioServerParameters, stdio_client
    from mcp.types import Implementation

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "memcli", "--db", str(db), "mcp"], env=bench.env()
    )
    info = Implementation(name="bench", version="1")
    started = time.perf_counter()
    async with (
        # The server's stderr goes to this process's real stderr (its messages, if any).
        stdio_client(params, errlog=sys.__stderr__ or sys.stderr) as (read, write),
        ClientSession(read, write, client_info=info) as client,
    ):
        await client.initialize()
        first = await client.call_tool("recall", {"query": asked[0]})
        assert not first.is_error, first.content
        to_first = time.perf_counter() - started
        times = []
        for query in asked[1:]:
            started = time.perf_counter()
            result = await client.call_tool("recall", {"query": query})
            times.append(time.perf_counter() - started)
            assert not result.is_error, result.content
    return to_first, times


def in_process(db: Path, asked: list[str]) -> list[float]:
    from memcli.search.recall import RecallRequest
    from memcli.service.reading import recall_memories

    ctx = memcli_context(db)
    recall_memories(ctx, RecallRequest(asked[0], limit=8), reinforce=False)
    times = []
    for query in asked[1:]:
        started = time.perf_counter()
        recall_memories(ctx, RecallRequest(query, limit=8), reinforce=False)
        times.append(time.perf_counter() - started)
    return times


def measure(bench: Bench, size: int, runs: int) -> list[str]:
    db = build(bench, size)
    asked = queries(runs + 1)
    with tempfile.TemporaryDirectory(dir=bench.cache) as folder:
        to_first, calls = asyncio.run(
            served(bench, copy_store(db, Path(folder), "a.duckdb"), asked)
        )
        reference = in_process(copy_store(db, Path(folder), "b.duckdb"), asked)
    p50, ref50 = statistics.median(calls), statistics.median(reference)
    return [
        f"{size:,}",
        f"{to_first:.2f}",
        f"{p50 * 1000:.1f}",
        f"{percentile(calls, 0.95) * 1000:.1f}",
        f"{ref50 * 1000:.1f}",
        f"{p50 / ref50:.2f}",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=100)
    add_common_args(parser)
    args = parser.parse_args(argv)
    from common import record, setup

    bench = setup(args, __file__, argv)
    started = time.time()
    rows = [measure(bench, size, args.runs) for size in args.sizes]
    body = (
        f"{args.runs} different queries per store after the first; `recall` with its defaults "
        "(k 8); the in-process reference does not reinforce, the server writes its reinforcements "
        "in a batch a minute.\n\n"
        + md_table(
            [
                "memories",
                "spawn to first answer (s)",
                "tool call p50 (ms)",
                "p95 (ms)",
                "in-process p50 (ms)",
                "call / in-process",
            ],
            rows,
        )
    )
    record(bench, "memcli mcp: recall tool calls on a warm server", body, started)


if __name__ == "__main__":
    main()
