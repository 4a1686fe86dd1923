"""What each MCP tool does, as plain synchronous functions over the app (``ui.mcp.server`` wraps them).

Guarantees: every argument is checked here before anything runs, and a bad one raises a ``ui.errors``
error whose text is the one sentence the CLI prints; run ids are plain names under ``runs/`` (no tool
takes a path or a setting, so nothing outside the data directory is reached); a research run goes
through ``ui.runner.execute`` like the CLI's, with the mode's limits from ``agents.run.modes``; a run
whose caller cancels stops at its last checkpoint and is resumable (``research(resume=ID)``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from agents.run.modes import MODES, limits_for
from ui import run_files
from ui.errors import BadInputError
from ui.export import DEFAULT_FORMATS
from ui.export.markdown import render_report
from ui.followup import Followup, ask_followup, finished_run
from ui.preflight import check_question
from ui.runner import Budget, ResearchOutcome, ResearchRequest, execute

Event = dict[str, Any]
MAX_MINUTES = 24 * 60.0  # a day: a longer budget is a typo
MAX_K = 50
FORMATS = ("md", "json")


class Cancelled(KeyboardInterrupt):
    """Raised into a run's event stream when the MCP client cancelled: ``execute`` stops the run (resumable)."""


def check_mode(mode: object) -> str | None:
    """``mode`` when it is one of the modes (or None); ``BadInputError`` naming them otherwise."""
    if mode is None or mode == "":
        return None
    if mode not in MODES:
        raise BadInputError(f"There is no mode {mode!r}; choose one of {', '.join(MODES)}.")
    return str(mode)


def check_minutes(minutes: object) -> float | None:
    """A positive number of minutes up to a day (or None)."""
    if minutes is None:
        return None
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not 0 < minutes <= MAX_MINUTES:
        raise BadInputError("max_minutes must be a positive number of minutes, at most a day (1440).")
    return float(minutes)


def check_run_id(runs_dir: Any, run_id: object) -> str:
    """The id of an existing run folder; one sentence otherwise."""
    if not isinstance(run_id, str) or not run_files.RUN_ID.match(run_id):
        raise BadInputError(f"{run_id!r} is not a run id; list runs with list_runs (or `quarry runs`).")
    if not (runs_dir / run_id).is_dir():
        raise BadInputError(f"There is no run {run_id!r}; list runs with list_runs (or `quarry runs`).")
    return run_id


def guarded(sink: Callable[[Event], None], cancelled: threading.Event) -> Callable[[Event], None]:
    """``sink``, raising ``Cancelled`` at the first event after ``cancelled`` is set."""

    def feed(event: Event) -> None:
        if cancelled.is_set():
            raise Cancelled("cancelled by the MCP client")
        sink(event)

    return feed


def research(app: Any, question: object, *, mode: object = None, max_minutes: object = None,
             resume: object = None, sink: Callable[[Event], None], cancelled: threading.Event) -> ResearchOutcome:
    """Run (or resume) one research run to its end; the outcome says how it ended."""
    chosen, minutes = check_mode(mode), check_minutes(max_minutes)
    runs_dir = app.settings.runs_dir
    rid = check_run_id(runs_dir, resume) if resume not in (None, "") else None
    text = question if isinstance(question, str) else ""
    if rid is None:
        if not " ".join(text.split()):
            raise BadInputError("The research question is empty; give a question (or resume=RUN_ID).")
        check_question(text)
    base = limits_for(app.settings, mode=chosen, results_per_query=app.settings.search.results_per_query)
    request = ResearchRequest(question="" if rid else text, resume=rid, formats=DEFAULT_FORMATS,
                              budget=Budget(max_minutes=minutes))
    return execute(app.runner(), request, guarded(sink, cancelled), base=base, settings=app.settings)


def outcome_summary(outcome: ResearchOutcome) -> dict[str, Any]:
    """The structured result of ``research``: run id, status, short answer, and the report's Markdown."""
    report = outcome.report
    return {
        "run_id": outcome.run_id, "status": outcome.status,
        "answer": report.answer.text if report is not None else "",
        "markdown": render_report(report) if report is not None else "",
        "error": outcome.error,
    }


def ask(app: Any, run_id: object, question: object, sink: Callable[[Event], None],
        cancelled: threading.Event) -> Followup:
    """A follow-up on a finished run (``ui.followup``: memory first, then a quick research round)."""
    return ask_followup(app, run_id, question, on_event=guarded(sink, cancelled))


def search_memory(app: Any, query: object, k: object = 5) -> list[dict[str, Any]]:
    """Cited passages from memory for ``query``: text, title, URL, chunk id, score."""
    if not isinstance(query, str) or not " ".join(query.split()):
        raise BadInputError("The search query is empty; give a few words to search memory for.")
    check_question(query)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise BadInputError(f"k must be a whole number of passages from 1 to {MAX_K}.")
    hits = app.memory().search(" ".join(query.split()), k=k)
    return [{"n": i, "text": h.chunk.text, "title": h.source.title, "url": h.source.url, "page": h.chunk.page,
             "chunk_id": h.chunk.id, "source_id": h.source.id, "score": round(float(h.score), 5)}
            for i, h in enumerate(hits, start=1)]


def get_report(app: Any, run_id: object, fmt: object = "md") -> str:
    """A finished run's report as Markdown (``md``) or JSON (``json``), with its follow-ups for ``md``."""
    if fmt not in FORMATS:
        raise BadInputError(f"There is no report format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    folder, report = finished_run(app.settings.runs_dir, run_id)
    if fmt == "json":
        return report.model_dump_json(indent=2)
    return report_markdown(folder.name, app.settings.runs_dir)


def report_markdown(run_id: str, runs_dir: Any) -> str:
    """The report's Markdown, then each follow-up asked about it."""
    from ui.followup import load_followups

    folder, report = finished_run(runs_dir, run_id)
    text = render_report(report)
    exchanges = load_followups(folder)
    if exchanges:
        text += "\n\n## Follow-up questions\n\n" + "\n\n".join(f.markdown() for f in exchanges)
    return text


def list_runs(app: Any) -> list[dict[str, Any]]:
    """Every run, newest first: id, date, status, question, whether it has a report, a note."""
    return [{"run_id": r.run_id, "created": r.created, "status": r.status, "question": r.question,
             "has_report": r.has_report, "note": r.note}
            for r in run_files.list_runs(app.settings.runs_dir, missing_status="unknown")]


def finished_runs(app: Any) -> list[run_files.RunSummary]:
    """The runs with a report (each is an MCP resource)."""
    return [r for r in run_files.list_runs(app.settings.runs_dir, missing_status="unknown") if r.has_report]
