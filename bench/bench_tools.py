"""Benchmark the tool layer: registry call overhead, call-schema size, plugin discovery, MCP latency.

Usage: ``python bench/bench_tools.py [MCP_SERVER_SCRIPT] [--calls N] [--tools N]``
(default server: tests/mcp_echo_server.py). Prints one JSON object with the machine it ran on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.mcp_client import McpHost, McpServerOptions  # noqa: E402
from tools.plugins import discover, load_plugins  # noqa: E402
from tools.registry import Tool, ToolRegistry  # noqa: E402


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 4),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 4),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 4),
    }


def _echo_tool(index: int) -> Tool:
    async def call(arguments: dict[str, Any]) -> str:
        return str(arguments["text"])

    schema = {"type": "object", "properties": {"text": {"type": "string"}, "n": {"type": "integer"}},
              "required": ["text"]}
    return Tool(f"echo_{index}", f"Echo number {index}.", schema, call)


async def _registry_overhead(calls: int, n_tools: int) -> dict[str, Any]:
    events: list[dict[str, Any]] = []
    registry = ToolRegistry(on_event=events.append)
    started = time.perf_counter()
    for i in range(n_tools):
        registry.add(_echo_tool(i))
    register_s = time.perf_counter() - started
    started = time.perf_counter()
    schema = registry.call_schema()
    schema_s = time.perf_counter() - started
    samples = []
    for i in range(calls):
        t0 = time.perf_counter()
        outcome = await registry.call(f"echo_{i % n_tools}", {"text": "hello", "n": i})
        samples.append(time.perf_counter() - t0)
        assert outcome.ok
    return {
        "tools": n_tools,
        "register_all_ms": round(register_s * 1000, 3),
        "call_schema_ms": round(schema_s * 1000, 3),
        "call_schema_bytes": len(json.dumps(schema)),
        "calls": calls,
        "call_overhead": _stats(samples),
        "events": len(events),
    }


async def _mcp(script: Path, calls: int) -> dict[str, Any]:
    opts = McpServerOptions(command=sys.executable, args=(str(script),), timeout_s=120.0)
    registry = ToolRegistry(mcp=McpHost({"echo": opts}))
    t0 = time.perf_counter()
    async with registry.session():
        start_s = time.perf_counter() - t0
        samples = []
        for i in range(calls):
            t1 = time.perf_counter()
            outcome = await registry.call("echo.echo", {"text": f"ping {i}"})
            samples.append(time.perf_counter() - t1)
            assert outcome.ok, outcome.error
        t2 = time.perf_counter()
    stop_s = time.perf_counter() - t2
    return {"server": str(script), "start_s": round(start_s, 3), "stop_s": round(stop_s, 3),
            "calls": calls, "call_latency": _stats(samples)}


def main() -> None:
    """Run every measurement and print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("server", nargs="?", default=str(ROOT / "tests" / "mcp_echo_server.py"))
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--tools", type=int, default=50)
    args = parser.parse_args()
    t0 = time.perf_counter()
    installed = discover()
    registry = ToolRegistry()
    load_plugins(registry)
    plugins_s = time.perf_counter() - t0
    result = {
        "bench": "tools",
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "registry": asyncio.run(_registry_overhead(args.calls, args.tools)),
        "plugins": {"installed": len(installed), "tools": len(registry), "discover_and_load_ms":
                    round(plugins_s * 1000, 2), "problems": registry.problems},
        "mcp": asyncio.run(_mcp(Path(args.server), min(args.calls, 500))),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
