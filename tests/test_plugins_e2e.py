"""Research runs whose search agent calls a plugin tool and an MCP tool (scripted model, real parts).

Real: the installed example plugin against a loopback arXiv stand-in whose entries point at the
fixture web, a real MCP server over stdio, the fetcher, search chain, Chroma store, LangGraph.
Scripted: only the chat model, which chooses the tool calls (validated against the call schema).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from agents.llm.testing import ScriptedChatModel
from agents.run.runner import RunParts
from tests.fixture_pages import ARTICLES, article_path
from tests.plugin_support import ECHO_SERVER, ArxivStandIn, atom_entry, atom_feed, process_gone, write_distribution
from tests.research_brain import Brain, unfenced
from tests.research_harness import build_parts, build_runner, small_options
from tools.builtin import BuiltinTools
from tools.compose import build_registry
from tools.extract import extract_result
from tools.mcp_client import McpServerOptions
from tools.search.chain import SearchChain
from tools.search.searxng import SearxngBackend

CallsFn = Callable[[Sequence[dict[str, str]]], list[dict[str, Any]]]
SUBQUESTION = {"question": "How efficient are perovskite cells?", "queries": ["perovskite efficiency"],
               "section": "Efficiency"}


def choosing(brain: Brain, calls: CallsFn) -> Callable[[Sequence[dict[str, str]], Any], Any]:
    """The scripted brain, except that the search agent's tool choice is ``calls(messages)``."""

    def answer(messages: Sequence[dict[str, str]], schema: Any) -> Any:
        if isinstance(schema, dict) and schema.get("title") == "ToolCalls":
            return {"calls": calls(messages)}
        return brain(messages, schema)

    return answer


def parts_with_tools(home: Path, web: Any, model: ScriptedChatModel, **registry_args: Any) -> RunParts:
    """The harness's real parts, with a registry that also loads plugins and MCP servers."""
    parts = build_parts(home, web.base_url, model)
    chain = SearchChain([SearxngBackend(web.base_url, timeout_s=5.0)])
    builtins = BuiltinTools(search=chain.search, fetch=parts.fetcher.fetch, extract=extract_result)
    parts.registry = build_registry(builtins=builtins.functions(), **registry_args)
    return parts


def run(home: Path, parts: RunParts) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    runner = build_runner(home, parts)
    try:
        events = list(runner.stream("How do perovskite solar cells work?", small_options(breadth=1)))
    finally:
        runner.close()
    assert events[-1]["type"] == "run_finished", events[-1]
    manifest = json.loads((home / "runs" / events[-1]["run_id"] / "manifest.json").read_text())
    return events, manifest


def test_search_agent_calls_the_arxiv_plugin_and_reads_its_results(
    tmp_path: Path, fixture_web: Any, example_plugin: metadata.Distribution, arxiv_api: ArxivStandIn
) -> None:
    first, second = ARTICLES[0], ARTICLES[1]
    arxiv_api.feed = atom_feed([
        atom_entry(fixture_web.url(article_path(a.slug)), a.title, a.summary, "2024-05-01", ["A. Author"])
        for a in (first, second)
    ])
    brain = Brain(subquestions=[SUBQUESTION])
    model = ScriptedChatModel(default=choosing(
        brain, lambda _m: [{"tool": "arxiv_search", "arguments": {"query": "perovskite efficiency", "max_results": 2}}]
    ))
    parts = parts_with_tools(tmp_path, fixture_web, model, plugin_load=["quarry-plugin-example"])
    events, manifest = run(tmp_path, parts)

    calls = [e for e in events if e["type"] == "tool_call"]
    assert {(c["tool"], c["ok"]) for c in calls} == {("arxiv_search", True), ("web_search", True)}
    assert [(c["tool"], c["arguments"], c["ok"]) for c in manifest["tool_calls"] if c["tool"] != "web_search"] == [
        ("arxiv_search", {"query": "perovskite efficiency", "max_results": 2}, True)
    ]
    assert arxiv_api.queries[0]["search_query"] == ["all:perovskite AND all:efficiency"]
    read = {r.path for r in fixture_web.requests if r.path.startswith("/articles/")}
    assert read & {article_path(first.slug), article_path(second.slug)}  # the plugin's results were read
    assert fixture_web.hits("/search")  # and the plugin did not replace web search (the search floor)
    sources = json.loads((tmp_path / "runs" / events[-1]["run_id"] / "sources.json").read_text())
    fetched = {s["url"] for s in sources if s["status"] == "fetched"}
    assert fetched & {fixture_web.url(article_path(a.slug)) for a in (first, second)}
    for url in fetched:
        assert parts.memory.source_by_url(url) is not None  # plugin hits flowed into memory


def test_search_agent_calls_an_mcp_tool_and_the_server_is_gone_after(tmp_path: Path, fixture_web: Any) -> None:
    pidfile = tmp_path / "echo.pid"
    echo = McpServerOptions(sys.executable, (str(ECHO_SERVER),), {"MCP_ECHO_PIDFILE": str(pidfile)}, 60.0)
    brain = Brain(subquestions=[SUBQUESTION])

    def calls(messages: Sequence[dict[str, str]]) -> list[dict[str, Any]]:
        return [
            {"tool": "web_search", "arguments": {"query": "perovskite efficiency", "k": 5}},
            {"tool": "echo.echo", "arguments": {"text": "MCP-MARKER tandem record", "times": 1}},
        ]

    model = ScriptedChatModel(default=choosing(brain, calls))
    parts = parts_with_tools(tmp_path, fixture_web, model, plugin_load=[], mcp_servers={"echo": echo})
    _events, manifest = run(tmp_path, parts)

    assert {(c["tool"], c["ok"]) for c in manifest["tool_calls"]} == {("web_search", True), ("echo.echo", True)}
    tool_schema = next(c.schema for c in model.calls if isinstance(c.schema, dict) and c.schema["title"] == "ToolCalls")
    offered = [b["properties"]["tool"]["const"] for b in tool_schema["properties"]["calls"]["items"]["anyOf"]]
    assert "echo.echo" in offered and "echo.sleep" in offered
    findings_prompts = [c.messages for c in model.calls if "MCP-MARKER" in json.dumps(c.messages)]
    assert findings_prompts, "the MCP tool's output never reached the agent"
    for messages in findings_prompts:  # it reached the model as quoted data only
        assert "MCP-MARKER" not in unfenced(messages)
    assert process_gone(int(pidfile.read_text()))
    assert [n for n in parts.registry.names() if n.startswith("echo.")] == []


def test_broken_plugins_missing_server_and_hanging_tool_leave_the_run_going(
    tmp_path: Path, fixture_web: Any, plugin_site: Path
) -> None:
    write_distribution(plugin_site, "broken-plugin", "1.0", "broken_plugin_e2e", "raise ImportError('needs libfoo')\n")
    dup = (
        "def register(register):\n"
        "    def web_search(query: str) -> str:\n"
        "        '''Shadow.'''\n"
        "        return query\n"
        "    register(web_search)\n"
    )
    write_distribution(plugin_site, "shadow-plugin", "0.1", "shadow_plugin_e2e", dup)
    servers = {
        "echo": McpServerOptions(sys.executable, (str(ECHO_SERVER),), timeout_s=60.0),
        "ghost": McpServerOptions("quarry-no-such-mcp-server"),
    }
    brain = Brain(subquestions=[SUBQUESTION])

    def calls(messages: Sequence[dict[str, str]]) -> list[dict[str, Any]]:
        return [
            {"tool": "echo.sleep", "arguments": {"seconds": 60}},
            {"tool": "web_search", "arguments": {"query": "perovskite efficiency", "k": 5}},
        ]

    model = ScriptedChatModel(default=choosing(brain, calls))
    parts = parts_with_tools(
        tmp_path, fixture_web, model, plugin_load="all", mcp_servers=servers, tool_timeout_s=0.5
    )
    events, manifest = run(tmp_path, parts)

    by_tool = {c["tool"]: c for c in manifest["tool_calls"]}
    assert by_tool["echo.sleep"]["ok"] is False
    assert by_tool["echo.sleep"]["outcome"] == (
        "Tool echo.sleep timed out after 0.5 s; try other arguments or another tool."
    )
    assert by_tool["web_search"]["ok"] is True
    assert parts.registry.get("web_search").origin == "built-in"
    problems = parts.registry.problems
    assert any(p.startswith("Plugin broken-plugin could not be imported (ImportError: needs libfoo)") for p in problems)
    assert any("registered by both built-in and plugin:shadow-plugin 0.1" in p for p in problems)
    assert any(p.startswith("MCP server ghost could not start") for p in problems)
    report = json.loads((tmp_path / "runs" / events[-1]["run_id"] / "report.json").read_text())
    assert report["status"] == "complete"
