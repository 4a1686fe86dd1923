"""The browser UI's pages and navigation, for one page context (used by ``streamlit_app``).

Guarantees: every page is registered once under a stable URL path (``/new``, ``/progress``,
``/report``, ``/sources``, ``/graph``, ``/history``, ``/settings``); the session re-attaches to the
run named in ``?run=`` before the chosen page runs.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.web import st_graph, st_history, st_new, st_progress, st_report, st_settings, st_sources
from ui.web.st_common import Ctx, attach_from_url


def run_pages(ctx: Ctx) -> None:
    """Set up the page, re-attach to the URL's run and run the page the user chose."""
    st.set_page_config(page_title="Quarry", page_icon="🔎", layout="wide")
    attach_from_url(ctx)
    pages: dict[str, Any] = {
        "new": st.Page(lambda: st_new.render(ctx), title="New research", url_path="new", default=True),
        "progress": st.Page(lambda: st_progress.render(ctx), title="Progress", url_path="progress"),
        "report": st.Page(lambda: st_report.render(ctx), title="Report", url_path="report"),
        "sources": st.Page(lambda: st_sources.render(ctx), title="Sources", url_path="sources"),
        "graph": st.Page(lambda: st_graph.render(ctx), title="Knowledge graph", url_path="graph"),
        "history": st.Page(lambda: st_history.render(ctx), title="History", url_path="history"),
        "settings": st.Page(lambda: st_settings.render(ctx.settings, ctx.app), title="Settings", url_path="settings"),
    }
    st.session_state["_pages"] = pages
    st.navigation(list(pages.values())).run()
