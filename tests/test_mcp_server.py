"""``quarry mcp`` end to end with the mcp SDK's own client, over stdio and over streamable HTTP.

The server is the unmodified product command (``python app.py mcp``) in its own process, configured
only through ``QUARRY_*``: chat and embeddings from a scripted OpenAI-compatible server on loopback,
search and pages from the loopback fixture web. The client lists the five tools, researches a
question and receives progress, asks follow-ups (one from memory, fetching nothing; one that memory
lacks, researched), cancels a run and resumes it, reads a report resource, and gets one sentence and
nothing written for bad input; over HTTP beyond loopback a client without the token is refused.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

import app as quarry
from tests.cli_harness import real_app_env
from tests.fixture_web import FixtureWeb
from tests.process_guard import stop_process
from tests.research_brain import Brain
from tests.scripted_openai import ScriptedOpenAI

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How do perovskite solar cells work?"
TOOLS = ["ask", "get_report", "list_runs", "research", "search_memory"]
HEAT_PUMPS = (
    "<html><head><title>Heat pumps in cold climates</title></head><body><article>"
    "<h1>Heat pumps in cold climates</h1><p>Cold-climate air-source heat pumps reached a coefficient of "
    "performance of 2.1 at minus 15 degrees Celsius in a Canadian field study.</p><p>Defrost cycles lower the "
    "seasonal efficiency of heat pumps by about 10 percent.</p></article></body></html>"
)


@dataclass
class GatedBrain(Brain):
    """The research brain, whose planning call waits while ``gate`` is closed (to cancel a run mid-way)."""

    gate: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.gate.set()

    def _plan(self, messages: Any, schema: Any) -> dict[str, Any]:
        self.gate.wait(120)
        return super()._plan(messages, schema)


@dataclass
class World:
    """The fixture web, the scripted model and the server's environment (data directory ``home``)."""

    web: FixtureWeb
    model: ScriptedOpenAI
    brain: GatedBrain
    home: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FixtureWeb, ScriptedOpenAI, GatedBrain]]:
    brain = GatedBrain()
    with FixtureWeb() as web, ScriptedOpenAI(brain) as model:
        web.add_page("/articles/heat-pumps.html", HEAT_PUMPS)
        yield web, model, brain


@pytest.fixture
def world(served: tuple[FixtureWeb, ScriptedOpenAI, GatedBrain], tmp_path: Path) -> Iterator[World]:
    web, model, brain = served
    home = tmp_path / "mcp-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUARRY_") and not k.endswith("_API_KEY")}
    env.update(real_app_env(model.base_url, web.base_url), QUARRY_HOME=str(home), PYTHONPATH=str(ROOT),
               HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False", QUARRY_BUDGET__MAX_MINUTES="5",
               QUARRY_BUDGET__MAX_PAGES="12")
    yield World(web, model, brain, home, env)
    brain.gate.set()


def stdio(world: World) -> Client:
    params = StdioServerParameters(command=sys.executable, args=[str(ROOT / "app.py"), "mcp"], env=world.env,
                                   cwd=str(ROOT))
    return Client(params, read_timeout_seconds=240)


def text(result: Any) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content)


def followup_lines(home: Path, run_id: str) -> int:
    path = home / "runs" / run_id / "followups.jsonl"
    return len(path.read_text(encoding="utf-8").splitlines()) if path.is_file() else 0


async def research(client: Client, **arguments: Any) -> tuple[Any, list[str]]:
    messages: list[str] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        messages.append(message or "")

    result = await client.call_tool("research", arguments, progress_callback=on_progress)
    return result, messages


async def test_stdio_tools_research_progress_and_follow_ups(world: World) -> None:
    async with stdio(world) as client:
        assert sorted(t.name for t in (await client.list_tools()).tools) == TOOLS
        result, messages = await research(client, question=QUESTION)
        assert not result.is_error, text(result)
        data = result.structured_content
        run_id = data["run_id"]
        assert data["status"] == "complete" and data["answer"] and "## References" in data["markdown"]
        assert re.search(r"\[\d+\]", data["markdown"]) and f"Run: {run_id}" in text(result)
        assert messages and all(m.startswith(f"run {run_id}: ") for m in messages)
        assert any("phase: plan" in m for m in messages)
        report_md = (world.home / "runs" / run_id / "report.md").read_bytes()

        before = len(world.web.requests)
        asked = await client.call_tool("ask", {"run_id": run_id,
                                                "question": "What is the band gap of methylammonium lead iodide?"})
        assert not asked.is_error, text(asked)
        memory = asked.structured_content
        assert memory["origin"] == "memory" and memory["sentences"] and memory["references"]
        assert any("band gap" in s["text"] for s in memory["sentences"])
        assert len(world.web.requests) == before, "a follow-up memory holds fetches nothing"

        asked = await client.call_tool("ask", {"run_id": run_id, "question":
                                               "What coefficient of performance do heat pumps reach in cold climates?"})
        researched = asked.structured_content
        assert not asked.is_error and researched["origin"] == "research", text(asked)
        assert world.web.hits("/articles/heat-pumps.html") >= 1
        assert any(r["url"].endswith("/articles/heat-pumps.html") for r in researched["references"])
        assert (world.home / "runs" / researched["research_run"] / "report.json").is_file()
        assert followup_lines(world.home, run_id) == 2
        assert (world.home / "runs" / run_id / "report.md").read_bytes() == report_md

        resources = (await client.list_resources()).resources
        uri = f"quarry://runs/{run_id}/report.md"
        assert uri in [str(r.uri) for r in resources]
        body = (await client.read_resource(uri)).contents[0].text  # type: ignore[union-attr]
        assert "## Follow-up questions" in body and "heat pumps" in body
        listed = (await client.call_tool("list_runs", {})).structured_content["runs"]
        assert {r["run_id"] for r in listed} == {run_id, researched["research_run"]}
        passages = (await client.call_tool("search_memory", {"query": "band gap", "k": 2})).structured_content
        found = passages["passages"]
        assert len(found) == 2 and all(p["url"].startswith("http://127.0.0.1") for p in found)
        report_json = await client.call_tool("get_report", {"run_id": run_id, "format": "json"})
        assert f'"run_id": "{run_id}"' in text(report_json)


async def test_bad_input_is_one_sentence_and_writes_nothing(world: World) -> None:
    async with stdio(world) as client:
        result, _ = await research(client, question=QUESTION, mode="quick")
        run_id = result.structured_content["run_id"]
        folders = sorted(p.name for p in (world.home / "runs").iterdir())
        cases = [
            ("ask", {"run_id": "no-such-run", "question": "Why?"}, "There is no run 'no-such-run'"),
            ("ask", {"run_id": "../../etc", "question": "Why?"}, "is not a run id"),
            ("ask", {"run_id": run_id, "question": "   "}, "The follow-up question is empty"),
            ("ask", {"run_id": run_id, "question": "why " * 1200}, "the limit is 4,000"),
            ("research", {"question": ""}, "The research question is empty"),
            ("research", {"question": QUESTION, "mode": "turbo"}, "There is no mode 'turbo'"),
            ("research", {"question": QUESTION, "max_minutes": -1}, "max_minutes must be a positive number"),
            ("research", {"resume": "no-such-run"}, "There is no run 'no-such-run'"),
            ("get_report", {"run_id": "no-such-run"}, "There is no run 'no-such-run'"),
            ("get_report", {"run_id": run_id, "format": "docx"}, "There is no report format 'docx'"),
            ("search_memory", {"query": "band gap", "k": 0}, "k must be a whole number"),
        ]
        for tool, arguments, sentence in cases:
            refused = await client.call_tool(tool, arguments)
            assert refused.is_error and sentence in text(refused), (tool, arguments, text(refused))
            assert len(text(refused).strip().splitlines()) == 1
        wrong_type = await client.call_tool("ask", {"run_id": 5, "question": "Why?"})
        assert wrong_type.is_error
        assert sorted(p.name for p in (world.home / "runs").iterdir()) == folders
        assert followup_lines(world.home, run_id) == 0
        assert sorted((await client.list_tools()).tools, key=lambda t: t.name)  # still serving


async def test_a_cancelled_run_stops_at_a_checkpoint_and_resumes(world: World) -> None:
    world.brain.gate.clear()  # planning waits, so the cancel lands while the run is under way
    async with stdio(world) as client:
        messages: list[str] = []
        scope = anyio.CancelScope()

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            messages.append(message or "")
            scope.cancel()

        with scope:
            await client.call_tool("research", {"question": QUESTION}, progress_callback=on_progress)
        assert scope.cancelled_caught
        run_id = re.match(r"run (\S+): ", messages[0]).group(1)  # type: ignore[union-attr]
        world.brain.gate.set()
        status = ""
        deadline = time.monotonic() + 60
        while status != "interrupted" and time.monotonic() < deadline:  # readiness poll, not a timed assert
            runs = (await client.call_tool("list_runs", {})).structured_content["runs"]
            status = next((r["status"] for r in runs if r["run_id"] == run_id), "")
            await anyio.sleep(0.1)
        assert status == "interrupted"
        assert not (world.home / "runs" / run_id / "report.json").exists()

        resumed, messages = await research(client, resume=run_id)
        assert not resumed.is_error, text(resumed)
        assert resumed.structured_content["run_id"] == run_id and resumed.structured_content["status"] == "complete"
        assert any("resumed" in m for m in messages)
        assert (world.home / "runs" / run_id / "report.json").is_file()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def http_server(world: World, *flags: str) -> AsyncIterator[str]:
    port = free_port()
    log = (world.home.parent / "mcp-http.log").open("wb")
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "mcp", "--http", str(port), *flags],
                            cwd=ROOT, env=world.env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # readiness: the port accepts connections
            assert proc.poll() is None, (world.home.parent / "mcp-http.log").read_text()
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            await anyio.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        stop_process(proc)
        log.close()


async def test_http_on_loopback_lists_tools_and_researches(world: World) -> None:
    async with http_server(world) as url, Client(url, read_timeout_seconds=240) as client:
        assert sorted(t.name for t in (await client.list_tools()).tools) == TOOLS
        result, messages = await research(client, question=QUESTION, mode="quick")
        assert not result.is_error and result.structured_content["answer"], text(result)
        assert messages


async def test_http_beyond_loopback_refuses_a_client_without_the_token(world: World) -> None:
    token = "s3cret-token-for-the-test"
    async with http_server(world, "--host", "0.0.0.0", "--token", token) as url:
        hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
        async with httpx.AsyncClient() as raw:
            assert (await raw.post(url, json=hello)).status_code == 401
            wrong = await raw.post(url, json=hello, headers={"Authorization": "Bearer wrong"})
            assert wrong.status_code == 401
        with pytest.raises(Exception):  # noqa: B017  the SDK client cannot even connect
            async with Client(url, read_timeout_seconds=20) as client:
                await client.list_tools()
        transport = streamable_http_client(url, http_client=create_mcp_http_client(
            headers={"Authorization": f"Bearer {token}"}))
        async with Client(transport, read_timeout_seconds=60) as client:
            assert sorted(t.name for t in (await client.list_tools()).tools) == TOOLS


def test_listening_beyond_loopback_needs_a_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["mcp", "--http", "8765", "--host", "0.0.0.0"], ["mcp", "--token", "x"],
                 ["mcp", "--http", "8765", "--token", " "]):
        code = quarry.main(argv, app=quarry.App(settings=quarry.load_settings(home=tmp_path / "home")))
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1 and err.startswith("quarry: "), (argv, err)
    assert not (tmp_path / "home").exists()


def test_loopback_hosts_and_the_bearer_guard() -> None:
    from ui.errors import BadInputError
    from ui.mcp.http import BearerGuard, check_listen, is_loopback

    assert all(is_loopback(h) for h in ("127.0.0.1", "127.8.0.1", "::1", "[::1]", "localhost", "LOCALHOST"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "192.168.1.5", "::", "example.org", ""))
    check_listen("127.0.0.1", None)
    check_listen("0.0.0.0", "secret")
    with pytest.raises(BadInputError, match="give --token SECRET"):
        check_listen("192.168.1.5", None)
    reached: list[str] = []

    async def inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
        reached.append(scope["type"])

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    guard = BearerGuard(inner, "secret")
    for headers in ([], [(b"authorization", b"Bearer wrong")], [(b"authorization", b"secret")]):
        anyio.run(guard, {"type": "http", "headers": headers}, None, send)
    assert reached == [] and [m["status"] for m in sent if "status" in m] == [401, 401, 401]
    anyio.run(guard, {"type": "http", "headers": [(b"authorization", b"Bearer secret")]}, None, send)
    anyio.run(guard, {"type": "lifespan"}, None, send)
    assert reached == ["http", "lifespan"]
