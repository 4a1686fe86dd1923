"""A Streamlit script serving Quarry's real pages on a scripted research backend (browser tests).

The pages, navigation, worker and registry are the product's; only the research backend is the
test seam (``tests.ui_support.StepBackend``, which writes a real run folder with hostile content).
Settings come from the environment (``QUARRY_HOME``) exactly as the product reads them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from agents.settings import Settings, load_settings  # noqa: E402
from tests.ui_support import StepBackend  # noqa: E402
from ui.st_common import Ctx, owner_id  # noqa: E402
from ui.st_nav import run_pages  # noqa: E402
from ui.worker import RunRegistry  # noqa: E402


@st.cache_resource(show_spinner=False)
def shared() -> tuple[Settings, RunRegistry]:
    """Settings and one registry for every browser session of this server."""
    settings = load_settings()
    delay = float(os.environ.get("QUARRY_TEST_STEP_DELAY", "0.2"))
    return settings, RunRegistry(StepBackend(settings.runs_dir, delay=delay))


settings, registry = shared()
run_pages(Ctx(settings=settings, registry=registry, owner=owner_id()))
