"""The MCP server: Quarry's research, follow-ups, memory and reports as tools and resources.

``build_server(app)`` returns an ``MCPServer`` (the pinned ``mcp`` SDK) with five tools —
``research``, ``ask``, ``search_memory``, ``get_report``, ``list_runs`` — and each finished run's
report as a resource ``quarry://runs/<run_id>/report.md``. Each tool does its work in a worker thread
through ``ui.mcp.service`` (the same run services as the CLI and the browser UI).

Guarantees: an error a user can act on becomes an MCP tool error (``is_error``) carrying the one
sentence the CLI prints, and the server keeps serving; the run's events become progress
notifications (when the client asked for progress); a client that cancels a ``research`` or ``ask``
call stops its run at the next event, at its last checkpoint, resumable with ``research(resume=ID)``.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import anyio
import anyio.from_thread
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mcp_types import CallToolResult, TextContent
from mcp_types import Resource as McpResource
from pydantic import Field

from agents import __version__
from agents.errors import AgentError
from agents.settings import SettingsError
from memory.errors import MemoryStoreError
from tools.errors import ToolError
from ui.errors import UIError
from ui.mcp import service
from ui.progress import ProgressState

T = TypeVar("T")
Event = dict[str, Any]
USER_ERRORS: tuple[type[Exception], ...] = (UIError, AgentError, ToolError, MemoryStoreError, SettingsError)
STOP_WAIT_S = 60.0  # how long a cancelled call waits for its run to reach a checkpoint and stop
REPORT_URI = "quarry://runs/{run_id}/report.md"
INSTRUCTIONS = (
    "Quarry researches a question on the web and writes a cited, verified report. Call research for a "
    "new question, ask for a follow-up on a finished run (its memory first), search_memory for cited "
    "passages already read, get_report and list_runs for past runs."
)


def text_result(text: str, data: dict[str, Any]) -> CallToolResult:
    """A tool result: readable text for the model, the same as structured data for programs."""
    return CallToolResult(content=[TextContent(text=text)], structured_content=data)


def refusal(sentence: str) -> CallToolResult:
    """A tool error carrying exactly the sentence the CLI prints."""
    return CallToolResult(content=[TextContent(text=sentence)], is_error=True)


def refusing(tool: Callable[..., Awaitable[CallToolResult]]) -> Callable[..., Awaitable[CallToolResult]]:
    """Wrap a tool: an error a user can act on becomes ``refusal(its sentence)``; the server keeps serving."""

    @functools.wraps(tool)
    async def call(*args: Any, **kwargs: Any) -> CallToolResult:
        try:
            return await tool(*args, **kwargs)
        except USER_ERRORS as err:
            return refusal(str(err))

    return call


class Worker:
    """Runs one tool's work in a thread: errors as tool errors, events as progress, cancellation as a stop."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._build = threading.Lock()  # the app builds its parts lazily: one builder at a time

    def parts(self, *names: str) -> None:
        """Build the app's parts ``names`` (e.g. "memory", "runner") once, before threads share them."""
        with self._build:
            for name in names:
                getattr(self.app, name)()

    async def call(self, ctx: Context | None, work: Callable[[Callable[[Event], None], threading.Event], T]) -> T:
        """``work(sink, cancelled)`` in a worker thread; see the class docstring."""
        cancelled, done = threading.Event(), threading.Event()
        sink = self._progress(ctx, cancelled)

        def run() -> T:
            try:
                return work(sink, cancelled)
            finally:
                done.set()

        try:
            return await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            cancelled.set()  # the run stops at its next event, at its last checkpoint
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(done.wait, STOP_WAIT_S)
            raise

    @staticmethod
    def _progress(ctx: Context | None, cancelled: threading.Event) -> Callable[[Event], None]:
        state, count = ProgressState(), [0]

        def sink(event: Event) -> None:
            count[0] += 1
            line = state.apply(event)
            if ctx is None or cancelled.is_set():
                return
            message = f"run {event.get('run_id', '')}: {line}"
            try:
                anyio.from_thread.run(ctx.report_progress, float(count[0]), None, message)
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):  # the client went away mid-run
                cancelled.set()

        return sink


class QuarryServer(MCPServer):
    """``MCPServer`` whose resource list is the data directory's finished runs, read afresh on each listing."""

    def __init__(self, app: Any) -> None:
        super().__init__("quarry", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")
        self.app = app

    async def list_resources(self) -> list[McpResource]:
        """Every finished run's report, newest first."""
        runs = await anyio.to_thread.run_sync(service.finished_runs, self.app)
        return [McpResource(uri=REPORT_URI.format(run_id=r.run_id), name=f"report-{r.run_id}",
                            title=r.question or r.run_id, description=f"Quarry report ({r.status}, {r.created})",
                            mime_type="text/markdown") for r in runs]


def build_server(app: Any) -> QuarryServer:
    """The MCP server over ``app`` (tools and resources; see the module docstring)."""
    server = QuarryServer(app)
    worker = Worker(app)
    _research_tool(server, worker)
    _other_tools(server, worker)

    @server.resource(REPORT_URI, name="report", mime_type="text/markdown",
                     description="A finished run's report in Markdown, with its follow-up questions.")
    async def report(run_id: str) -> str:
        try:
            return await anyio.to_thread.run_sync(service.report_markdown, run_id, app.settings.runs_dir)
        except USER_ERRORS as err:
            raise ResourceError(str(err)) from err

    return server


def _research_tool(server: QuarryServer, worker: Worker) -> None:
    app = server.app

    @server.tool()
    @refusing
    async def research(question: Annotated[str, Field(description="the question to research")] = "",
                       mode: Annotated[str | None, Field(description="quick, standard or deep")] = None,
                       max_minutes: Annotated[float | None, Field(description="the run's time budget")] = None,
                       resume: Annotated[str | None, Field(description="a stopped run's id to continue")] = None,
                       ctx: Context | None = None) -> CallToolResult:
        """Research a question on the web and return the short answer, the cited report (Markdown) and the
        run id. mode: quick, standard or deep (default: what fits this machine); max_minutes: the time
        budget; resume: the id of a stopped run to continue instead of a new question."""
        def work(sink: Callable[[Event], None], cancelled: threading.Event) -> service.ResearchOutcome:
            worker.parts("runner")
            return service.research(app, question, mode=mode, max_minutes=max_minutes, resume=resume, sink=sink,
                                    cancelled=cancelled)

        outcome = await worker.call(ctx, work)
        if outcome.report is None or outcome.exit_code not in (0, 3):
            return refusal(outcome.error or f"Run {outcome.run_id} stopped; resume it with resume={outcome.run_id!r}.")
        data = service.outcome_summary(outcome)
        text = f"Short answer: {data['answer']}\nRun: {outcome.run_id} ({outcome.status})\n\n{data['markdown']}"
        return text_result(text, data)


def _other_tools(server: QuarryServer, worker: Worker) -> None:
    app = server.app

    @server.tool()
    @refusing
    async def ask(run_id: Annotated[str, Field(description="a finished run's id (list_runs)")],
                  question: Annotated[str, Field(description="the follow-up question")],
                  ctx: Context | None = None) -> CallToolResult:
        """Ask a follow-up question about a finished run: answered from the run's memory and graph (cited),
        or by a short research round when memory does not hold it."""
        def work(sink: Callable[[Event], None], cancelled: threading.Event) -> service.Followup:
            service.finished_run(app.settings.runs_dir, run_id)  # bad input refused before any part is built
            worker.parts("memory", "models", "runner")
            return service.ask(app, run_id, question, sink, cancelled)

        exchange = await worker.call(ctx, work)
        return text_result(exchange.markdown(), exchange.to_json())

    @server.tool()
    @refusing
    async def search_memory(query: Annotated[str, Field(description="words to search memory for")],
                            k: Annotated[int, Field(description="how many passages, 1 to 50")] = 5) -> CallToolResult:
        """Search Quarry's memory (every page it has read) and return the k best passages with their sources."""
        def work(sink: Callable[[Event], None], cancelled: threading.Event) -> list[dict[str, Any]]:
            worker.parts("memory")
            return service.search_memory(app, query, k)

        passages = await worker.call(None, work)
        text = "\n\n".join(f"[{p['n']}] {p['title']} — {p['url']} ({p['chunk_id']})\n{p['text']}" for p in passages)
        return text_result(text or "No matching passages in memory.", {"passages": passages})

    @server.tool()
    @refusing
    async def get_report(run_id: Annotated[str, Field(description="a finished run's id (list_runs)")],
                         format: Annotated[str, Field(description="md or json")] = "md") -> CallToolResult:
        """A finished run's report: format md (Markdown, with its follow-ups) or json."""
        text = await worker.call(None, lambda sink, cancelled: service.get_report(app, run_id, format))
        return text_result(text, {"run_id": run_id, "format": format, "report": text})

    @server.tool()
    @refusing
    async def list_runs() -> CallToolResult:
        """Every research run, newest first: id, date, status, question."""
        runs = await worker.call(None, lambda sink, cancelled: service.list_runs(app))
        text = "\n".join(f"{r['run_id']}  {r['status']:<16} {r['question']}" for r in runs)
        return text_result(text or "No runs yet.", {"runs": runs})
