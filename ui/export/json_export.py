"""Render a report as JSON: the ``Report`` model exactly (sections, sentences, citations with chunk
ids and quoted passages, references, verification summary), so ``Report.model_validate_json`` reads
it back unchanged."""

from __future__ import annotations

from agents.report import Report
from ui.export.common import RunBundle


def render_report(report: Report) -> str:
    """The report as indented JSON text."""
    return report.model_dump_json(indent=2) + "\n"


def render(bundle: RunBundle) -> str:
    """The bundle's report as JSON text."""
    return render_report(bundle.report)
