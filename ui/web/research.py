"""The browser UI's research backend: ``ui.web.worker.ResearchBackend`` over the app's ``Runner``.

Guarantees: runs go through ``app.runner()`` (``agents.run.runner``) — the same runs, checkpoints, run
folders and events as the CLI — with the app's one shared ``ModelPool``, so concurrent runs share
one loaded model whose backend serializes calls. A request that names other search backends or
another model runs on a second app built from a copy of the same settings with just those values
changed (cached, so it is built once). Stopping a run cancels it at its last checkpoint (resumable).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from agents.errors import AgentError
from agents.run.modes import limits_for
from agents.run.runner import RunOptions
from agents.settings import Settings
from memory.errors import MemoryStoreError
from tools.errors import ToolError
from ui.manifest import QUARRY_VERSION, complete_manifest
from ui.web.worker import Emit, Outcome, RunRequest

Builder = Callable[[Settings], Any]


def settings_for(settings: Settings, request: RunRequest) -> Settings:
    """``settings`` with the request's search backends (``local`` added for a corpus) and model."""
    changed = settings.model_copy(deep=True)
    backends = list(request.search) or list(settings.search.backends)
    if request.corpus and "local" not in backends:
        backends.insert(0, "local")  # the corpus is searched through the local backend
    if backends != list(settings.search.backends):
        changed.search = changed.search.model_copy(update={"backends": backends})
    if request.model and request.model != settings.llm.model:
        changed.llm = changed.llm.model_copy(update={"model": request.model})
    return changed


def options_for(settings: Settings, request: RunRequest) -> RunOptions:
    """The run's options: the request's mode (else budget.mode, else the fitting one), then depth, breadth, pages."""
    limits = limits_for(settings, mode=request.mode, breadth=request.breadth, depth=request.depth,
                        max_pages=request.max_pages, results_per_query=settings.search.results_per_query)
    return RunOptions(limits=limits, review=request.review)


class AppResearch:
    """Starts and resumes runs on the app's runner (or a variant app for other backends/model)."""

    def __init__(self, app: Any, build: Builder | None = None) -> None:
        self.app = app
        self._build = build
        self._variants: dict[str, Any] = {}
        self._run_apps: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _app_for(self, request: RunRequest) -> Any:
        settings = settings_for(self.app.settings, request)
        if settings == self.app.settings:
            return self.app
        key = settings.model_dump_json()
        with self._lock:
            if key not in self._variants:
                if self._build is None:
                    from app import build_app

                    self._variants[key] = build_app(settings)
                else:
                    self._variants[key] = self._build(settings)
            return self._variants[key]

    def start(self, run_id: str, request: RunRequest, emit: Emit, stopped: Callable[[], bool]) -> Outcome:
        """Start the run and follow it to the review pause or the end."""
        app = self._app_for(request)
        self._run_apps[run_id] = app
        if request.corpus:
            folder = Path(request.corpus).expanduser()
            if not folder.is_dir():
                return Outcome(status="failed", error=f"The corpus folder {folder} is not a folder; check the path.")
            from ui.corpus import index_directory  # the same incremental ingest as `index DIR`

            index_directory(app.memory(), folder)
        runner = app.runner()
        events = runner.stream(request.question, options_for(app.settings, request), run_id=run_id)
        return self._follow(runner, run_id, events, emit, stopped)

    def resume(
        self, run_id: str, plan: dict[str, Any] | None, emit: Emit, stopped: Callable[[], bool]
    ) -> Outcome:
        """Continue a paused (reviewed) or interrupted run."""
        runner = self._run_apps.get(run_id, self.app).runner()
        return self._follow(runner, run_id, runner.resume(run_id, plan=plan), emit, stopped)

    def _follow(
        self, runner: Any, run_id: str, events: Iterator[dict[str, Any]], emit: Emit, stopped: Callable[[], bool]
    ) -> Outcome:
        last: dict[str, Any] = {}
        try:
            for event in events:
                emit(event)
                last = event
                if stopped():
                    close = getattr(events, "close", None)
                    if callable(close):
                        close()  # cancels the run at its last checkpoint; it stays resumable
                    return Outcome(status="cancelled")
        except (AgentError, ToolError, MemoryStoreError) as err:
            return Outcome(status="failed", error=str(err))
        if last.get("type") == "run_paused":
            return Outcome(status="review", plan=last.get("plan"))
        report = runner.report(run_id)
        if report is None:
            return Outcome(status="failed", error=f"Run {run_id} ended without a report; resume it from History.")
        app = self._run_apps.get(run_id, self.app)  # the manifest as the CLI completes it: models, budget use, cost
        complete_manifest(runner.folder(run_id), app.settings, QUARRY_VERSION)
        return Outcome(status="complete", report=report)
