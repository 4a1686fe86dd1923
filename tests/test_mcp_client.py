"""MCP servers over stdio: a real server (tests/mcp_echo_server.py) started for a session, its tools
namespaced and called, its process gone afterwards; servers that cannot start are reported."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from tests.plugin_support import ECHO_SERVER, process_gone
from tools.mcp_client import McpHost, McpServerOptions
from tools.registry import ToolRegistry


def echo_options(**extra: Any) -> McpServerOptions:
    return McpServerOptions(command=sys.executable, args=(str(ECHO_SERVER),), timeout_s=60.0, **extra)


async def test_real_server_tools_are_namespaced_called_and_stopped(tmp_path: Path) -> None:
    events: list[dict[str, Any]] = []
    host = McpHost({"echo": echo_options()}, log_dir=tmp_path / "logs")
    registry = ToolRegistry(mcp=host, on_event=events.append)
    assert registry.names() == [] and registry.mcp_servers == ["echo"]
    async with registry.session():
        assert registry.names() == ["echo.echo", "echo.fail", "echo.links", "echo.pid", "echo.sleep"]
        assert {t.origin for t in registry.tools()} == {"mcp:echo"}
        assert registry.get("echo.echo").description == "Repeat a text."
        echoed = await registry.call("echo.echo", {"text": "hi", "times": 3})
        assert echoed.ok and echoed.output == "hi hi hi" and echoed.origin == "mcp:echo"
        failed = await registry.call("echo.fail", {"reason": "no disk"})
        assert not failed.ok and "cannot do it: no disk" in (failed.error or "")
        invalid = await registry.call("echo.echo", {"text": 5})
        assert not invalid.ok and "echo.echo" in (invalid.error or "")
        schema = registry.call_schema()
        names = [b["properties"]["tool"]["const"] for b in schema["anyOf"]]
        assert names == ["echo.echo", "echo.fail", "echo.links", "echo.pid", "echo.sleep"]
        links = await registry.call("echo.links", {"topic": "heat"})
        assert [(r.title, r.url, r.rank, r.backend) for r in links.results] == [
            ("heat 1", "https://example.org/heat/1", 1, "tool:echo.links"),
            ("heat 2", "https://example.org/heat/2", 2, "tool:echo.links"),
        ]
        pid = int((await registry.call("echo.pid", {})).output)  # type: ignore[arg-type]
        assert pid != os.getpid() and not process_gone(pid)
    assert registry.names() == []
    assert process_gone(pid)
    kinds = [(e["type"], e.get("state") or e.get("tool")) for e in events]
    assert kinds[0] == ("mcp_server", "started") and kinds[-1] == ("mcp_server", "stopped")
    assert ("tool_call", "echo.echo") in kinds and ("tool_call", "echo.fail") in kinds
    assert (tmp_path / "logs" / "mcp-echo.log").is_file()


async def test_missing_command_is_reported_and_other_servers_work() -> None:
    host = McpHost(
        {
            "ghost": McpServerOptions(command="quarry-no-such-mcp-server", args=("--stdio",)),
            "echo": echo_options(),
        }
    )
    registry = ToolRegistry(mcp=host)
    run_events: list[dict[str, Any]] = []
    async with registry.session(on_event=run_events.append):
        assert [e["message"] for e in run_events if e["type"] == "tool_problem"] == registry.problems
        assert registry.problems == [
            "MCP server ghost could not start: the command 'quarry-no-such-mcp-server' was not found; "
            "fix mcp_servers.ghost.command in the settings file."
        ]
        assert (await registry.call("echo.echo", {"text": "still here"})).output == "still here"
    assert registry.names() == []


def test_server_without_handshake_times_out_with_a_clear_message() -> None:
    silent = McpServerOptions(command=sys.executable, args=("-c", "import time; time.sleep(600)"), timeout_s=1.0)
    registry = ToolRegistry(mcp=McpHost({"silent": silent}))
    with registry.sync_session():
        assert registry.names() == []
    assert registry.problems == [
        f"MCP server silent did not complete the MCP handshake within 1 s; check that {sys.executable!r} "
        "is an MCP stdio server or raise mcp_servers.silent.timeout_s."
    ]


def test_hanging_mcp_tool_times_out_and_the_server_keeps_answering() -> None:
    registry = ToolRegistry(mcp=McpHost({"echo": echo_options()}))
    with registry.sync_session():
        slow = registry.call_sync("echo.sleep", {"seconds": 30}, timeout_s=0.5)
        assert not slow.ok
        assert slow.error == "Tool echo.sleep timed out after 0.5 s; try other arguments or another tool."
        assert registry.call_sync("echo.echo", {"text": "after"}).output == "after"


async def test_nested_sessions_share_one_server_and_calls_work_from_other_loops() -> None:
    registry = ToolRegistry(mcp=McpHost({"echo": echo_options()}))
    async with registry.session():
        async with registry.session():
            first = int((await registry.call("echo.pid", {})).output)  # type: ignore[arg-type]
        second = await asyncio.to_thread(registry.call_sync, "echo.pid", {})
        assert int(second.output) == first  # type: ignore[arg-type]
    assert process_gone(first)
    assert (await registry.call("echo.pid", {})).error is not None


def test_configured_env_reaches_the_server(tmp_path: Path) -> None:
    env_value = "from-settings"
    script = tmp_path / "env_server.py"
    script.write_text(
        "import os\n"
        "from mcp.server.mcpserver import MCPServer\n"
        "server = MCPServer('env')\n"
        "@server.tool()\n"
        "def read(name: str) -> str:\n"
        "    '''Read a variable.'''\n"
        "    return os.environ.get(name, '<unset>')\n"
        "server.run()\n"
    )
    opts = McpServerOptions(command=sys.executable, args=(str(script),), env={"QUARRY_TEST_VALUE": env_value})
    registry = ToolRegistry(mcp=McpHost({"env": opts}))
    with registry.sync_session():
        assert registry.call_sync("env.read", {"name": "QUARRY_TEST_VALUE"}).output == env_value
        assert registry.call_sync("env.read", {"name": "QUARRY_HOME"}).output == "<unset>"
