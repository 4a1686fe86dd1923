"""One list of tools: built-ins, entry-point plugins and MCP servers, each called the same way.

Guarantees:

- Every tool has one shape (``Tool``): a name, a description, a JSON schema for its arguments, an
  async call returning text or a list of ``SearchResult`` and an origin (``built-in``,
  ``plugin:<package> <version>``, ``mcp:<server>``). A plain typed function with a docstring, a
  LangChain ``BaseTool`` or a ``Tool`` registers through the one ``register`` hook
  (``tools.schema`` does the conversion).
- Names are unique: registering a name twice raises ``PluginError`` naming both origins.
- ``call_schema()`` is the union over tools of ``{"tool": <const name>, "arguments": <schema>}``
  with every string and array bounded and no extra keys, so a grammar built from it admits only a
  real tool name with arguments valid for that tool.
- ``call()`` never raises for a tool's failure: bad arguments, an exception, a timeout or an
  unknown name become a ``ToolOutcome`` with ``ok=False`` and a one-sentence ``error``. Every call
  is reported through ``on_event`` as a ``tool_call`` event (tool, arguments, duration, outcome).
- ``session()`` starts the configured MCP servers for the time of a run (``async with`` or
  ``with``) and registers their tools as ``server.tool``; they are unregistered and the server
  processes stopped when the last session ends.

The registry knows no loader: plugins (``tools.plugins``) and MCP servers (``tools.mcp_client``)
import it and add their tools, the MCP host reaches it only as a ``SessionHost``, and
``tools.compose.build_registry`` wires the loaders to a new registry.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from typing import Any, Protocol

import jsonschema

from tools.errors import PluginError
from tools.schema import (
    ToolCallable,
    ToolOutput,
    bounded_schema,
    normalize_output,
    to_tool_parts,
)
from tools.types import SearchResult

log = logging.getLogger(__name__)

EventSink = Callable[[dict[str, Any]], None]

DEFAULT_TIMEOUT_S = 60.0
MAX_NAME_CHARS = 64
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


class ToolReportedError(PluginError):
    """Raised by a tool to report its own failure; the agent sees the message as given."""


@dataclass(frozen=True)
class Tool:
    """One tool: its name, description, JSON schema of arguments, async call and origin."""

    name: str
    description: str
    parameters: dict[str, Any]
    call: ToolCallable
    origin: str = "built-in"


@dataclass(frozen=True)
class ToolOutcome:
    """What one tool call produced: the output, or an error the agent can read and act on."""

    tool: str
    arguments: dict[str, Any]
    ok: bool
    output: ToolOutput
    error: str | None
    duration_s: float
    origin: str = ""

    @property
    def results(self) -> list[SearchResult]:
        """The search results the tool returned (empty when it returned text or failed)."""
        return list(self.output) if isinstance(self.output, list) else []

    def observation(self, max_chars: int = 4000) -> str:
        """The outcome as text for the agent's next prompt (wrap it with ``prompts.untrusted``)."""
        if not self.ok:
            return f"Tool {self.tool} failed: {self.error}"
        if isinstance(self.output, list):
            lines = [f"{r.rank}. {r.title} — {r.url}\n   {r.snippet}" for r in self.output]
            text = "\n".join(lines) if lines else "(no results)"
        else:
            text = self.output
        return text if len(text) <= max_chars else text[:max_chars] + " …(truncated)"

    def as_event(self) -> dict[str, Any]:
        """The ``tool_call`` event for the run's events and manifest (output summarised)."""
        if isinstance(self.output, list):
            summary: Any = [{"title": r.title, "url": r.url} for r in self.output]
        else:
            summary = self.output[:500]
        return {
            "type": "tool_call",
            "ts": time.time(),
            "tool": self.tool,
            "origin": self.origin,
            "arguments": self.arguments,
            "ok": self.ok,
            "error": self.error,
            "duration_s": round(self.duration_s, 4),
            "output": summary,
        }


def _check_name(name: str, origin: str) -> None:
    if not name or len(name) > MAX_NAME_CHARS or not set(name) <= _NAME_CHARS:
        raise PluginError(
            f"The tool name {name!r} from {origin} is not usable; use 1-{MAX_NAME_CHARS} letters, "
            "digits, '_', '-' or '.'."
        )


class SessionHost(Protocol):
    """What starts tools for the time of a session and stops them after (``tools.mcp_client.McpHost``)."""

    @property
    def server_names(self) -> list[str]:
        """The configured server names, sorted."""
        ...

    def start(self, registry: ToolRegistry) -> None:
        """Start the servers and add their tools to ``registry``."""
        ...

    def stop(self, registry: ToolRegistry) -> None:
        """Remove their tools from ``registry`` and stop the servers."""
        ...


class ToolRegistry:
    """The tools a run can call, by name; see the module docstring for the guarantees."""

    def __init__(
        self,
        *,
        on_event: EventSink | None = None,
        default_timeout_s: float = DEFAULT_TIMEOUT_S,
        mcp: SessionHost | None = None,
    ) -> None:
        self._tools: dict[str, Tool] = {}
        self._bounded: dict[str, dict[str, Any]] = {}
        self._validators: dict[str, jsonschema.protocols.Validator] = {}
        self.on_event = on_event
        self.default_timeout_s = default_timeout_s
        self.problems: list[str] = []
        self._mcp = mcp
        self._sessions = 0
        self._session_lock = threading.Lock()

    # -- registration ---------------------------------------------------------------------------

    def build(self, obj: Any, origin: str = "built-in", *, name: str | None = None) -> Tool:
        """Turn a typed function, LangChain tool or ``Tool`` into a ``Tool`` without registering it."""
        if isinstance(obj, Tool):  # a plugin's origin wins over the one the Tool was made with
            tool = replace(obj, name=name or obj.name, origin=obj.origin if origin == "built-in" else origin)
        else:
            tool_name, description, parameters, call = to_tool_parts(obj, name=name, origin=origin)
            tool = Tool(tool_name, description, parameters, call, origin)
        _check_name(tool.name, origin)
        return tool

    def register(self, obj: Any, origin: str = "built-in", *, name: str | None = None) -> Tool:
        """Register one tool; a name already taken raises ``PluginError`` naming both origins."""
        tool = self.build(obj, origin, name=name)
        self.add(tool)
        return tool

    def add(self, tool: Tool) -> None:
        """Register a built ``Tool``; a name already taken raises ``PluginError``."""
        _check_name(tool.name, tool.origin)
        existing = self._tools.get(tool.name)
        if existing is not None:
            raise PluginError(
                f"The tool name {tool.name!r} is registered by both {existing.origin} and {tool.origin}; "
                "uninstall one of them or leave one out of plugins.load."
            )
        schema = bounded_schema(tool.parameters)
        try:
            validator_cls = jsonschema.validators.validator_for(schema)
            validator_cls.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise PluginError(
                f"The tool {tool.name!r} from {tool.origin} has an invalid argument schema "
                f"({exc.message}); fix the tool's schema."
            ) from exc
        self._tools[tool.name] = tool
        self._bounded[tool.name] = schema
        self._validators[tool.name] = validator_cls(schema)

    def remove(self, name: str) -> None:
        """Unregister a tool (MCP tools at the end of a session); unknown names are ignored."""
        self._tools.pop(name, None)
        self._bounded.pop(name, None)
        self._validators.pop(name, None)

    def report_problem(self, source: str, message: str) -> None:
        """Record a loading problem once (plugin, MCP server) and emit it as a ``tool_problem``."""
        if message in self.problems:
            return
        self.problems.append(message)
        log.info("%s", message)  # shown to the user by the command that built the registry
        self.emit({"type": "tool_problem", "ts": time.time(), "source": source, "message": message})

    # -- lookup ---------------------------------------------------------------------------------

    def tools(self) -> list[Tool]:
        """Every registered tool, sorted by name."""
        return [self._tools[name] for name in sorted(self._tools)]

    def names(self) -> list[str]:
        """Every registered tool name, sorted."""
        return sorted(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)

    def get(self, name: str) -> Tool:
        """The tool called ``name``; raises ``PluginError`` when there is none."""
        try:
            return self._tools[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise PluginError(
                f"There is no tool named {name!r} (known tools: {known}); run `tools` to list them."
            ) from None

    def arguments_schema(self, name: str) -> dict[str, Any]:
        """The bounded argument schema of one tool (the one ``call_schema`` and ``call`` use)."""
        self.get(name)
        return self._bounded[name]

    def call_schema(self, names: Sequence[str] | None = None) -> dict[str, Any]:
        """The JSON schema of one valid call: ``{"tool": NAME, "arguments": {...}}`` for any tool."""
        chosen = self.names() if names is None else [self.get(n).name for n in names]
        if not chosen:
            raise PluginError("No tools are registered, so no tool call can be made; check `tools`.")
        branches = [
            {
                "type": "object",
                "properties": {"tool": {"const": n}, "arguments": self._bounded[n]},
                "required": ["tool", "arguments"],
                "additionalProperties": False,
            }
            for n in chosen
        ]
        schema: dict[str, Any] = branches[0] if len(branches) == 1 else {"anyOf": branches}
        return {"title": "ToolCall", **schema}

    # -- calling --------------------------------------------------------------------------------

    def validate(self, name: str, arguments: Any) -> str | None:
        """Why ``arguments`` are not valid for tool ``name`` (one sentence), or None when valid."""
        if name not in self._tools:
            known = ", ".join(self.names()) or "none"
            return f"there is no tool named {name!r}; choose one of: {known}"
        if not isinstance(arguments, dict):
            return f"arguments must be a JSON object, not {type(arguments).__name__}"
        error = jsonschema.exceptions.best_match(self._validators[name].iter_errors(arguments))
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path) or "arguments"
        return f"invalid arguments for {name} at {where}: {error.message}"

    async def call(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        timeout_s: float | None = None,
        *,
        on_event: EventSink | None = None,
    ) -> ToolOutcome:
        """Validate and run one tool call; failures and timeouts become an unsuccessful outcome."""
        args = {} if arguments is None else arguments
        start = time.perf_counter()
        tool = self._tools.get(name)
        origin = tool.origin if tool is not None else ""
        problem = self.validate(name, args)
        output: ToolOutput = ""
        error: str | None = None
        if problem is not None:
            error = problem[0].upper() + problem[1:] + "."
        else:
            assert tool is not None
            limit = self.default_timeout_s if timeout_s is None else timeout_s
            output, error = await self._run(tool, dict(args), limit)
        outcome = ToolOutcome(
            tool=name,
            arguments=args if isinstance(args, dict) else {"_invalid": repr(args)},
            ok=error is None,
            output=output if error is None else "",
            error=error,
            duration_s=time.perf_counter() - start,
            origin=origin,
        )
        self.emit(outcome.as_event(), on_event)
        return outcome

    async def _run(self, tool: Tool, args: dict[str, Any], limit: float) -> tuple[ToolOutput, str | None]:
        try:
            raw = await asyncio.wait_for(tool.call(args), timeout=limit)
            return normalize_output(raw, backend=f"tool:{tool.name}"), None
        except TimeoutError:
            return "", f"Tool {tool.name} timed out after {limit:g} s; try other arguments or another tool."
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001  a tool is third-party code: its failure is an observation
            if isinstance(exc, ToolReportedError):
                return "", f"Tool {tool.name} failed: {str(exc).rstrip('.')}."
            reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
            return "", f"Tool {tool.name} failed ({type(exc).__name__}: {reason}); try other arguments."

    def call_sync(
        self, name: str, arguments: dict[str, Any] | None = None, timeout_s: float | None = None
    ) -> ToolOutcome:
        """``call`` for synchronous code (the CLI); must not run inside an event loop."""
        return asyncio.run(self.call(name, arguments, timeout_s))

    def emit(self, event: dict[str, Any], on_event: EventSink | None = None) -> None:
        sink = on_event or self.on_event
        if sink is None:
            return
        try:
            sink(event)
        except Exception as exc:  # noqa: BLE001  a broken event consumer must not break a tool call
            log.warning("the event sink failed on a %s event: %s", event.get("type"), exc)

    # -- MCP sessions ---------------------------------------------------------------------------

    @property
    def mcp_servers(self) -> list[str]:
        """The names of the configured MCP servers."""
        return self._mcp.server_names if self._mcp is not None else []

    def _enter(self) -> None:
        with self._session_lock:
            self._sessions += 1
            if self._sessions > 1 or self._mcp is None:
                return
            try:
                self._mcp.start(self)
            except BaseException:
                self._sessions -= 1
                raise

    def _exit(self) -> None:
        with self._session_lock:
            self._sessions -= 1
            if self._sessions == 0 and self._mcp is not None:
                self._mcp.stop(self)

    @contextmanager
    def sync_session(self, on_event: EventSink | None = None) -> Iterator[ToolRegistry]:
        """``with registry.sync_session():`` — MCP servers run inside the block (synchronous code)."""
        self._enter()
        self._replay_problems(on_event)
        try:
            yield self
        finally:
            self._exit()

    @asynccontextmanager
    async def session(self, on_event: EventSink | None = None) -> AsyncIterator[ToolRegistry]:
        """``async with registry.session():`` — MCP servers run (and their tools exist) inside it.

        ``on_event`` (a run's event sink) receives every loading problem so far as a ``tool_problem``
        event, so a run's events say which plugins or servers it runs without.
        """
        await asyncio.to_thread(self._enter)
        self._replay_problems(on_event)
        try:
            yield self
        finally:
            await asyncio.shield(asyncio.to_thread(self._exit))

    def _replay_problems(self, on_event: EventSink | None) -> None:
        if on_event is None:
            return
        for message in self.problems:
            self.emit({"type": "tool_problem", "ts": time.time(), "message": message}, on_event)

    def close(self) -> None:
        """Stop any MCP server still running (``App.close`` calls this)."""
        with self._session_lock:
            if self._sessions > 0 and self._mcp is not None:
                self._mcp.stop(self)
            self._sessions = 0
