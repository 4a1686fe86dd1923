"""The app's tool registry, composed: built-ins, then entry-point plugins, then MCP servers.

``build_registry`` is the one place that knows every loader: it makes a ``ToolRegistry``, registers
the built-ins through the same hook as third parties, loads the selected plugins
(``tools.plugins``) and hands the registry an ``McpHost`` (``tools.mcp_client``) that starts the
configured servers for each session. The loaders import the registry, the registry imports no
loader, and only this module imports both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tools.mcp_client import McpHost, McpServerOptions
from tools.plugins import load_plugins
from tools.registry import DEFAULT_TIMEOUT_S, EventSink, ToolRegistry


def build_registry(
    *,
    builtins: Sequence[Any] = (),
    plugin_load: str | list[str] = "all",
    mcp_servers: Mapping[str, McpServerOptions] | None = None,
    on_event: EventSink | None = None,
    tool_timeout_s: float = DEFAULT_TIMEOUT_S,
    log_dir: Path | None = None,
) -> ToolRegistry:
    """The registry of a Quarry app: built-ins, then entry-point plugins, then MCP servers (per session)."""
    host = McpHost(mcp_servers, log_dir=log_dir) if mcp_servers else None
    registry = ToolRegistry(on_event=on_event, default_timeout_s=tool_timeout_s, mcp=host)
    for obj in builtins:
        registry.register(obj, "built-in")
    load_plugins(registry, plugin_load)
    return registry
