"""The "New research" page: a question, the main options and a start button.

Guarantees: defaults come from the same ``Settings`` as the CLI (the depth, breadth and page inputs show
the values of the mode the settings give, ``agents.run.modes``, and are sent only when changed, so a
mode picked here sets them); starting hands a ``RunRequest`` to
the background registry and returns at once (the run never executes in the page's script); a bad
option (empty question, missing corpus folder) shows one sentence and starts nothing.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from agents.run.modes import MODES, limits_for
from ui.web.st_common import Ctx, go, view_run
from ui.web.worker import RunRequest

KNOWN_BACKENDS = ("duckduckgo", "searxng", "tavily", "brave", "local")


def backend_options(ctx: Ctx) -> list[str]:
    """The search backends to offer: the configured order first, then the other known ones."""
    configured = list(ctx.settings.search.backends)
    return configured + [b for b in KNOWN_BACKENDS if b not in configured]


def build_request(
    question: str,
    *,
    depth: int,
    breadth: int,
    max_pages: int,
    search: list[str],
    corpus: str,
    model: str,
    review: bool,
    default_model: str,
    mode: str | None = None,
    shown: dict[str, int] | None = None,
) -> RunRequest:
    """The run request from the form's values; raises ``ValueError`` with one sentence when invalid.

    ``shown`` holds the depth, breadth and pages the form showed: a value left as shown is the mode's.
    """
    if not question.strip():
        raise ValueError("Type a question before starting a run.")
    if not search and not corpus.strip():
        raise ValueError("Pick at least one search backend or a local corpus folder.")
    folder = corpus.strip()
    if folder and not Path(folder).expanduser().is_dir():
        raise ValueError(f"The corpus folder {folder} does not exist; fix the path or leave it empty.")
    shown = shown or {}
    changed = {k: v for k, v in {"breadth": breadth, "depth": depth, "max_pages": max_pages}.items()
               if shown.get(k) != v}
    return RunRequest(
        question=question.strip(),
        breadth=changed.get("breadth"),
        depth=changed.get("depth"),
        max_pages=changed.get("max_pages"),
        mode=mode if mode in MODES else None,
        search=tuple(search),
        corpus=str(Path(folder).expanduser()) if folder else None,
        model=model.strip() if model.strip() and model.strip() != default_model else None,
        review=review,
    )


def render(ctx: Ctx) -> None:
    """Draw the page; on submit start the run and switch to the progress page."""
    st.title("New research")
    limits = limits_for(ctx.settings)
    shown = {"depth": limits.depth, "breadth": limits.breadth, "max_pages": max(1, limits.max_pages)}
    with st.form("new_research"):
        question = st.text_area("Question", key="question", placeholder="What do you want to know?")
        modes = [f"{limits.mode} (settings)", *(m for m in MODES if m != limits.mode)]
        mode = st.selectbox("Mode", modes, key="mode", help="quick: one round, one drafting call, no model judge; "
                            f"deep: more rounds and pages. Settings give {limits.mode}: {limits.mode_reason}")
        c1, c2, c3 = st.columns(3)
        depth = c1.number_input("Depth (reflection rounds)", 0, 10, shown["depth"], key="depth")
        breadth = c2.number_input("Breadth (sub-questions per round)", 1, 32, shown["breadth"], key="breadth")
        max_pages = c3.number_input("Page budget", 1, 10_000, shown["max_pages"], key="max_pages")
        search = st.multiselect(
            "Search backends (tried in this order)", backend_options(ctx),
            default=list(ctx.settings.search.backends), key="search",
        )
        corpus = st.text_input("Local corpus folder (optional)", key="corpus")
        model = st.text_input("Model", value=ctx.settings.llm.model, key="model",
                              help="A GGUF path or Hugging Face reference (llama), or the served model name.")
        review = st.checkbox("Review the plan before searching", value=True, key="review")
        submitted = st.form_submit_button("Start research", type="primary")
    if not submitted:
        return
    try:
        request = build_request(
            question, depth=int(depth), breadth=int(breadth), max_pages=int(max_pages), search=search,
            corpus=corpus, model=model, review=review, default_model=ctx.settings.llm.model,
            mode=str(mode).split(" ")[0] if mode != modes[0] else None, shown=shown,
        )
        handle = ctx.registry.start(request, ctx.owner)
    except ValueError as err:
        st.error(str(err))
        return
    view_run(handle.run_id)
    go("progress")
