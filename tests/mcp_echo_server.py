"""A few-line MCP server over stdio for the tests: echo, its pid, a slow tool, links, a failing tool."""

from __future__ import annotations

import os

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("echo")


@server.tool()
def echo(text: str, times: int = 1) -> str:
    """Repeat a text."""
    return " ".join([text] * times)


@server.tool()
def pid() -> str:
    """The server's process id."""
    return str(os.getpid())


@server.tool()
async def sleep(seconds: float) -> str:
    """Sleep, then answer."""
    await anyio.sleep(seconds)
    return "awake"


@server.tool()
def links(topic: str) -> list[dict[str, str]]:
    """Pages about a topic."""
    return [{"title": f"{topic} {i}", "url": f"https://example.org/{topic}/{i}", "snippet": "s"} for i in (1, 2)]


@server.tool()
def fail(reason: str) -> str:
    """Always fails."""
    raise ToolError(f"cannot do it: {reason}")


if __name__ == "__main__":
    if os.environ.get("MCP_ECHO_PIDFILE"):  # lets a test find the process after a run
        with open(os.environ["MCP_ECHO_PIDFILE"], "w") as out:
            out.write(str(os.getpid()))
    server.run()
