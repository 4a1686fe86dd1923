"""MCP servers as tools: started over stdio for a session, their tools named ``server.tool``.

Servers come from the TOML settings file only (``[mcp_servers.NAME]``: command, args, env,
timeout_s); nothing a research question or the browser UI says can add one or change its command.

Guarantees:

- ``McpHost.start(registry)`` starts every configured server as a subprocess (its own process
  group; it sees only a minimal environment plus the configured ``env``), performs the MCP
  handshake and lists its tools within ``timeout_s``, and registers each tool as
  ``<server>.<tool>`` with origin ``mcp:<server>``. A server that cannot start (missing command,
  no handshake, bad tool list) is reported once through ``registry.report_problem`` and the others
  go on.
- The servers live on one background thread with its own event loop, so their tools can be called
  from any event loop or thread; a cancelled call (timeout) is cancelled on the server side too.
- ``McpHost.stop(registry)`` unregisters the tools and stops every server process (stdin closed,
  then terminate, then kill, as the ``mcp`` SDK's stdio transport does); none outlives it.
- A tool whose structured result is a list of objects with a ``url`` returns search results (they
  flow into fetching and memory like any search hit); any other result is its text.
- A server's stderr goes to ``<log_dir>/mcp-<server>.log`` (discarded without a ``log_dir``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import threading
import time
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tools.errors import PluginError
from tools.registry import Tool, ToolReportedError

if TYPE_CHECKING:
    from mcp import ClientSession

    from tools.registry import ToolRegistry

_STOP_GRACE_S = 15.0  # the SDK's own shutdown is bounded at about 6 s per server


@dataclass(frozen=True)
class McpServerOptions:
    """One MCP server started over stdio (mirrors ``agents.settings.McpServerSettings``)."""

    command: str
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = 30.0
    cwd: str | None = None


@dataclass
class _Server:
    name: str
    options: McpServerOptions
    ready: concurrent.futures.Future[tuple[ClientSession, list[Any]]]
    tools: list[str] = field(default_factory=list)


class McpHost:
    """Starts and stops the configured MCP servers on a background event loop."""

    def __init__(self, servers: Mapping[str, McpServerOptions], *, log_dir: Path | None = None) -> None:
        self._options = dict(servers)
        self._log_dir = log_dir
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._servers: dict[str, _Server] = {}

    @property
    def server_names(self) -> list[str]:
        """The configured server names, sorted."""
        return sorted(self._options)

    def start(self, registry: ToolRegistry) -> None:
        """Start every server, register the tools of those that answered, report the others."""
        if not self._options or self._thread is not None:
            return
        self._servers = {
            name: _Server(name, opts, concurrent.futures.Future()) for name, opts in self._options.items()
        }
        started = threading.Event()
        self._thread = threading.Thread(target=self._run_loop, args=(started,), name="mcp-host", daemon=True)
        self._thread.start()
        started.wait()
        for server in self._servers.values():
            self._await_ready(registry, server)

    def _await_ready(self, registry: ToolRegistry, server: _Server) -> None:
        name = server.name
        try:
            session, listed = server.ready.result(timeout=server.options.timeout_s + 5.0)
        except concurrent.futures.TimeoutError:
            registry.report_problem(f"mcp:{name}", _start_failure(name, server.options, TimeoutError()))
            return
        except Exception as exc:  # noqa: BLE001  any start failure of a third-party server is reported
            registry.report_problem(f"mcp:{name}", _start_failure(name, server.options, exc))
            return
        for spec in listed:
            tool = self._as_tool(name, session, spec)
            try:
                registry.add(tool)
            except PluginError as exc:
                registry.report_problem(f"mcp:{name}", f"MCP server {name}: {exc}")
                continue
            server.tools.append(tool.name)
        registry.emit(
            {"type": "mcp_server", "ts": time.time(), "server": name, "state": "started",
             "tools": list(server.tools)}
        )

    def stop(self, registry: ToolRegistry) -> None:
        """Unregister the servers' tools and stop every server process."""
        for server in self._servers.values():
            for tool_name in server.tools:
                registry.remove(tool_name)
        loop, thread, stop_event = self._loop, self._thread, self._stop_event
        if loop is not None and stop_event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop_event.set)
        if thread is not None:
            thread.join(timeout=_STOP_GRACE_S * max(1, len(self._servers)))
        for server in self._servers.values():
            if server.ready.done() and server.ready.exception() is None:
                registry.emit(
                    {"type": "mcp_server", "ts": time.time(), "server": server.name, "state": "stopped"}
                )
        self._thread = self._loop = self._stop_event = None
        self._servers = {}

    # -- the background loop --------------------------------------------------------------------

    def _run_loop(self, started: threading.Event) -> None:
        asyncio.run(self._main(started))

    async def _main(self, started: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        started.set()
        tasks = [asyncio.create_task(self._serve(server)) for server in self._servers.values()]
        await self._stop_event.wait()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve(self, server: _Server) -> None:
        from mcp import ClientSession, StdioServerParameters
        from mcp.client.stdio import stdio_client

        opts = server.options
        params = StdioServerParameters(
            command=opts.command, args=list(opts.args), env=dict(opts.env) or None, cwd=opts.cwd
        )
        assert self._stop_event is not None
        try:
            async with AsyncExitStack() as stack:
                errlog = stack.enter_context(self._errlog(server.name))
                read, write = await stack.enter_async_context(stdio_client(params, errlog=errlog))
                session = await stack.enter_async_context(ClientSession(read, write))
                listed = await asyncio.wait_for(self._handshake(session), timeout=opts.timeout_s)
                server.ready.set_result((session, listed))
                await self._stop_event.wait()
        except Exception as exc:  # noqa: BLE001  handed to the starting thread, which reports it
            if not server.ready.done():
                server.ready.set_exception(exc)

    @staticmethod
    async def _handshake(session: ClientSession) -> list[Any]:
        await session.initialize()
        tools: list[Any] = []
        cursor: str | None = None
        while True:
            from mcp.types import PaginatedRequestParams

            page = await session.list_tools(params=PaginatedRequestParams(cursor=cursor) if cursor else None)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                return tools

    def _errlog(self, name: str) -> TextIO:
        if self._log_dir is None:
            return open(os.devnull, "w", encoding="utf-8")
        self._log_dir.mkdir(parents=True, exist_ok=True)
        return open(self._log_dir / f"mcp-{name}.log", "a", encoding="utf-8")

    # -- tools ----------------------------------------------------------------------------------

    def _as_tool(self, server: str, session: ClientSession, spec: Any) -> Tool:
        remote = str(spec.name)
        schema = dict(spec.input_schema or {"type": "object", "properties": {}})

        async def call(arguments: dict[str, Any]) -> str | list[Any]:
            loop = self._loop
            if loop is None or loop.is_closed():
                raise PluginError(f"the MCP server {server} is not running; start a session first.")
            future = asyncio.run_coroutine_threadsafe(_call_remote(session, remote, arguments), loop)
            return await asyncio.wrap_future(future)

        description = (spec.description or spec.name or "").strip()
        return Tool(f"{server}.{remote}", description, schema, call, origin=f"mcp:{server}")


class McpToolError(ToolReportedError):
    """An MCP tool answered with ``is_error``; the message is the server's own text."""


async def _call_remote(session: ClientSession, name: str, arguments: dict[str, Any]) -> str | list[Any]:
    result = await session.call_tool(name, arguments)
    links = _links(result.structured_content)
    if links is not None and not result.is_error:
        return links  # search-like results: the registry turns them into SearchResults
    parts: list[str] = []
    for block in result.content:
        text = getattr(block, "text", None)
        parts.append(text if isinstance(text, str) else f"[{getattr(block, 'type', 'content')} omitted]")
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False, default=str))
    text = "\n".join(parts)
    if result.is_error:
        raise McpToolError(text.strip()[:300] or "the MCP tool reported an error")
    return text


def _links(structured: Any) -> list[Any] | None:
    """Structured content that is a list of objects with a ``url`` (bare or as ``{"result": [...]}``)."""
    if isinstance(structured, dict) and set(structured) == {"result"}:
        structured = structured["result"]
    if isinstance(structured, list) and structured and all(
        isinstance(item, dict) and isinstance(item.get("url"), str) for item in structured
    ):
        return structured
    return None


def _start_failure(name: str, opts: McpServerOptions, exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    where = f"mcp_servers.{name}"
    if isinstance(exc, FileNotFoundError):
        return (
            f"MCP server {name} could not start: the command {opts.command!r} was not found; "
            f"fix {where}.command in the settings file."
        )
    if isinstance(exc, PermissionError):
        return f"MCP server {name} could not start: {opts.command!r} is not executable; fix {where}.command."
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return (
            f"MCP server {name} did not complete the MCP handshake within {opts.timeout_s:g} s; check that "
            f"{opts.command!r} is an MCP stdio server or raise {where}.timeout_s."
        )
    reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return f"MCP server {name} could not start ({type(exc).__name__}: {reason}); check {where} in the settings file."
