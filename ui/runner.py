"""One research run driven from the command line or the Python API, start to exported files.

``execute(runner, request, sink)`` starts (or resumes) a run on an ``agents.run.runner.Runner``, feeds every
event to ``sink``, pauses for plan review when asked, exports the report in the requested formats
(into the run folder, and into ``--out`` when given) and maps the outcome to an exit code:

    0  report written            2  bad input (raised as ``BadInputError`` before anything starts)
    1  run failed (resumable)    3  report written, but a budget ran out
    130 interrupted (Ctrl-C): the run stops at its last checkpoint and can be resumed

A run another live session is executing is refused (status "running", exit 1, one sentence naming
that process) without touching its files or checkpoint. Nothing already fetched or written is
removed on failure or interruption.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from agents.errors import RunBusyError, RunError
from agents.publish import write_json
from agents.report import Report
from agents.run.budget import Limits
from agents.run.runner import RunOptions, new_run_id
from agents.settings import Settings
from ui.errors import BadInputError, ExportError
from ui.export import DEFAULT_FORMATS, export, load_bundle
from ui.manifest import QUARRY_VERSION, complete_manifest
from ui.preflight import check_question

Event = dict[str, Any]
Sink = Callable[[Event], None]
Reviewer = Callable[[dict[str, Any]], "dict[str, Any] | None"]  # plan shown -> edited plan, or None: approved

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_BUDGET, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
COPIED = ("manifest.json", "sources.json", "graph.json")


class RunnerPort(Protocol):
    """The slice of ``agents.run.runner.Runner`` used here."""

    def stream(self, question: str, options: RunOptions | None = None, *, run_id: str | None = None
               ) -> Iterator[Event]:
        """Start a run."""
        ...

    def resume(self, run_id: str, *, plan: dict[str, Any] | None = None, options: RunOptions | None = None
               ) -> Iterator[Event]:
        """Continue a run."""
        ...

    def info(self, run_id: str) -> dict[str, Any] | None:
        """The run's run.json."""
        ...

    def folder(self, run_id: str) -> Path:
        """The run folder."""
        ...

    def report(self, run_id: str) -> Report | None:
        """The run's report."""
        ...


@dataclass(frozen=True)
class Budget:
    """Budget overrides from flags or a batch line; ``None`` keeps the settings' value."""

    depth: int | None = None
    breadth: int | None = None
    max_pages: int | None = None
    max_minutes: float | None = None
    max_tokens: int | None = None
    length: str | None = None  # short, standard or long

    def limits(self, base: Limits) -> Limits:
        """``base`` with the given overrides."""
        given = {k: v for k, v in vars(self).items() if v is not None}
        return replace(base, **given) if given else base


@dataclass(frozen=True)
class ResearchRequest:
    """What one run is asked to do."""

    question: str = ""
    resume: str | None = None
    formats: tuple[str, ...] = DEFAULT_FORMATS
    out: Path | None = None
    budget: Budget = field(default_factory=Budget)
    language: str | None = None
    review: bool = False
    run_id: str | None = None  # a chosen id for a new run (else one is made)


@dataclass
class ResearchOutcome:
    """How a run ended: status, exit code, the report and the files written."""

    run_id: str
    status: str
    exit_code: int
    folder: Path
    report: Report | None = None
    files: dict[str, Path] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


def exit_code_for(status: str) -> int:
    """The CLI exit code for a run status."""
    return {"complete": EXIT_OK, "nothing_found": EXIT_OK, "budget_exhausted": EXIT_BUDGET,
            "interrupted": EXIT_INTERRUPTED}.get(status, EXIT_FAILED)


def run_options(runner: RunnerPort, request: ResearchRequest, base: Limits) -> RunOptions:
    """The run's options: stored ones when resuming, with this request's overrides on top."""
    if request.resume:
        stored = (runner.info(request.resume) or {}).get("options")
        options = RunOptions.from_json(stored) if stored else RunOptions(limits=base)
    else:
        options = RunOptions(limits=base)
    options = replace(options, limits=request.budget.limits(options.limits), review=request.review)
    return replace(options, language=request.language) if request.language else options


def _events(runner: RunnerPort, request: ResearchRequest, run_id: str, options: RunOptions) -> Iterator[Event]:
    if request.resume:
        if runner.info(run_id) is None:
            raise BadInputError(f"There is no run {run_id!r}; list runs with `quarry runs`.")
        return runner.resume(run_id, options=options)
    if not " ".join(request.question.split()):
        raise BadInputError("The research question is empty; give a question (or --batch FILE, --resume ID).")
    check_question(request.question)
    return runner.stream(request.question, options, run_id=run_id)


def _pump(events: Iterator[Event], sink: Sink) -> Event | None:
    """Feed every event to ``sink``; returns the last one (``run_finished``/``run_paused``/...)."""
    last = None
    try:
        for event in events:
            sink(event)
            last = event
    finally:
        close = getattr(events, "close", None)
        if callable(close):
            close()  # on Ctrl-C this cancels the run at its last checkpoint
    return last


def execute(runner: RunnerPort, request: ResearchRequest, sink: Sink, *, base: Limits,
            reviewer: Reviewer | None = None, settings: Settings | None = None) -> ResearchOutcome:
    """Run (or resume) one research run to its end and export the report; see the module docstring.

    With ``settings`` the run's manifest is completed (version, settings, model hashes, budget use).
    """
    started = time.monotonic()
    run_id = request.resume or request.run_id or new_run_id()
    options = run_options(runner, request, base)
    try:
        events = _events(runner, request, run_id, options)
    except RunBusyError as err:  # another process (or session) is executing it: leave everything as it is
        return ResearchOutcome(run_id, "running", EXIT_FAILED, runner.folder(run_id), error=str(err),
                               seconds=time.monotonic() - started)
    try:
        last = _pump(events, sink)
        while last is not None and last.get("type") == "run_paused":
            if reviewer is None:
                return ResearchOutcome(run_id, "paused", EXIT_OK, runner.folder(run_id),
                                       error=f"The plan awaits review; resume with `quarry runs resume {run_id}`.")
            plan = reviewer(last.get("plan") or {})
            last = _pump(runner.resume(run_id, plan=plan, options=replace(options, review=False)), sink)
    except RunError as err:
        return ResearchOutcome(run_id, "failed", EXIT_FAILED, runner.folder(run_id), error=str(err),
                               seconds=time.monotonic() - started)
    except KeyboardInterrupt:
        mark_interrupted(runner.folder(run_id))
        return ResearchOutcome(run_id, "interrupted", EXIT_INTERRUPTED, runner.folder(run_id),
                               error=f"Stopped; resume with `quarry research --resume {run_id}`.",
                               seconds=time.monotonic() - started)
    return finish(runner, request, run_id, started, settings)


def mark_interrupted(folder: Path) -> None:
    """Record in ``run.json`` that the run was stopped with Ctrl-C (readers also infer it from the free run lock)."""
    path = folder / "run.json"
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(info, dict) and info.get("status") == "running":
        info.update(status="interrupted", updated=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        write_json(path, info)


def finish(runner: RunnerPort, request: ResearchRequest, run_id: str, started: float,
           settings: Settings | None = None) -> ResearchOutcome:
    """Complete the manifest, export a finished run's report and build its outcome."""
    folder = runner.folder(run_id)
    report = runner.report(run_id)
    if settings is not None and report is not None:
        complete_manifest(folder, settings, QUARRY_VERSION)
    if report is None:
        return ResearchOutcome(run_id, "failed", EXIT_FAILED, folder, seconds=time.monotonic() - started,
                               error=f"Run {run_id} ended without a report; resume it with "
                                     f"`quarry research --resume {run_id}`.")
    try:
        bundle = load_bundle(folder)
        files = export(bundle, folder, request.formats)
        if request.out is not None:
            files = export(bundle, request.out, request.formats)
            for name in COPIED:
                if (folder / name).is_file():
                    shutil.copyfile(folder / name, request.out / name)
    except ExportError as err:
        return ResearchOutcome(run_id, "failed", EXIT_FAILED, folder, report=report, error=str(err),
                               seconds=time.monotonic() - started)
    except OSError as err:
        return ResearchOutcome(run_id, "failed", EXIT_FAILED, folder, report=report,
                               error=f"Cannot copy the run files to {request.out} ({err}); choose another --out.",
                               seconds=time.monotonic() - started)
    return ResearchOutcome(run_id, report.status, exit_code_for(report.status), folder, report=report,
                           files=files, seconds=time.monotonic() - started)
