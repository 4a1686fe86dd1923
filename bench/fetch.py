"""Benchmark the fetcher: N fixture-web pages with a fixed latency each, against the ideal wall time.

Starts the loopback fixture web in a subprocess (so the client's CPU time is its own), warms the
client up with one page (robots.txt and a connection), then fetches every generated page through
the guard with the default limits and prints one JSON object: wall time, the ideal
(pages × latency ÷ concurrency), their ratio, client CPU time per page and the machine.

    python bench/fetch.py [--pages 200] [--latency 0.1] [--concurrency 16] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.errors import ToolError  # noqa: E402
from tools.web.fetch import Fetcher, FetchOptions  # noqa: E402


def start_server(pages: int, latency: float) -> tuple[subprocess.Popen[str], str]:
    """The fixture web in a child process; returns it and its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fixture_web", "--latency", str(latency), "--generated", str(pages)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "http://" not in line:
        proc.kill()
        raise SystemExit(f"the fixture web did not start: {line!r}")
    return proc, line.split("at ", 1)[1].split()[0]


async def one_round(base: str, pages: int, concurrency: int) -> dict[str, float]:
    """Fetch every page once with a fresh client; wall and CPU seconds, after a one-page warm-up."""
    options = FetchOptions(allow=("127.0.0.1",), concurrency=concurrency, per_host=concurrency, use_cache=False)
    fetcher = Fetcher(options)
    await fetcher.fetch(f"{base}/")  # robots.txt and the first connection
    urls = [f"{base}/gen/{i}.html" for i in range(pages)]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    results = await fetcher.fetch_many(urls)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    await fetcher.aclose()
    failures = [str(r) for r in results if isinstance(r, ToolError)]
    if failures:
        raise SystemExit(f"{len(failures)} pages failed, first: {failures[0]}")
    size = sum(len(r.body) for r in results if not isinstance(r, ToolError))
    return {"wall_s": wall, "cpu_s": cpu, "bytes": float(size)}


def main() -> None:
    """Run the benchmark and print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=FetchOptions().concurrency)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    proc, base = start_server(args.pages, args.latency)
    try:
        rounds = [asyncio.run(one_round(base, args.pages, args.concurrency)) for _ in range(args.repeats)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    ideal = args.pages * args.latency / args.concurrency
    wall = statistics.median(r["wall_s"] for r in rounds)
    cpu = statistics.median(r["cpu_s"] for r in rounds)
    print(json.dumps({
        "benchmark": "fetch",
        "pages": args.pages,
        "latency_s": args.latency,
        "concurrency": args.concurrency,
        "per_host": args.concurrency,
        "repeats": args.repeats,
        "ideal_wall_s": round(ideal, 4),
        "wall_s_median": round(wall, 4),
        "wall_s_all": [round(r["wall_s"], 4) for r in rounds],
        "ratio_to_ideal": round(wall / ideal, 3),
        "target_ratio": 1.3,
        "within_target": wall / ideal <= 1.3,
        "client_cpu_ms_per_page": round(1000 * cpu / args.pages, 3),
        "bytes_per_round": int(rounds[0]["bytes"]),
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "python": sys.version.split()[0],
            "load_avg_1m": round(os.getloadavg()[0], 2),
        },
    }, indent=2))


if __name__ == "__main__":
    main()
