"""Background research runs for the browser UI, independent of any browser session.

Guarantees:
- A run executes in its own thread and never calls Streamlit; it appends events to its
  ``RunHandle`` (an append-only log), so any number of pages poll it with their own cursor and a
  click, a reload or a closed tab never stops the run.
- The ``RunRegistry`` keeps every run of this process by id: a reload or a second tab re-attaches
  with ``registry.get(run_id)``; ``runs_for(owner)`` lists only one browser session's runs.
- The research itself sits behind the ``ResearchBackend`` seam (``ui.web.research.AppResearch`` drives
  ``agents.run.runner`` with the app's one shared ``ModelPool``, whose backends serialize model calls).
- A failed run records one sentence in ``handle.error``; nothing it already wrote is removed.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from agents.report import Report

Status = Literal["starting", "running", "review", "complete", "failed", "cancelled", "interrupted", "elsewhere"]
Event = dict[str, Any]
Emit = Callable[[Event], None]


@dataclass(frozen=True)
class RunRequest:
    """What the new-research page asks for; ``None`` means "the setting's value"."""

    question: str
    breadth: int | None = None
    depth: int | None = None
    max_pages: int | None = None
    search: tuple[str, ...] = ()
    corpus: str | None = None
    model: str | None = None
    review: bool = True
    mode: str | None = None  # quick, standard, deep (None: budget.mode, else what fits the machine)


@dataclass
class Outcome:
    """Where one session of a run stopped: paused for review (with the plan) or finished."""

    status: Literal["review", "complete", "failed", "cancelled"]
    plan: dict[str, Any] | None = None
    report: Report | None = None
    error: str | None = None


class ResearchBackend(Protocol):
    """Runs research; ``emit`` receives every progress event; ``stopped()`` asks to stop early."""

    def start(self, run_id: str, request: RunRequest, emit: Emit, stopped: Callable[[], bool]) -> Outcome:
        """Run from the question until the plan-review pause or the end."""
        ...

    def resume(
        self, run_id: str, plan: dict[str, Any] | None, emit: Emit, stopped: Callable[[], bool]
    ) -> Outcome:
        """Continue a paused or interrupted run (with the approved plan when it paused for review)."""
        ...


@dataclass
class RunHandle:
    """One run as the UI sees it: status, the event log, the plan under review and the report."""

    run_id: str
    question: str
    owner: str
    status: Status = "starting"
    plan: dict[str, Any] | None = None
    report: Report | None = None
    error: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    _events: list[Event] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def add_event(self, event: Event) -> None:
        """Append one event (called from the worker thread)."""
        with self._lock:
            self._events.append(dict(event))

    def events(self, since: int = 0) -> list[Event]:
        """The events from index ``since`` on (a poller keeps its own cursor)."""
        with self._lock:
            return list(self._events[since:])

    @property
    def event_count(self) -> int:
        """How many events the run has emitted so far."""
        with self._lock:
            return len(self._events)

    @property
    def active(self) -> bool:
        """True while a worker thread is running this run."""
        return self._thread is not None and self._thread.is_alive()

    def elapsed_s(self) -> float:
        """Seconds since the run started (frozen once it finished)."""
        return (self.finished or time.time()) - self.started

    def stop_requested(self) -> bool:
        """Whether the user asked this run to stop."""
        return self._stop.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current worker thread ends; True when it has (tests, shutdown)."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()


class RunRegistry:
    """Every run of this process by id; starts, resumes and stops their worker threads."""

    def __init__(self, backend: ResearchBackend, *, id_factory: Callable[[], str] | None = None) -> None:
        self._backend = backend
        self._runs: dict[str, RunHandle] = {}
        self._lock = threading.Lock()
        self._new_id = id_factory or _new_run_id

    def start(self, request: RunRequest, owner: str) -> RunHandle:
        """Start a new run for ``owner`` (a browser session) in a background thread."""
        question = request.question.strip()
        if not question:
            raise ValueError("Type a question before starting a run.")
        handle = RunHandle(run_id=self._new_id(), question=question, owner=owner)
        with self._lock:
            self._runs[handle.run_id] = handle
        self._launch(handle, lambda emit, stopped: self._backend.start(handle.run_id, request, emit, stopped))
        return handle

    def approve(self, run_id: str, plan: dict[str, Any]) -> RunHandle:
        """Resume a run paused for review with the (possibly edited) plan."""
        handle = self._require(run_id)
        with self._lock:  # two tabs approving at once: the second is refused
            if handle.status != "review" or handle.active:
                raise ValueError(f"Run {run_id} is not waiting for a plan review.")
            handle.plan = plan
            self._launch(handle, lambda emit, stopped: self._backend.resume(run_id, plan, emit, stopped))
        return handle

    def adopt(
        self,
        run_id: str,
        owner: str,
        *,
        question: str = "",
        events: list[Event] | None = None,
        plan: dict[str, Any] | None = None,
        report: Report | None = None,
        recorded: str = "",
        note: str = "",
    ) -> RunHandle:
        """Attach a run from disk (History) with its past events: in review when it paused with a plan.

        ``recorded`` and ``note`` are the run's status and sentence as the runs folder reports them
        (``ui.run_files``): an interrupted run reads "interrupted", one that another process is
        executing "elsewhere", a failed one "failed"; the note is shown with it.
        """
        with self._lock:
            handle = self._runs.get(run_id)
            if handle is None:
                handle = RunHandle(run_id=run_id, question=question, owner=owner, _events=list(events or []))
                self._runs[run_id] = handle
        if handle.active:
            return handle
        handle.report = report or handle.report
        handle.plan = plan if plan is not None else handle.plan
        handle.status = _adopted_status(plan is not None, handle.report is not None, recorded)
        handle.error = note or handle.error
        first = handle.events()[:1]
        if first and first[0].get("ts"):
            handle.started = float(first[0]["ts"])
        return handle

    def resume(self, run_id: str, owner: str, question: str = "") -> RunHandle:
        """Resume an interrupted run (from history): attach it to ``owner`` and continue it."""
        with self._lock:
            handle = self._runs.get(run_id)
            if handle is None:
                handle = RunHandle(run_id=run_id, question=question, owner=owner)
                self._runs[run_id] = handle
        with self._lock:
            if handle.active:
                return handle
            handle._stop.clear()
            self._launch(handle, lambda emit, stopped: self._backend.resume(run_id, None, emit, stopped))
        return handle

    def cancel(self, run_id: str) -> RunHandle:
        """Stop a run: at the review pause at once, otherwise at its next event."""
        handle = self._require(run_id)
        handle._stop.set()
        if not handle.active and handle.status in ("review", "starting"):
            handle.status = "cancelled"
            handle.finished = time.time()
        return handle

    def get(self, run_id: str) -> RunHandle | None:
        """The run with this id, if this process knows it."""
        with self._lock:
            return self._runs.get(run_id)

    def runs_for(self, owner: str) -> list[RunHandle]:
        """The runs one browser session started, newest first."""
        with self._lock:
            mine = [h for h in self._runs.values() if h.owner == owner]
        return sorted(mine, key=lambda h: h.started, reverse=True)

    def forget(self, run_id: str) -> None:
        """Drop a finished run from the registry (after it was deleted from disk)."""
        with self._lock:
            handle = self._runs.get(run_id)
            if handle is not None and not handle.active:
                del self._runs[run_id]

    def _require(self, run_id: str) -> RunHandle:
        handle = self.get(run_id)
        if handle is None:
            raise ValueError(f"No run {run_id} in this session; open it from History.")
        return handle

    def _launch(self, handle: RunHandle, body: Callable[[Emit, Callable[[], bool]], Outcome]) -> None:
        handle.status = "running"
        handle.finished = None
        handle.error = None
        thread = threading.Thread(
            target=self._work, args=(handle, body), name=f"quarry-run-{handle.run_id}", daemon=True
        )
        handle._thread = thread
        thread.start()

    def _work(self, handle: RunHandle, body: Callable[[Emit, Callable[[], bool]], Outcome]) -> None:
        try:
            outcome = body(handle.add_event, handle.stop_requested)
        except Exception as exc:  # noqa: BLE001  the worker's boundary: record the failure, keep the UI alive
            outcome = Outcome(status="failed", error=_one_sentence(exc))
        handle.plan = outcome.plan if outcome.plan is not None else handle.plan
        handle.report = outcome.report or handle.report
        handle.error = outcome.error
        handle.status = outcome.status
        if outcome.status != "review":
            handle.finished = time.time()


def _one_sentence(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if text.endswith(".") else f"{text}."


def _new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]


def _adopted_status(paused: bool, reported: bool, recorded: str) -> Status:
    """The status of a run attached from disk, from what it left there."""
    if paused:
        return "review"
    if reported:
        return "complete"
    return _FROM_DISK.get(recorded, "cancelled")


_FROM_DISK: dict[str, Status] = {"running": "elsewhere", "interrupted": "interrupted", "failed": "failed"}
