"""The Python API: research a question from a script and get the report back as an object.

    from app import research
    result = research("How do heat pumps perform in cold climates?", max_pages=20,
                      formats=("md", "html"), on_event=print)
    print(result.markdown); print(result.references[0].url); print(result.manifest["tokens"])

``research_with(factory, question, ...)`` does the work: it builds the app (or uses the one given),
runs through the same ``ui.runner.execute`` as the CLI (same run folder, exports and manifest),
and returns a ``ResearchResult``. A failed run raises ``agents.errors.RunError`` (its ``run_id``
names the run to resume); bad options raise ``ui.errors.BadInputError``; Ctrl-C propagates as
``KeyboardInterrupt`` after the run stopped at its last checkpoint (resume it with ``resume=ID``).

``ask_with(factory, run_id, question, ...)`` answers a follow-up question on a finished run through
``ui.followup.ask_followup`` (the same path as ``quarry ask``, MCP and the browser) and returns the
``ui.followup.Followup`` it appended to the run's ``followups.jsonl``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.errors import RunError
from agents.report import Reference, Report, Section
from agents.run.modes import limits_for
from ui.export import DEFAULT_FORMATS, parse_formats
from ui.export.markdown import render_report
from ui.followup import Followup, ask_followup
from ui.runner import Budget, ResearchOutcome, ResearchRequest, execute

Event = dict[str, Any]


@dataclass
class ResearchResult:
    """A finished run: its report, files and manifest."""

    run_id: str
    status: str
    report: Report
    folder: Path
    files: dict[str, Path] = field(default_factory=dict)
    exit_code: int = 0

    @property
    def markdown(self) -> str:
        """The report as Markdown."""
        return render_report(self.report)

    @property
    def sections(self) -> list[Section]:
        """The report's sections (sentences with their citations)."""
        return self.report.sections

    @property
    def references(self) -> list[Reference]:
        """The numbered reference list."""
        return self.report.references

    @property
    def manifest(self) -> dict[str, Any]:
        """The run's manifest.json (settings, model, queries, URLs, tokens, phases, budget use)."""
        path = self.folder / "manifest.json"
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        return data if isinstance(data, dict) else {}


def _result(outcome: ResearchOutcome) -> ResearchResult:
    if outcome.status == "interrupted":
        raise KeyboardInterrupt(outcome.error)
    if outcome.report is None or outcome.exit_code not in (0, 3):
        raise RunError(outcome.error or f"Run {outcome.run_id} failed; resume it with resume={outcome.run_id!r}.",
                       run_id=outcome.run_id)
    return ResearchResult(run_id=outcome.run_id, status=outcome.status, report=outcome.report,
                          folder=outcome.folder, files=outcome.files, exit_code=outcome.exit_code)


def research_with(
    factory: Callable[..., Any], question: str = "", *, app: Any = None, settings: Any = None,
    on_event: Callable[[Event], None] | None = None, formats: Iterable[str] = DEFAULT_FORMATS,
    out: str | Path | None = None, depth: int | None = None, breadth: int | None = None,
    max_pages: int | None = None, max_minutes: float | None = None, max_tokens: int | None = None,
    language: str | None = None, resume: str | None = None,
) -> ResearchResult:
    """Research ``question`` (or resume run ``resume``) and return the result; see the module docstring."""
    request = ResearchRequest(
        question=question, resume=resume, formats=parse_formats(list(formats)),
        out=Path(out) if out is not None else None, language=language,
        budget=Budget(depth=depth, breadth=breadth, max_pages=max_pages, max_minutes=max_minutes,
                      max_tokens=max_tokens),
    )
    owned = app is None
    app = factory(settings) if owned else app
    try:
        base = limits_for(app.settings, results_per_query=app.settings.search.results_per_query)  # budget.mode
        outcome = execute(app.runner(), request, on_event or (lambda event: None), base=base, settings=app.settings)
    finally:
        if owned:
            app.close()
    return _result(outcome)


def ask_with(
    factory: Callable[..., Any], run_id: str, question: str, *, app: Any = None, settings: Any = None,
    on_event: Callable[[Event], None] | None = None, max_minutes: float | None = None, research: bool = True,
) -> Followup:
    """A follow-up on run ``run_id``: from memory, else a short research round; see the module docstring."""
    owned = app is None
    app = factory(settings) if owned else app
    try:
        return ask_followup(app, run_id, question, on_event=on_event, max_minutes=max_minutes, research=research)
    finally:
        if owned:
            app.close()
