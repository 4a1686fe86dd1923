"""What every browser page shares: the page context and which run this browser session is viewing.

Guarantees: one ``Ctx`` per page render holds the settings, the process-wide ``RunRegistry`` and
this browser session's owner id; a session sees only the run it started or opened from History
(``st.session_state["run_id"]``, mirrored to the ``?run=`` query parameter so a reload or a second
tab re-attaches). Nothing here renders fetched or model text.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from agents.report import Report
from agents.settings import Settings
from ui import run_files
from ui.web.worker import RunHandle, RunRegistry


@dataclass
class Ctx:
    """The page context: settings, the run registry, this session's owner id and (optional) app."""

    settings: Settings
    registry: RunRegistry
    owner: str
    app: Any = None

    @property
    def runs_dir(self) -> Path:
        """Where run folders live."""
        return self.settings.runs_dir


def owner_id() -> str:
    """This browser session's id (created on its first page view)."""
    if "owner" not in st.session_state:
        st.session_state["owner"] = uuid.uuid4().hex
    return str(st.session_state["owner"])


def current_run_id() -> str | None:
    """The run this session is viewing, if any."""
    value = st.session_state.get("run_id")
    return str(value) if value else None


def view_run(run_id: str | None) -> None:
    """Make ``run_id`` the run this session views (and put it in the URL for reloads)."""
    if run_id:
        st.session_state["run_id"] = run_id
        st.query_params["run"] = run_id
    else:
        st.session_state.pop("run_id", None)
        if "run" in st.query_params:
            del st.query_params["run"]


def attach_from_url(ctx: Ctx) -> None:
    """On a reload or a second tab, re-attach to the run named in ``?run=``; keep the URL in step."""
    wanted = st.query_params.get("run")
    if wanted and not current_run_id():
        try:
            known = ctx.registry.get(wanted) is not None or run_files.run_dir(ctx.runs_dir, wanted).is_dir()
        except ValueError:
            known = False
        if known:
            st.session_state["run_id"] = wanted
    run_id = current_run_id()
    if run_id and st.query_params.get("run") != run_id:
        st.query_params["run"] = run_id


def current_handle(ctx: Ctx) -> RunHandle | None:
    """The live run this session views, when this process runs or ran it."""
    run_id = current_run_id()
    return ctx.registry.get(run_id) if run_id else None


def current_report(ctx: Ctx) -> Report | None:
    """The report of the viewed run: from the live run, else from its folder on disk."""
    run_id = current_run_id()
    if not run_id:
        return None
    handle = ctx.registry.get(run_id)
    if handle is not None and handle.report is not None:
        return handle.report
    try:
        return run_files.load_report(ctx.runs_dir, run_id)
    except ValueError:
        return None


def no_run_message() -> None:
    """What a page says when this session views no run yet."""
    st.info("No run selected. Start one on **New research** or open a past run from **History**.")


def go(page: str) -> None:
    """Switch to another page by name (registered by ``streamlit_app``), else just rerun."""
    pages = st.session_state.get("_pages") or {}
    if page in pages:
        st.switch_page(pages[page])
    st.rerun()
