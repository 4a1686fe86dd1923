"""Plan review: edit the planner's sections and sub-questions, then approve or cancel.

Guarantees: the editor starts from the plan the run paused with; sections are edited as lines
(add, change, remove), sub-questions one by one (edit, add, remove); "Approve" resumes the run with
exactly the edited plan (``plan_from_edits``), "Cancel" stops it, leaving it resumable from History.
"""

from __future__ import annotations

import uuid
from typing import Any

import streamlit as st

from ui.web.st_common import Ctx
from ui.web.worker import RunHandle


def plan_from_edits(
    brief: str, sections_text: str, subs: list[dict[str, Any]], original: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The plan to resume with: non-empty sections in order, non-empty kept sub-questions."""
    outline = [line.strip() for line in sections_text.splitlines() if line.strip()]
    kept = []
    for sub in subs:
        question = " ".join(str(sub.get("question", "")).split())
        if sub.get("remove") or not question:
            continue
        queries = [q.strip() for q in str(sub.get("queries", "")).split(";") if q.strip()] or [question]
        section = str(sub.get("section", "")).strip()
        kept.append({
            "id": str(sub.get("id") or uuid.uuid4().hex[:8]),
            "question": question,
            "queries": queries,
            "section": section if section in outline else "",
            "round": int(sub.get("round", 0) or 0),
        })
    plan = dict(original or {})
    plan.update({"brief": brief.strip(), "outline": outline, "subquestions": kept})
    return plan


def _editor_state(handle: RunHandle) -> dict[str, Any]:
    key = f"review:{handle.run_id}"
    if key not in st.session_state:
        plan = handle.plan or {}
        st.session_state[key] = {
            "subs": [
                {"id": str(s.get("id", "")), "question": str(s.get("question", "")),
                 "queries": "; ".join(str(q) for q in s.get("queries", [])),
                 "section": str(s.get("section", "")), "round": s.get("round", 0)}
                for s in plan.get("subquestions", []) if isinstance(s, dict)
            ],
        }
    return dict(st.session_state[key])


def _edit_subs(rid: str, subs: list[dict[str, Any]], outline: list[str]) -> list[dict[str, Any]]:
    edited = []
    for i, sub in enumerate(subs):
        sid = sub["id"]
        with st.container(border=True):
            st.markdown(f"**Sub-question {i + 1}**")
            question = st.text_input("Question", value=sub["question"], key=f"rv_q_{rid}_{sid}")
            queries = st.text_input("Search queries (separated by ;)", value=sub["queries"], key=f"rv_k_{rid}_{sid}")
            options = ["", *outline]
            current = sub["section"] if sub["section"] in options else ""
            section = st.selectbox("Section", options, index=options.index(current), key=f"rv_s_{rid}_{sid}",
                                   format_func=lambda s: s or "(general)")
            remove = st.checkbox("Remove this sub-question", key=f"rv_x_{rid}_{sid}")
        edited.append({"id": sid, "question": question, "queries": queries, "section": section,
                       "remove": remove, "round": sub.get("round", 0)})
    return edited


def render(ctx: Ctx, handle: RunHandle) -> None:
    """Draw the editable plan with approve and cancel."""
    st.header("Review the plan")
    st.caption("Edit the sections and sub-questions, then approve to start searching.")
    plan = handle.plan or {}
    state = _editor_state(handle)
    rid = handle.run_id
    brief = st.text_area("Research brief", value=str(plan.get("brief", "")), key=f"rv_brief_{rid}")
    sections_text = st.text_area(
        "Sections (one per line: edit, add or remove lines)",
        value="\n".join(str(s) for s in plan.get("outline", [])), key=f"rv_outline_{rid}", height=150,
    )
    outline = [line.strip() for line in sections_text.splitlines() if line.strip()]
    edited = _edit_subs(rid, state["subs"], outline)
    if st.button("Add a sub-question", key=f"rv_add_{rid}"):
        subs = list(state["subs"])
        subs.append({"id": uuid.uuid4().hex[:8], "question": "", "queries": "", "section": "", "round": 0})
        st.session_state[f"review:{rid}"] = {"subs": subs}
        st.rerun()
    approve_col, cancel_col = st.columns(2)
    if approve_col.button("Approve plan and continue", type="primary", key=f"rv_ok_{rid}"):
        new_plan = plan_from_edits(brief, sections_text, edited, plan)
        if not new_plan["subquestions"]:
            st.error("Keep at least one sub-question, or cancel the run.")
            return
        try:
            ctx.registry.approve(rid, new_plan)
        except ValueError as err:  # another tab approved or cancelled it first
            st.error(str(err))
            return
        st.rerun()
    if cancel_col.button("Cancel the run", key=f"rv_cancel_{rid}"):
        ctx.registry.cancel(rid)
        st.rerun()
