"""The live-progress page: phases, sub-questions, pages, tokens, budget and elapsed time.

Guarantees: while the run works, a fragment re-runs every second and only *reads* the run's event
log (the worker thread owns the run), so leaving the page or reloading never stops it; when the
run pauses for review or finishes, the whole page re-runs once to show the review form or the
links to the report. Event text is shown with ``st.text``/escaped Markdown, never as HTML.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
import streamlit as st

from ui.progress import clock
from ui.safe import md_escape
from ui.web import st_review
from ui.web.live import LiveView, fold
from ui.web.st_common import Ctx, current_handle, current_run_id, go, no_run_message
from ui.web.worker import RunHandle

LIVE = ("starting", "running")
STATUS_TEXT = {
    "starting": "Starting…",
    "running": "Running",
    "review": "Waiting for your plan review",
    "complete": "Finished",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "interrupted": "Interrupted",
    "elsewhere": "Running in another process",
}


def render(ctx: Ctx) -> None:
    """Draw the page for the run this session views."""
    st.title("Progress")
    handle = current_handle(ctx)
    if handle is None:
        if current_run_id():
            st.info("This run is not running in this server; open its report, or resume it from History.")
        else:
            no_run_message()
        return
    st.markdown(f"**Question:** {md_escape(handle.question)}")
    st.caption(f"Run {handle.run_id}")
    if handle.status in LIVE:
        if st.button("Stop this run", key="stop_run"):
            ctx.registry.cancel(handle.run_id)
        _live(ctx, handle.run_id)
    else:
        draw(handle, fold(handle.events()))
        _after(ctx, handle)


@st.fragment(run_every=1.0)
def _live(ctx: Ctx, run_id: str) -> None:
    handle = ctx.registry.get(run_id)
    if handle is None:
        return
    draw(handle, fold(handle.events()))
    if handle.status not in LIVE:
        st.rerun(scope="app")


def _after(ctx: Ctx, handle: RunHandle) -> None:
    if handle.status == "review":
        st_review.render(ctx, handle)
    elif handle.status == "complete":
        st.success("The report is ready.")
        if st.button("Open the report", type="primary", key="open_report"):
            go("report")
    elif handle.status == "failed":
        st.error(f"The run failed: {handle.error or 'unknown error.'} Resume it from History.")
    elif handle.status == "cancelled":
        st.warning("The run was cancelled; you can resume it from History.")
    elif handle.status == "interrupted":
        st.warning(md_escape(handle.error or "The run stopped before it finished; resume it from History."))
    elif handle.status == "elsewhere":
        st.info(md_escape(handle.error or "Another process is executing this run.") + " Open it again later.")


def draw(handle: RunHandle, view: LiveView) -> None:
    """Status line, the numbers, a status block per phase and the sub-questions table."""
    st.markdown(f"**Status:** {STATUS_TEXT.get(handle.status, handle.status)} · **Phase:** {view.phase_label}")
    state = view.state
    budget = state.budget
    cols = st.columns(4)
    cols[0].metric("Pages fetched", state.pages_fetched)
    cols[1].metric("Tokens", f"{state.tokens:,}")
    cols[2].metric("Pages left", budget.get("pages_left", "—"))
    cols[3].metric("Elapsed", clock(handle.elapsed_s()))
    if budget:
        st.caption(
            f"Budget left: {budget.get('tokens_left', '—')} tokens, "
            f"{budget.get('seconds_left', '—')} s, {budget.get('rounds_left', '—')} reflection rounds"
        )
    for i, phase in enumerate(view.phases):
        last = i == len(view.phases) - 1
        current = last and handle.status in LIVE
        shown: Literal["running", "complete", "error"] = (
            "running" if current else ("error" if handle.status == "failed" and last else "complete")
        )
        with st.status(phase.label, state=shown, expanded=current):
            st.text("\n".join(phase.lines[-40:]) or "…")
    if state.subs:
        st.subheader("Sub-questions")
        rows = [{"sub-question": s.question, "state": s.state, "pages": s.pages, "findings": s.findings}
                for s in state.subs.values()]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        for sub in state.subs.values():
            lines = view.sub_lines.get(sub.id)
            if lines:
                with st.expander(f"Details: {md_escape(sub.question[:80])}"):
                    st.text("\n".join(lines[-30:]))
    if view.pages:
        with st.expander(f"Pages ({len(view.pages)})"):
            st.text("\n".join(f"{p.get('status', '')} {p.get('url', '')}" for p in view.pages[-100:]))
