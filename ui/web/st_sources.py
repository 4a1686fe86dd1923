"""The sources page: every source the run read, filterable by text and by whether it was cited.

Guarantees: the table shows plain text (titles, domains, fetched times, sections, citation counts)
and links only for http(s) URLs; nothing from a page is rendered as HTML or loaded as an image.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import run_files
from ui.web.st_common import Ctx, current_report, current_run_id, no_run_message
from ui.web.views import filter_rows, source_rows

COLUMNS = ["ref", "title", "domain", "status", "fetched", "sections", "citations", "url"]


def render(ctx: Ctx) -> None:
    """Draw the filterable sources table of the viewed run."""
    st.title("Sources")
    run_id = current_run_id()
    if not run_id:
        no_run_message()
        return
    report = current_report(ctx)
    try:
        sources = run_files.load_sources(ctx.runs_dir, run_id)
    except ValueError:
        sources = []
    rows = source_rows(report, sources)
    if not rows:
        st.info("No sources yet: they appear once the run has read pages.")
        return
    c1, c2 = st.columns([3, 1])
    needle = c1.text_input("Filter (title, domain, URL or section)", key="src_filter")
    cited_only = c2.checkbox("Cited only", key="src_cited")
    shown = filter_rows(rows, needle, cited_only)
    st.caption(f"{len(shown)} of {len(rows)} sources")
    st.dataframe(
        pd.DataFrame(shown, columns=COLUMNS),
        hide_index=True,
        width="stretch",
        column_config={
            "ref": st.column_config.NumberColumn("#", format="%d"),
            "url": st.column_config.LinkColumn("link"),
            "citations": st.column_config.NumberColumn("citations", format="%d"),
        },
    )
