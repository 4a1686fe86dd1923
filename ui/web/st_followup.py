"""Follow-up questions under the report: the exchanges asked so far, and a box to ask another.

Guarantees: a question goes through ``ui.followup.ask_followup`` (the same path as ``quarry ask``,
the Python API and MCP): memory first, a short research round only when memory does not hold the
answer; bad input shows the CLI's one sentence and writes nothing; every question, answer, sentence
and source title shown is Markdown-escaped and links are http(s) only (``ui.safe``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from agents.errors import AgentError
from memory.errors import MemoryStoreError
from tools.errors import ToolError
from ui.errors import UIError
from ui.followup import Followup, ask_followup, load_followups
from ui.safe import md_escape, md_link

USER_ERRORS: tuple[type[Exception], ...] = (UIError, AgentError, ToolError, MemoryStoreError)
ORIGIN = {"memory": "from the run's memory", "research": "from a short research round", "none": "not found"}


def exchange_markdown(exchange: Followup) -> str:
    """One exchange as safe Markdown: the answer in bold, cited sentences with linked markers, the sources."""
    refs = {int(r["n"]): r for r in exchange.references}
    first = exchange.sentences[0]["text"] if exchange.sentences else ""
    lines = [f"**{md_escape(exchange.answer)}**", ""] if exchange.answer != first else []
    for sentence in exchange.sentences:
        markers = "".join(md_link(f"[{n}]", refs[n]["url"], title=str(refs[n]["title"]))
                          for n in sentence.get("refs", []) if n in refs)
        lines.append(f"- {md_escape(sentence['text'])} {markers}".rstrip())
    if refs:
        lines += ["", "Sources: " + " · ".join(f"[{n}] " + md_link(str(r["title"]) or str(r["url"]), r["url"])
                                               for n, r in refs.items())]
    where = ORIGIN.get(exchange.origin, exchange.origin)
    if exchange.origin == "research" and exchange.research_run:
        where += f" (run {exchange.research_run})"
    return "\n".join([*lines, "", f"*{md_escape(where)}*"])


def render_followups(app: Any, runs_dir: Path, run_id: str) -> None:
    """The follow-ups asked about ``run_id`` and the question box (needs the app to answer)."""
    st.header("Follow-up questions")
    for i, exchange in enumerate(load_followups(runs_dir / run_id)):
        with st.container(border=True, key=f"followup_{i}"):
            st.markdown(f"**Q:** {md_escape(exchange.question)}")
            st.markdown(exchange_markdown(exchange))
    if app is None:
        st.caption("Follow-up questions need the research app; start the UI with `quarry ui`.")
        return
    with st.form("followup_form", clear_on_submit=True):
        question = st.text_input("Ask a follow-up question", placeholder="e.g. and when was it first reported?")
        asked = st.form_submit_button("Ask")
    if not asked:
        return
    with st.spinner("Answering from the run's memory (a short research round if memory does not hold it)…"):
        try:
            ask_followup(app, run_id, question)
        except USER_ERRORS as err:
            st.error(md_escape(str(err)))
            return
    st.rerun()
