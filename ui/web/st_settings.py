"""The settings page: read-only, from the same ``Settings`` as the CLI.

Guarantees: nothing here changes a setting; API keys are never asked for or shown — only the
*names* of the environment variables that hold them and whether each is set; plugins and MCP
servers are listed (MCP server environment shows variable names only, never values).
"""

from __future__ import annotations

import os
from importlib import metadata
from typing import Any

import pandas as pd
import streamlit as st

from agents.run.modes import resolve
from agents.settings import ROLES, Settings, config_file
from tools.errors import PluginError
from ui.safe import md_escape

PLUGIN_GROUP = "quarry.tools"


def key_rows(settings: Settings) -> list[dict[str, str]]:
    """Each API-key variable name and whether it is set (never its value)."""
    names = {
        "LLM (OpenAI-compatible)": settings.llm.api_key_env,
        "Tavily search": settings.search.tavily_key_env,
        "Brave search": settings.search.brave_key_env,
    }
    return [{"used by": use, "variable": var, "state": "set" if os.environ.get(var) else "not set"}
            for use, var in names.items()]


def model_rows(settings: Settings) -> list[dict[str, str]]:
    """The resolved backend, model and base URL for every role."""
    return [{"role": role, **{k: str(v or "") for k, v in settings.model_for(role).model_dump().items()}}
            for role in ROLES]


def plugin_rows(group: str = PLUGIN_GROUP) -> list[dict[str, str]]:
    """Installed tool plugins (entry points): name, module and distribution."""
    out = []
    for ep in metadata.entry_points(group=group):
        dist = getattr(ep, "dist", None)
        out.append({"name": ep.name, "target": ep.value,
                    "package": f"{dist.name} {dist.version}" if dist is not None else ""})
    return out


def mcp_rows(settings: Settings) -> list[dict[str, Any]]:
    """Configured MCP servers: command, arguments and the names of the variables they get."""
    return [{"server": name, "command": s.command, "arguments": " ".join(s.args),
             "environment": ", ".join(sorted(s.env)), "timeout (s)": s.timeout_s}
            for name, s in settings.mcp_servers.items()]


def tool_rows(app: Any) -> list[dict[str, str]]:
    """Every tool the app's registry offers (built-ins and plugins): name, origin, description."""
    registry = app.registry()
    return [{"tool": t.name, "origin": t.origin, "description": " ".join(t.description.split())[:160]}
            for t in registry.tools()]


def render(settings: Settings, app: Any = None) -> None:
    """Draw the settings, read-only (and the tools of ``app``'s registry when given)."""
    st.title("Settings")
    where = config_file()
    st.caption("Read-only. Change settings in the TOML file or QUARRY_* environment variables and restart.")
    st.markdown(f"**Data directory:** {md_escape(settings.home)} · **settings file:** "
                f"{md_escape(where) if where else 'none (defaults and environment)'}")
    st.subheader("Models")
    st.dataframe(pd.DataFrame(model_rows(settings)), hide_index=True, width="stretch")
    st.subheader("Mode")
    choice = resolve(settings)
    st.markdown(f"**{md_escape(choice.mode)}**, time budget {choice.max_minutes:g} minutes "
                f"(budget.mode = {md_escape(settings.budget.mode)}).")
    st.caption(md_escape(choice.reason))
    st.subheader("Search and budgets")
    st.json({"search": settings.search.model_dump(exclude={"tavily_key_env", "brave_key_env"}),
             "budget": settings.budget.model_dump(), "fetch": settings.fetch.model_dump()}, expanded=False)
    st.subheader("API keys")
    st.caption("Keys come from the environment only; this page never shows or stores them.")
    st.dataframe(pd.DataFrame(key_rows(settings)), hide_index=True, width="stretch")
    if app is not None:
        st.subheader("Tools")
        try:
            st.dataframe(pd.DataFrame(tool_rows(app)), hide_index=True, width="stretch")
        except (PluginError, OSError) as err:
            st.warning(f"The tools could not be listed: {md_escape(err)}")
    st.subheader("Plugins")
    load = settings.plugins.load
    st.caption(f"Loaded: {load if isinstance(load, str) else ', '.join(load)}")
    plugins = plugin_rows()
    if plugins:
        st.dataframe(pd.DataFrame(plugins), hide_index=True, width="stretch")
    else:
        st.text("No tool plugins installed.")
    st.subheader("MCP servers")
    servers = mcp_rows(settings)
    if servers:
        st.dataframe(pd.DataFrame(servers), hide_index=True, width="stretch")
    else:
        st.text("No MCP servers configured.")
