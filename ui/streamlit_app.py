"""Quarry's browser UI (``python app.py ui``): the Streamlit entry point and page navigation.

Guarantees: the app is built once per server process through ``app.build_app()`` (the same settings
as the CLI) and shared, with one ``RunRegistry`` of background runs, by every browser session
(``st.cache_resource``); each session views only its own run unless it opens one from History;
nothing from a fetched page or a model is rendered with ``unsafe_allow_html``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run ui/streamlit_app.py` puts ui/ on the path, not the root
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from ui import (  # noqa: E402
    st_graph,
    st_history,
    st_new,
    st_progress,
    st_report,
    st_settings,
    st_sources,
)
from ui.st_common import Ctx, attach_from_url, owner_id  # noqa: E402
from ui.worker import RunRegistry  # noqa: E402


@st.cache_resource(show_spinner=False)
def shared() -> tuple[Any, RunRegistry]:
    """The app and the run registry, built once per server process and shared by all sessions."""
    from app import build_app
    from ui.research import AppResearch

    app = build_app()
    return app, RunRegistry(AppResearch(app))


def main() -> None:
    """Build the page context, re-attach to the run in the URL, and run the chosen page."""
    st.set_page_config(page_title="Quarry", page_icon="🔎", layout="wide")
    app, registry = shared()
    ctx = Ctx(settings=app.settings, registry=registry, owner=owner_id(), app=app)
    attach_from_url(ctx)
    pages = {
        "new": st.Page(lambda: st_new.render(ctx), title="New research", url_path="new", default=True),
        "progress": st.Page(lambda: st_progress.render(ctx), title="Progress", url_path="progress"),
        "report": st.Page(lambda: st_report.render(ctx), title="Report", url_path="report"),
        "sources": st.Page(lambda: st_sources.render(ctx), title="Sources", url_path="sources"),
        "graph": st.Page(lambda: st_graph.render(ctx), title="Knowledge graph", url_path="graph"),
        "history": st.Page(lambda: st_history.render(ctx), title="History", url_path="history"),
        "settings": st.Page(lambda: st_settings.render(ctx.settings), title="Settings", url_path="settings"),
    }
    st.session_state["_pages"] = pages
    st.navigation(list(pages.values())).run()


main()
