"""Quarry's browser UI (``python app.py ui``): the Streamlit entry point.

Guarantees: the app is built once per server process through ``app.build_app()`` (the same settings
as the CLI) and shared, with one ``RunRegistry`` of background runs, by every browser session
(``st.cache_resource``); each session views only its own run unless it opens one from History;
nothing from a fetched page or a model is rendered with ``unsafe_allow_html``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `streamlit run ui/web/streamlit_app.py` puts ui/web/ on the path, not the root
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from ui.web.st_common import Ctx, owner_id  # noqa: E402
from ui.web.st_nav import run_pages  # noqa: E402
from ui.web.worker import RunRegistry  # noqa: E402


@st.cache_resource(show_spinner=False)
def shared() -> tuple[Any, RunRegistry]:
    """The app and the run registry, built once per server process and shared by all sessions."""
    from app import build_app
    from ui.web.research import AppResearch

    app = build_app()
    return app, RunRegistry(AppResearch(app))


app, registry = shared()
run_pages(Ctx(settings=app.settings, registry=registry, owner=owner_id(), app=app))
