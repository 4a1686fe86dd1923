"""Start, pause and resume research runs; the one API the CLI, the browser UI and scripts call.

``Runner`` owns one background event loop (so the fetcher's HTTP client and the SQLite checkpointer
live on one loop for every run) and hands out plain synchronous iterators of events:

    runner = app.runner()
    for event in runner.stream("question", RunOptions(review=True)):   # ends with run_paused
        ...
    for event in runner.resume(run_id, plan=edited_plan):               # ends with run_finished
        ...
    report = runner.report(run_id)

Events are dicts ``{"type", "run_id", "ts", ...}``; every run ends with exactly one of
``run_finished`` (status, folder), ``run_paused`` (the plan to review) or ``run_failed`` (error; the
run can be resumed), and every event is appended to ``runs/<run_id>/events.jsonl``. The thread id of
the checkpointer is the run id, so a run killed at any point resumes from its last finished step.

While a session executes (``stream`` or ``resume``, until its last event) this process holds the
run's ``agents.run.lock.RunLock``: a second session of the same run, here or in another process, gets
a ``RunBusyError`` sentence at once, and readers tell a run whose process died (SIGKILL, power loss) from
a live one with ``agents.run.lock.lock_state``.
"""

from __future__ import annotations

import asyncio
import json
import queue
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from langgraph.types import Command

from agents import graph as research_graph
from agents.context import RunContext
from agents.errors import AgentError, RunError
from agents.publish import write_json
from agents.report import Report
from agents.run.budget import Clock, Limits
from agents.run.lock import RunLock
from agents.run.memo import JsonMemo
from memory.errors import MemoryStoreError
from tools.errors import ToolError

Event = dict[str, Any]
FINAL = ("run_finished", "run_paused", "run_failed")


@dataclass
class RunParts:
    """The application parts a run uses (built once by ``app.py``)."""

    models: Any  # ModelPool
    memory: Any  # memory.Memory
    fetcher: Any  # tools.web.fetch.Fetcher
    registry: Any  # tools.registry.ToolRegistry
    extract: Callable[..., Any]  # tools.extract.extract_result
    filters: Callable[..., Any]  # memory.Filters
    freshness_days: float = 7.0
    meta: dict[str, Any] = field(default_factory=dict)  # version, settings, model names: for the manifest


@dataclass
class RunOptions:
    """Per-run choices: budgets, plan review, report language."""

    limits: Limits = field(default_factory=Limits)
    review: bool = False
    language: str = "en"

    def to_json(self) -> dict[str, Any]:
        """JSON-friendly form (stored in ``run.json``)."""
        return {"limits": asdict(self.limits), "review": self.review, "language": self.language}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunOptions:
        """Inverse of ``to_json``."""
        return cls(
            limits=Limits(**data.get("limits", {})),
            review=bool(data.get("review")),
            language=str(data.get("language", "en")),
        )


def new_run_id() -> str:
    """A sortable, unique run id: UTC time and a random suffix."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


class Runner:
    """Runs research graphs on a background loop; see the module docstring."""

    def __init__(self, *, runs_dir: Path, checkpoints_path: Path, parts: Callable[[], RunParts]) -> None:
        self.runs_dir = Path(runs_dir)
        self.checkpoints_path = Path(checkpoints_path)
        self._parts_factory = parts
        self._parts: RunParts | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._saver: Any = None
        self._lock = threading.Lock()
        self._active: set[Any] = set()
        self._locks: set[RunLock] = set()

    # -- public API -----------------------------------------------------------------------------

    def stream(self, question: str, options: RunOptions | None = None, *, run_id: str | None = None) -> Iterator[Event]:
        """Start a run on ``question``; yields its events until it finishes, pauses or fails."""
        question = " ".join(question.split())
        if not question:
            raise RunError("The research question is empty; give a question to research.")
        run_id = run_id or new_run_id()
        options = options or RunOptions()
        folder = self.folder(run_id)
        lock = RunLock.acquire(folder, run_id)  # before run.json says "running": readers never see it unlocked
        try:
            write_json(
                folder / "run.json",
                {
                    "run_id": run_id,
                    "question": question,
                    "created": _now(),
                    "status": "running",
                    "options": options.to_json(),
                },
            )
        except OSError:
            lock.release()
            raise
        start = {"run_id": run_id, "question": question, "review": options.review}
        return self._iterate(run_id, start, options, lock)

    def resume(
        self, run_id: str, *, plan: dict[str, Any] | None = None, options: RunOptions | None = None
    ) -> Iterator[Event]:
        """Continue a paused or killed run (``plan``: the reviewed plan, when it paused for review)."""
        info = self.info(run_id)
        if info is None:
            raise RunError(f"There is no run {run_id!r} in {self.runs_dir}; list runs with `runs`.", run_id=run_id)
        opts = options or RunOptions.from_json(info.get("options", {}))
        lock = RunLock.acquire(self.folder(run_id), run_id)  # refused while another session executes it
        return self._iterate(run_id, ("resume", plan), opts, lock)

    def run(
        self, question: str, options: RunOptions | None = None, *, on_event: Callable[[Event], None] | None = None
    ) -> Report:
        """Run to the end (no review pause) and return the report."""
        options = replace(options or RunOptions(), review=False)
        run_id = ""
        for event in self.stream(question, options):
            run_id = event["run_id"]
            if on_event is not None:
                on_event(event)
        report = self.report(run_id)
        if report is None:
            raise RunError(
                f"Run {run_id} ended without a report; resume it with `research --resume {run_id}`.", run_id=run_id
            )
        return report

    def folder(self, run_id: str) -> Path:
        """The run folder ``runs/<run_id>``."""
        if not run_id or "/" in run_id or "\\" in run_id or run_id.startswith("."):
            raise RunError(f"{run_id!r} is not a run id; list runs with `runs`.")
        return self.runs_dir / run_id

    def info(self, run_id: str) -> dict[str, Any] | None:
        """The run's ``run.json`` (question, options, status), or None when there is no such run."""
        path = self.folder(run_id) / "run.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def report(self, run_id: str) -> Report | None:
        """The run's report, once written."""
        path = self.folder(run_id) / "report.json"
        return Report.model_validate_json(path.read_text(encoding="utf-8")) if path.is_file() else None

    def close(self) -> None:
        """Stop the background loop (running runs stop at their last checkpoint and can be resumed)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        for fut in list(self._active):
            fut.cancel()
        # Let the cancelled sessions unwind (the checkpointer writes in tasks of its own) before their
        # connections close under them; a task still failing after that is retrieved, not printed.
        asyncio.run_coroutine_threadsafe(_settle(5.0), loop).result(timeout=10)
        closer = getattr(self._parts.fetcher, "aclose", None) if self._parts is not None else None
        if callable(closer):  # the fetcher's client lives on this loop: close it here, before the loop stops
            asyncio.run_coroutine_threadsafe(closer(), loop).result(timeout=10)
        if self._saver is not None:
            asyncio.run_coroutine_threadsafe(self._saver.conn.close(), loop).result(timeout=10)
        asyncio.run_coroutine_threadsafe(_settle(1.0), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        for lock in list(self._locks):  # a session the stopped loop never finished
            lock.release()
        self._locks.clear()
        self._loop = self._thread = self._saver = None

    # -- internals ------------------------------------------------------------------------------

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="quarry-runs", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            if self._parts is None:
                self._parts = self._parts_factory()
            if self._saver is None:  # created once, on the loop it belongs to, before any session uses it
                self._saver = asyncio.run_coroutine_threadsafe(self._open_checkpointer(), self._loop).result()
            return self._loop

    def _iterate(self, run_id: str, start: Any, options: RunOptions, lock: RunLock) -> Iterator[Event]:
        try:
            loop = self._ensure_loop()
        except BaseException:
            lock.release()
            raise
        events: queue.Queue[Event | None] = queue.Queue()
        self._locks.add(lock)

        async def pump() -> None:
            try:
                async for event in self._session(run_id, start, options):
                    events.put(event)
            finally:  # the session is over (finished, paused, failed or cancelled): the run is free
                lock.release()
                self._locks.discard(lock)
                events.put(None)

        fut = asyncio.run_coroutine_threadsafe(pump(), loop)
        self._active.add(fut)
        return self._drain(events, fut)

    def _drain(self, events: queue.Queue[Event | None], fut: Any) -> Iterator[Event]:
        failure: Event | None = None
        try:
            while (event := events.get()) is not None:
                if event["type"] == "run_failed":
                    failure = event
                yield event
            fut.result()
        finally:
            fut.cancel()
            self._active.discard(fut)
        if failure is not None:
            raise RunError(failure["error"], run_id=failure["run_id"])

    async def _open_checkpointer(self) -> Any:
        import aiosqlite
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        self.checkpoints_path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(self.checkpoints_path))
        saver = AsyncSqliteSaver(conn)
        await saver.setup()
        return saver

    def _context(self, run_id: str, options: RunOptions) -> RunContext:
        parts = self._parts
        assert parts is not None
        folder = self.folder(run_id)
        meta = {**parts.meta, "options": options.to_json()}
        return RunContext(
            models=parts.models,
            memory=parts.memory,
            fetcher=parts.fetcher,
            registry=parts.registry,
            extract=parts.extract,
            filters=parts.filters,
            limits=options.limits,
            freshness_days=parts.freshness_days,
            language=options.language,
            clock=Clock(options.limits.max_minutes),
            memo=JsonMemo(folder / "tool_memo.json"),
            run_dir=folder,
            meta=meta,
            tokens_base=_total_tokens(parts.models),
            usage_base=dict(parts.models.usage),
        )

    async def _session(self, run_id: str, start: Any, options: RunOptions) -> AsyncIterator[Event]:
        ctx = self._context(run_id, options)
        log = _EventLog(self.folder(run_id) / "events.jsonl")
        graph = research_graph.build(self._saver)
        config = {"configurable": {"thread_id": run_id}, "recursion_limit": 500}
        kind = "run_started"
        payload: Any = start
        if isinstance(start, tuple):
            payload, kind = await self._resume_input(graph, config, start[1], run_id), "run_resumed"
            self._set_status(run_id, "running")  # under the lock: a kill from here on reads as interrupted
        question = (self.info(run_id) or {}).get("question", "")
        yield log.add(
            {"type": kind, "run_id": run_id, "ts": time.time(), "question": question, "limits": asdict(options.limits)}
        )
        try:
            async with ctx.registry.session():
                async for event in self._graph_events(graph, payload, config, ctx, run_id):
                    yield log.add(event)
        except (AgentError, ToolError, MemoryStoreError) as err:
            yield log.add(self._finish(run_id, "failed", error=str(err)))
            return
        snapshot = await graph.aget_state(config)
        if snapshot.interrupts:
            plan = snapshot.interrupts[0].value.get("plan")
            yield log.add(self._finish(run_id, "paused", plan=plan))
            return
        report = snapshot.values.get("report") or {}
        self._update_manifest(run_id, log, ctx)
        yield log.add(self._finish(run_id, report.get("status", "failed"), folder=str(self.folder(run_id))))

    async def _resume_input(self, graph: Any, config: dict[str, Any], plan: Any, run_id: str) -> Any:
        snapshot = await graph.aget_state(config)
        if snapshot.interrupts:
            return Command(resume=plan)
        if not snapshot.next:
            if snapshot.values.get("report"):
                return None  # finished already: the stream ends at once and the report stands
            # Stopped before its first checkpoint (a cancel or kill as it started): nothing was done, so it starts
            # over from its question, under its own id.
            info = self.info(run_id) or {}
            question = " ".join(str(info.get("question", "")).split())
            if not question:
                raise RunError(f"Run {run_id} has no checkpoint to resume from and no question; start it again.",
                               run_id=run_id)
            review = RunOptions.from_json(info.get("options", {})).review
            return {"run_id": run_id, "question": question, "review": review}
        return None

    async def _graph_events(
        self, graph: Any, payload: Any, config: dict[str, Any], ctx: RunContext, run_id: str
    ) -> AsyncIterator[Event]:
        stream = graph.astream(payload, config, context=ctx, stream_mode=["custom", "updates"], durability="sync")
        async for mode, chunk in stream:
            if mode == "custom" and isinstance(chunk, dict):
                yield chunk
            elif mode == "updates" and "__interrupt__" in chunk:
                value = chunk["__interrupt__"][0].value
                yield {**value, "ts": time.time()}

    def _set_status(self, run_id: str, status: str) -> None:
        info = self.info(run_id) or {"run_id": run_id}
        write_json(self.folder(run_id) / "run.json", {**info, "status": status, "updated": _now()})

    def _finish(self, run_id: str, status: str, **data: Any) -> Event:
        kind = {"paused": "run_paused", "failed": "run_failed"}.get(status, "run_finished")
        self._set_status(run_id, status)
        if status == "failed":
            data["error"] = f"{str(data.get('error', '')).rstrip('.')}. Resume with `research --resume {run_id}`."
        return {"type": kind, "run_id": run_id, "ts": time.time(), "status": status, **data}

    def _update_manifest(self, run_id: str, log: _EventLog, ctx: RunContext) -> None:
        path = self.folder(run_id) / "manifest.json"
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            phases = dict(data.get("phases") or {})
            for name, seconds in log.phases().items():  # a resumed run adds this session's times
                phases[name] = round(phases.get(name, 0.0) + seconds, 4)
            data.update(phases=phases, session_elapsed_s=round(ctx.clock.elapsed_s(), 3))
            write_json(path, data)


class _EventLog:
    """Appends events to ``events.jsonl`` and times the phases."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._phase: tuple[str, float] | None = None
        self._times: dict[str, float] = {}

    def add(self, event: Event) -> Event:
        if event.get("type") == "phase":
            self._close_phase(event["ts"])
            self._phase = (event["phase"], event["ts"])
        elif event.get("type") in ("search_started",) and (self._phase is None or self._phase[0] != "search"):
            self._close_phase(event["ts"])
            self._phase = ("search", event["ts"])
        elif event.get("type") in FINAL or event.get("type") == "report":
            self._close_phase(event["ts"])
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
        return event

    def _close_phase(self, now: float) -> None:
        if self._phase is not None:
            name, since = self._phase
            self._times[name] = round(self._times.get(name, 0.0) + now - since, 4)
            self._phase = None

    def phases(self) -> dict[str, float]:
        return dict(self._times)


def _total_tokens(models: Any) -> int:
    return sum(u.total_tokens for u in models.usage.values())


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


async def _settle(timeout: float) -> None:
    """Wait up to ``timeout`` for the loop's other tasks to end, and retrieve how they ended.

    Called while the runner closes, after its sessions were cancelled: what they left running (the
    checkpointer's writes, fetches) finishes or is cancelled before the connections close, and an
    error a cancelled session's task ends with is expected, so it is consumed rather than reported
    by asyncio as "Task exception was never retrieved".
    """
    me = asyncio.current_task()
    pending = [task for task in asyncio.all_tasks() if task is not me]
    if not pending:
        return
    done, _ = await asyncio.wait(pending, timeout=timeout)
    for task in done:
        if not task.cancelled():
            task.exception()
