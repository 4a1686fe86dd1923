"""The history page: past runs from the data directory, to open, resume or delete.

Guarantees: lists every run folder (newest first) plus this session's live runs; "Open" makes the
run the one this session views (its report, sources and graph); "Resume" continues an unfinished
run in the background from its checkpoint; "Delete" removes the run folder after a confirmation
(memory keeps what it learned). Statuses are live (``ui.run_files.run_state``): a run whose process
was killed shows "interrupted" with one sentence saying so and how to resume it; a run that another
process is executing shows "running" and, like this session's running runs, cannot be resumed or
deleted from here.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from ui import run_files
from ui.safe import md_escape, shorten
from ui.web.st_common import Ctx, go, view_run
from ui.web.worker import RunHandle


def rows(ctx: Ctx) -> list[dict[str, str]]:
    """Past runs on disk and this session's live runs, one row each, newest first."""
    out: dict[str, dict[str, str]] = {}
    for handle in ctx.registry.runs_for(ctx.owner):
        out[handle.run_id] = {"run": handle.run_id, "question": handle.question, "status": handle.status,
                              "date": "", "note": ""}
    for run in run_files.list_runs(ctx.runs_dir):
        live = ctx.registry.get(run.run_id)
        active = live is not None and live.active
        out[run.run_id] = {"run": run.run_id, "question": run.question or out.get(run.run_id, {}).get("question", ""),
                           "status": live.status if live is not None and active else run.status,
                           "date": run.created, "note": "" if active else run.note}
    return sorted(out.values(), key=lambda r: (r["date"], r["run"]), reverse=True)


def _adopt(ctx: Ctx, run_id: str, row: dict[str, Any]) -> RunHandle:
    events = run_files.load_events(ctx.runs_dir, run_id)
    return ctx.registry.adopt(run_id, ctx.owner, question=row["question"], events=events,
                              plan=run_files.paused_plan(events), report=run_files.load_report(ctx.runs_dir, run_id),
                              recorded=row["status"], note=row["note"])


def render(ctx: Ctx) -> None:
    """Draw the runs table and the open / resume / delete actions for the chosen run."""
    st.title("History")
    table = rows(ctx)
    if not table:
        st.info("No runs yet.")
        return
    st.dataframe(pd.DataFrame([{k: v for k, v in r.items() if k != "note"} for r in table]), hide_index=True,
                 width="stretch")
    labels = {r["run"]: f"{r['run']} — {shorten(r['question'], 70)} ({r['status']})" for r in table}
    chosen = st.selectbox("Run", list(labels), format_func=lambda r: labels[r], key="hist_run")
    if chosen is None:
        return
    handle = ctx.registry.get(chosen)
    row = next(r for r in table if r["run"] == chosen)
    here = handle is not None and handle.active
    running = here or row["status"] == "running"  # here, or a live process elsewhere holds the run
    if row["note"]:
        (st.warning if row["status"] == "interrupted" else st.info)(md_escape(row["note"]))
    c1, c2, c3 = st.columns(3)
    if c1.button("Open", key="hist_open", type="primary"):
        view_run(chosen)
        report = run_files.load_report(ctx.runs_dir, chosen)
        if report is None and not here:
            _adopt(ctx, chosen, row)
        go("report" if report is not None or (handle and handle.report) else "progress")
    if c2.button("Resume", key="hist_resume", disabled=running or row["status"] == "complete"):
        adopted = _adopt(ctx, chosen, row)
        if adopted.status != "review":  # paused for review: the progress page shows the plan editor
            ctx.registry.resume(chosen, ctx.owner, question=row["question"])
        view_run(chosen)
        go("progress")
    confirm = c3.checkbox("Confirm delete", key="hist_confirm", disabled=running)
    if c3.button("Delete", key="hist_delete", disabled=running or not confirm):
        run_files.delete_run(ctx.runs_dir, chosen, ctx.settings.checkpoints_path)
        ctx.registry.forget(chosen)
        if st.session_state.get("run_id") == chosen:
            view_run(None)
        st.session_state.pop("hist_confirm", None)
        st.rerun()
