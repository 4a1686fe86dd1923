"""The report page: the cited report, each citation's passage on click or hover, downloads.

Guarantees: every sentence, title and passage is Markdown-escaped (``ui.web.views``/``ui.safe``), so a
page or a model cannot inject HTML, images or links; citation markers link only to http(s) sources
and carry the passage as their hover title; each section's citations open, on click, a popover with
the quoted passage and its source; follow-up questions are asked and listed under the report
(``ui.web.st_followup``); downloads come from ``ui.export`` (Markdown, HTML, PDF, JSON).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from agents.report import Report, Section
from ui import run_files
from ui.safe import md_escape, md_link, shorten
from ui.web.st_common import Ctx, current_report, current_run_id, no_run_message
from ui.web.st_followup import render_followups
from ui.web.views import CitedPassage, reference_lines, section_citations, section_markdown

MIME = {"md": "text/markdown", "html": "text/html", "pdf": "application/pdf", "json": "application/json"}
STATUS_NOTE = {
    "budget_exhausted": "A budget ran out: the report uses what was read.",
    "nothing_found": "Nothing relevant was found; the report cites nothing.",
    "failed": "The run failed before the report was finished.",
}


def render(ctx: Ctx) -> None:
    """Draw the report of the run this session views."""
    report = current_report(ctx)
    if report is None:
        if current_run_id():
            st.title("Report")
            st.info("The report is not ready yet; follow the run on the Progress page.")
        else:
            st.title("Report")
            no_run_message()
        return
    draw_report(report)
    run_id = current_run_id()
    if run_id and report.status != "running":  # a finished report: ask follow-up questions under it
        st.divider()
        render_followups(ctx.app, ctx.runs_dir, run_id)
    st.divider()
    downloads(ctx.runs_dir, report.run_id)


def draw_report(report: Report) -> None:
    """Title, notes, summary, sections with citations, verification summary and references."""
    st.title(md_escape(report.title or report.question))
    st.caption(f"Question: {md_escape(report.question)} · run {md_escape(report.run_id)}")
    if report.status in STATUS_NOTE:
        st.warning(STATUS_NOTE[report.status])
    for note in report.notes:
        st.info(md_escape(note))
    if report.summary:
        st.markdown(md_escape(report.summary))
    if report.answer.sentences:
        st.header("Answer")
        if report.answer.text and report.answer.text != report.answer.sentences[0].text:
            st.markdown(f"**{md_escape(report.answer.text)}**")
        answer = Section(title="Answer", sentences=report.answer.sentences)
        st.markdown(section_markdown(answer, report))
        passages = section_citations(answer, report)
        if passages:
            _citation_popovers(passages, key="answer")
    for i, section in enumerate(report.sections):
        st.header(md_escape(section.title))
        st.markdown(section_markdown(section, report))
        passages = section_citations(section, report)
        if passages:
            _citation_popovers(passages, key=f"sec{i}")
    if report.contradictions:
        st.subheader("Contradictions between sources")
        for c in report.contradictions:
            objects = " vs ".join(md_escape(o) for o in c.objects)
            st.markdown(f"- {md_escape(c.subject)} — {md_escape(c.relation)}: {objects}")
    _verification(report)
    if report.references:
        st.subheader("References")
        st.markdown("\n\n".join(reference_lines(report)))


def _citation_popovers(passages: list[CitedPassage], key: str) -> None:
    by_ref: dict[int, list[CitedPassage]] = {}
    for passage in passages:
        by_ref.setdefault(passage.ref, []).append(passage)
    cols = st.columns(min(len(by_ref), 6))
    for j, (ref, items) in enumerate(by_ref.items()):
        label = f"[{ref}] {shorten(items[0].title, 40)}"
        with cols[j % len(cols)].popover(md_escape(label), key=f"cite_{key}_{ref}"):
            st.markdown(f"**Source {ref}:** {md_link(items[0].title or items[0].location, items[0].url)}")
            if items[0].url is None and items[0].location:
                st.caption(md_escape(items[0].location))
            for item in items:
                st.markdown("> " + md_escape(item.quote))


def _verification(report: Report) -> None:
    v = report.verification
    st.subheader("Verification")
    cols = st.columns(4)
    cols[0].metric("Claims checked", v.checked)
    cols[1].metric("Supported", v.supported)
    cols[2].metric("Changed", v.changed)
    cols[3].metric("Removed", v.removed)


def export_builders(run_dir: Path) -> dict[str, Callable[[], bytes]]:
    """One function per export format producing that file's bytes (run lazily, on click)."""
    from ui import export as exports
    from ui.export import html, json_export, markdown

    def bundle() -> exports.RunBundle:
        return exports.load_bundle(run_dir)

    def pdf() -> bytes:
        with tempfile.TemporaryDirectory(prefix="quarry-pdf-") as tmp:
            path = exports.export(bundle(), Path(tmp), ["pdf"])["pdf"]
            return path.read_bytes()

    return {
        "md": lambda: markdown.render(bundle()).encode("utf-8"),
        "html": lambda: html.render(bundle()).encode("utf-8"),
        "pdf": pdf,
        "json": lambda: json_export.render(bundle()).encode("utf-8"),
    }


def downloads(runs_dir: Path, run_id: str) -> None:
    """A download button for every export format of a published run."""
    try:
        folder = run_files.run_dir(runs_dir, run_id)
    except ValueError:
        return
    if not (folder / "report.json").is_file():
        st.caption("Downloads appear once the run folder is published.")
        return
    st.subheader("Download")
    builders = export_builders(folder)
    cols = st.columns(len(builders))
    for col, (fmt, build) in zip(cols, builders.items(), strict=True):
        col.download_button(
            f"Download {fmt.upper()}", data=build, file_name=f"report-{run_id}.{fmt}", mime=MIME[fmt],
            key=f"dl_{fmt}", on_click="ignore",
        )
