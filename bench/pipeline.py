"""Benchmark a whole research run: time per phase and Quarry's own overhead share of the wall time.

A full run (plan → parallel search agents → knowledge graph → draft → verify → publish) with the
scripted chat model (zero model latency) over the loopback fixture web in a child process, serving
N generated pages with a fixed latency each. The search backend answers each sub-question's query
with its share of the pages after the same latency (a search API round trip). The store is a
temporary Chroma directory with the deterministic hashing embedder.

"Waiting" is the union of the intervals in which at least one page fetch, search call or model call
was in flight; Quarry's overhead is the rest of the wall time (planning the calls, extraction,
storing and retrieving, the graph, checkpoints, events, files). Target: overhead under 10%.

    python bench/pipeline.py [DATA_DIR] [--pages 200] [--latency 0.1] [--agents 10] [--per-host 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents.llm import ModelPool  # noqa: E402
from agents.llm.testing import ScriptedChatModel  # noqa: E402
from agents.run.budget import Limits  # noqa: E402
from agents.run.runner import Runner, RunOptions, RunParts  # noqa: E402
from bench.fetch import start_server  # noqa: E402  (the same fixture-web child process)
from memory.embeddings import HashingEmbedder  # noqa: E402
from memory.store import Filters, Memory  # noqa: E402
from tests.research_brain import Brain  # noqa: E402
from tools.builtin import BuiltinTools  # noqa: E402
from tools.compose import build_registry  # noqa: E402
from tools.extract import extract_result  # noqa: E402
from tools.search.chain import SearchChain  # noqa: E402
from tools.types import SearchResult  # noqa: E402
from tools.web.fetch import Fetcher, FetchOptions  # noqa: E402


class Waits:
    """Intervals of waiting on the network or the model, from any thread."""

    def __init__(self) -> None:
        self.spans: list[tuple[float, float, str]] = []
        self._lock = threading.Lock()

    def add(self, start: float, end: float, kind: str) -> None:
        with self._lock:
            self.spans.append((start, end, kind))

    def union_s(self, kinds: Sequence[str] | None = None) -> float:
        spans = sorted((s, e) for s, e, k in self.spans if kinds is None or k in kinds)
        total, cur_s, cur_e = 0.0, None, None
        for s, e in spans:
            if cur_e is None or s > cur_e:
                if cur_e is not None and cur_s is not None:
                    total += cur_e - cur_s
                cur_s, cur_e = s, e
            else:
                cur_e = max(cur_e, e)
        if cur_e is not None and cur_s is not None:
            total += cur_e - cur_s
        return total

    def sum_s(self, kind: str) -> float:
        return sum(e - s for s, e, k in self.spans if k == kind)

    def kinds(self, prefix: str) -> list[str]:
        return sorted({k for _s, _e, k in self.spans if k.startswith(prefix)})

    def breakdown(self, prefix: str) -> dict[str, dict[str, float]]:
        """Calls and summed seconds per kind (a call waiting on the store's lock counts its wait)."""
        return {
            k.removeprefix(prefix): {
                "calls": sum(1 for *_, kk in self.spans if kk == k),
                "sum_s": round(self.sum_s(k), 3),
            }
            for k in self.kinds(prefix)
        }


class TimedFetcher:
    """The real fetcher, with every fetch timed."""

    def __init__(self, inner: Fetcher, waits: Waits) -> None:
        self.inner, self.waits = inner, waits

    async def fetch(self, url: str) -> Any:
        start = time.perf_counter()
        try:
            return await self.inner.fetch(url)
        finally:
            self.waits.add(start, time.perf_counter(), "fetch")

    async def fetch_many(self, urls: Sequence[str]) -> list[Any]:
        start = time.perf_counter()
        try:
            return await self.inner.fetch_many(urls)
        finally:
            self.waits.add(start, time.perf_counter(), "fetch")

    async def aclose(self) -> None:
        await self.inner.aclose()


class TimedModel:
    """A chat model whose calls are timed (the scripted model: its time is the model's, near zero)."""

    def __init__(self, inner: ScriptedChatModel, waits: Waits) -> None:
        self.inner, self.waits, self.name = inner, waits, inner.name

    def complete(self, messages: Any, *, schema: Any = None, max_tokens: int | None = None) -> Any:
        start = time.perf_counter()
        try:
            return self.inner.complete(messages, schema=schema, max_tokens=max_tokens)
        finally:
            self.waits.add(start, time.perf_counter(), "model")

    @property
    def last_usage(self) -> tuple[int, int]:
        return self.inner.last_usage


class TimedMemory:
    """The real store, with every call timed (its cost is Quarry's own, not waiting)."""

    def __init__(self, inner: Memory, waits: Waits) -> None:
        self.inner, self.waits = inner, waits

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return attr(*args, **kwargs)
            finally:
                self.waits.add(start, time.perf_counter(), f"memory.{name}")

        return timed


def timed_extract(waits: Waits) -> Any:
    """``extract_result`` with every call timed."""

    def extract(result: Any) -> Any:
        start = time.perf_counter()
        try:
            return extract_result(result)
        finally:
            waits.add(start, time.perf_counter(), "extract")

    return extract


class PagesBackend:
    """A search backend: each query gets its own slice of the generated pages, after one round trip."""

    name = "bench"

    def __init__(self, base: str, pages: int, agents: int, latency: float, waits: Waits) -> None:
        self.base, self.pages, self.agents, self.latency, self.waits = base, pages, agents, latency, waits

    async def search(self, query: str, k: int) -> list[SearchResult]:
        start = time.perf_counter()
        await asyncio.sleep(self.latency)
        self.waits.add(start, time.perf_counter(), "search")
        index = int(query.rsplit(" ", 1)[-1])
        share = self.pages // self.agents
        return [
            SearchResult(
                title=f"Energy report {i}", url=f"{self.base}/gen/{i}.html", snippet="", rank=n + 1, backend=self.name
            )
            for n, i in enumerate(range(index * share, (index + 1) * share))
        ][:k]


def run_once(data: Path, base: str, args: argparse.Namespace) -> dict[str, Any]:
    """One research run; returns its timings."""
    waits = Waits()
    share = args.pages // args.agents
    brain = Brain(
        k=min(share, 20),
        outline=["Findings", "Outlook"],
        subquestions=[
            {"question": f"What does report group {i} say?", "queries": [f"energy reports {i}"], "section": "Findings"}
            for i in range(args.agents)
        ],
    )
    model = TimedModel(ScriptedChatModel(default=brain), waits)
    store = Memory.open(data / "chroma", embedder=HashingEmbedder())
    memory = TimedMemory(store, waits)
    options = FetchOptions(
        allow=("127.0.0.1",), use_cache=False, concurrency=args.concurrency, per_host=args.per_host, retries=0
    )
    fetcher = TimedFetcher(Fetcher(options), waits)
    chain = SearchChain([PagesBackend(base, args.pages, args.agents, args.latency, waits)])
    registry = build_registry(builtins=BuiltinTools(search=chain.search).functions(), plugin_load=[])
    parts = RunParts(
        models=ModelPool.from_models({}, default=model),
        memory=memory,
        fetcher=fetcher,
        registry=registry,
        extract=timed_extract(waits),
        filters=Filters,
    )
    runner = Runner(runs_dir=data / "runs", checkpoints_path=data / "checkpoints.sqlite", parts=lambda: parts)
    limits = Limits(
        breadth=args.agents,
        depth=0,
        max_pages=2 * args.pages,
        max_hops=0,
        read_per_agent=share,
        max_tool_calls=1,
        results_per_query=share,
        max_minutes=30.0,
    )
    cpu0 = time.process_time()
    start = time.perf_counter()
    events = list(runner.stream("What do the energy reports say?", RunOptions(limits=limits)))
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    runner.close()
    store.close()
    run_id = events[-1]["run_id"]
    manifest = json.loads((data / "runs" / run_id / "manifest.json").read_text())
    waiting = waits.union_s(["fetch", "search", "model"])
    return {
        "status": events[-1].get("status"),
        "wall_s": round(wall, 3),
        "phases_s": manifest.get("phases", {}),
        "pages_fetched": manifest["pages_fetched"],
        "events": len(events),
        "waiting_s": round(waiting, 3),
        "network_wait_s": round(waits.union_s(["fetch", "search"]), 3),
        "model_s": round(waits.sum_s("model"), 4),
        "model_calls": sum(brain.calls.values()),
        "overhead_s": round(wall - waiting, 3),
        "overhead_share": round((wall - waiting) / wall, 4),
        "process_cpu_s": round(cpu, 3),  # all of Quarry's threads (and the scripted model), not the server
        "memory_calls_s": round(waits.union_s(waits.kinds("memory.")), 3),  # in a store call (incl. lock waits)
        "memory_by_call": waits.breakdown("memory."),
        "extract_s": round(waits.sum_s("extract"), 3),
    }


def main() -> None:
    """Run the benchmark and print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--agents", type=int, default=10, help="parallel sub-questions (pages split among them)")
    parser.add_argument("--concurrency", type=int, default=FetchOptions().concurrency, help="fetcher concurrency")
    parser.add_argument("--per-host", type=int, default=FetchOptions().per_host, help="fetcher requests per host")
    args = parser.parse_args()
    proc, base = start_server(args.pages, args.latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            data = args.data or Path(tmp)
            data.mkdir(parents=True, exist_ok=True)
            result = run_once(data, base, args)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(
        json.dumps(
            {
                "benchmark": "pipeline",
                "pages": args.pages,
                "latency_s": args.latency,
                "agents": args.agents,
                "concurrency": args.concurrency,
                "per_host": args.per_host,
                "ideal_network_s": round(args.pages * args.latency / min(args.per_host, args.concurrency), 3),
        "model": "scripted (zero latency)",
                "embedder": "hashing",
                **result,
                "target_overhead_share": 0.10,
                "within_target": result["overhead_share"] < 0.10,
                "machine": {
                    "platform": platform.platform(),
                    "cpu_count": os.cpu_count(),
                    "python": sys.version.split()[0],
                    "load_avg_1m": round(os.getloadavg()[0], 2),
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
