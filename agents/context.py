"""Run dependencies, handed to every node through LangGraph's runtime context (``context_schema``).

Nodes never build clients or read settings: they receive a ``RunContext`` (models, memory, fetcher,
tool registry, extractor, limits, clock) as ``runtime.context``. The context is not checkpointed; a
resumed run is given a fresh one. The protocols below are the narrow slices of each part the agents
use, so the graph depends on contracts, not on the parts' internals.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from langgraph.runtime import Runtime

from agents.errors import ModelDeclinedError, PromptTooLongError, StructuredOutputError
from agents.llm import ChatModel, answer_tokens, count_tokens
from agents.run.budget import RESEARCH_SHARE, Clock, Limits, exhausted, snapshot, tokens_used
from agents.run.pace import ANSWER_PROMPT, DRAFT_MARGIN, Pace, refusal, research_deadline_s
from tools.types import Document, FetchResult

FINISHING_ROLES = frozenset({"drafter", "verifier"})  # roles that may use the whole budget, not the research share


class ModelSource(Protocol):
    """A ``ModelPool``: one chat model per role, with token usage per role."""

    def for_role(self, role: Any) -> ChatModel:
        """The model for ``role``."""
        ...

    @property
    def usage(self) -> Mapping[str, Any]:
        """``Usage`` per role."""
        ...


class MemoryPort(Protocol):
    """The slice of ``memory.Memory`` the agents use."""

    def add_source(self, url: str, title: str, text: str, **kwargs: Any) -> tuple[Any, list[Any]]:
        """Store a source and its chunks."""
        ...

    def add_sources(self, items: Sequence[Any]) -> list[tuple[Any, list[Any]]]:
        """Store many sources in one batch (``memory.NewSource`` items); results in the same order."""
        ...

    def search(self, query: str, k: int = 10, filters: Any = None, **kwargs: Any) -> list[Any]:
        """Hybrid retrieval."""
        ...

    def get_chunks(self, ids: Sequence[str]) -> list[Any]:
        """Chunks by id."""
        ...

    def get_source(self, id: str) -> Any:
        """A source by id."""
        ...

    def get_sources(self, ids: Sequence[str]) -> list[Any]:
        """Sources by id in one read (unknown ids skipped)."""
        ...

    def source_by_url(self, url: str) -> Any:
        """A source by any of its URLs."""
        ...

    def sources_by_urls(self, urls: Sequence[str]) -> dict[str, Any]:
        """``source_by_url`` for many URLs in one read (URLs not in memory are left out)."""
        ...

    def is_fresh(self, url: str, days: float) -> bool:
        """Whether ``url`` was fetched within ``days``."""
        ...

    def add_finding(self, run_id: str, question: str, text: str, chunk_ids: Sequence[str]) -> Any:
        """Record a finding."""
        ...

    def add_findings(self, run_id: str, question: str, found: Sequence[tuple[str, Sequence[str]]]) -> list[Any]:
        """Record several (statement, chunk ids) findings of one sub-question in one write."""
        ...

    def findings(self, run_id: str | None = None, question: str | None = None) -> list[Any]:
        """Findings, optionally of one run or question."""
        ...

    def upsert_entity(self, name: str, type: str, **kwargs: Any) -> Any:
        """Create or merge an entity."""
        ...

    def find_entities(self, name: str, k: int = 5) -> list[Any]:
        """Entities matching a name (aliases, then embeddings)."""
        ...

    def upsert_relation(self, subject_id: str, relation: str, object_id: str, **kwargs: Any) -> Any:
        """Create or merge a relation."""
        ...

    def upsert_entities(self, items: Sequence[Any]) -> list[Any]:
        """Create or merge many entities (``memory.NewEntity``) in order, in one write."""
        ...

    def upsert_relations(self, items: Sequence[Any]) -> list[Any]:
        """Create or merge many relations (``memory.NewRelation``) in order, in one write."""
        ...

    def relations(self, run_id: str | None = None) -> list[Any]:
        """Relations, optionally of one run."""
        ...


class FetcherPort(Protocol):
    """The slice of ``tools.web.fetch.Fetcher`` the agents use."""

    async def fetch_many(self, urls: Sequence[str]) -> list[Any]:
        """Fetch concurrently; each item is a ``FetchResult`` or a ``ToolError``."""
        ...


class RegistryPort(Protocol):
    """The slice of ``tools.registry.ToolRegistry`` the agents use."""

    def tools(self) -> list[Any]:
        """Every tool (name, description, parameters)."""
        ...

    def call_schema(self, names: Sequence[str] | None = None) -> dict[str, Any]:
        """JSON schema of one valid call: a tool name with arguments valid for it."""
        ...

    async def call(self, name: str, arguments: dict[str, Any], timeout_s: float | None = None) -> Any:
        """Run a tool; a ``ToolOutcome`` (never raises for a tool failure)."""
        ...

    def session(self) -> AbstractAsyncContextManager[Any]:
        """``async with registry.session():`` MCP servers run inside it."""
        ...


Filters = Callable[..., Any]  # memory.Filters(run_id=..., source_ids=..., kind=...)


@dataclass
class RunContext:
    """Everything a node may use; built by ``agents.run.runner`` for each session of a run."""

    models: ModelSource
    memory: MemoryPort
    fetcher: FetcherPort
    registry: RegistryPort
    extract: Callable[[FetchResult], Document]
    filters: Filters
    limits: Limits = field(default_factory=Limits)
    freshness_days: float = 7.0
    language: str = "en"
    clock: Clock = field(default_factory=lambda: Clock(30.0))
    memory_lock: threading.Lock = field(default_factory=threading.Lock)
    memo: MutableMapping[str, Any] = field(default_factory=dict)  # tool call -> output, kept per run
    run_dir: Path | None = None
    meta: dict[str, Any] = field(default_factory=dict)  # version, settings, models: for the manifest
    tokens_base: int = 0  # tokens the shared models had used before this session started
    usage_base: Mapping[str, Any] = field(default_factory=dict)  # per-role ``Usage`` at this session's start
    url_locks: dict[str, asyncio.Lock] = field(default_factory=dict)  # one reader per URL at a time
    entity_cache: dict[str, Any] = field(default_factory=dict)  # resolved entities by folded name
    writers: dict[str, Any] = field(default_factory=dict)  # group-commit writers by store (agents.reading)
    pace: Pace = field(default_factory=Pace)  # each model's measured speed and calls in flight (the budget gate)
    seconds: dict[str, float] = field(default_factory=dict)  # model seconds per role in this session
    refused: dict[str, int] = field(default_factory=dict)  # model calls the budget gate refused, by budget

    def url_lock(self, url: str) -> asyncio.Lock:
        """The lock that makes parallel agents read one URL once (the second finds it in memory)."""
        return self.url_locks.setdefault(url, asyncio.Lock())

    def starved(self, share: float = RESEARCH_SHARE) -> list[str]:
        """The budgets a model call must not exceed that have run out ("tokens", "time")."""
        return [name for name in self.exhausted(0, share) if name != "pages"]

    def out_of_tokens(self) -> bool:
        """Whether the whole token budget is spent (drafting and verifying stop here)."""
        return self.tokens() >= self.limits.max_tokens

    def model(self, role: str) -> ChatModel:
        """The chat model for one role."""
        return self.models.for_role(role)

    def session_usage(self) -> dict[str, Any]:
        """Calls and tokens per role in this session only (a shared model pool also counts other runs)."""
        out = {}
        for role, u in self.models.usage.items():
            base = self.usage_base.get(role)
            calls = u.calls - (base.calls if base else 0)
            prompt = u.prompt_tokens - (base.prompt_tokens if base else 0)
            completion = u.completion_tokens - (base.completion_tokens if base else 0)
            if calls or prompt or completion:
                out[role] = {"calls": calls, "prompt_tokens": prompt, "completion_tokens": completion,
                             "seconds": round(self.seconds.get(role, 0.0), 2)}
        return out

    def call_refusal(self, role: str, prompt_tokens: int, estimate_s: float | None, queued_s: float,
                     completion_tokens: float) -> str | None:
        """Why a model call of ``role`` must not start now ("time", "tokens"), or None when it fits.

        Research roles stop early enough for the drafting call to fit after them (``research_deadline_s``)
        and at ``RESEARCH_SHARE`` of the tokens; the drafter and the verifier may use the whole budget.
        """
        budget_s = self.clock.max_minutes * 60.0
        finishing = role in FINISHING_ROLES
        deadline = budget_s if finishing else research_deadline_s(budget_s, self.draft_estimate_s(), RESEARCH_SHARE)
        share = 1.0 if finishing else RESEARCH_SHARE
        return refusal(
            seconds_left=deadline - self.clock.elapsed_s(),
            estimate_s=estimate_s,
            queued_s=queued_s,
            tokens_left=int(self.limits.max_tokens * share) - self.tokens(),
            tokens_needed=prompt_tokens + completion_tokens,
        )

    def draft_estimate_s(self) -> float | None:
        """Seconds the drafting call (and the focused answer call before it, where the mode makes one) is expected
        to take on the drafter's model (None before its pace is known)."""
        name, cap = self._drafter()
        report = self.pace.estimate_s(name, int(self.pace.draft_prompt(name)),
                                      self.pace.expected_answer(name, "Report", cap))
        if report is None or not self.limits.answer_call:
            return report
        short = self.pace.expected_answer(name, "ShortAnswer", cap)
        return report + (self.pace.estimate_s(name, ANSWER_PROMPT, short) or 0.0)

    def draft_prompt_ceiling(self) -> int | None:
        """The longest drafting prompt whose call, with ``DRAFT_MARGIN``, ends inside the time budget.

        None before the drafter's pace is measured. When research ran late (a queued call that took longer
        than its estimate), the drafter reads fewer passages rather than overrunning or giving up the call.
        """
        name, cap = self._drafter()
        seconds_left = self.clock.max_minutes * 60.0 - self.clock.elapsed_s()
        answer = self.pace.expected_answer(name, "Report", cap)
        return self.pace.prompt_within(name, seconds_left / DRAFT_MARGIN, answer)

    def _drafter(self) -> tuple[str, int]:
        """The drafter's model name (its pace's key) and the most tokens one of its answers may take."""
        drafter = self.model("drafter")
        return str(getattr(drafter, "name", "drafter")), answer_tokens(drafter)

    def tokens(self) -> int:
        """Model tokens used so far in this session."""
        return tokens_used(self.models.usage) - self.tokens_base

    def exhausted(self, pages_fetched: int, share: float = RESEARCH_SHARE) -> list[str]:
        """Which budgets have run out (for research decisions: at ``RESEARCH_SHARE`` of tokens and time)."""
        return exhausted(self.limits, pages_fetched=pages_fetched, tokens=self.tokens(), clock=self.clock, share=share)

    def budget(self, pages_fetched: int, round_no: int) -> dict[str, Any]:
        """What is left of each budget (for events)."""
        return snapshot(
            self.limits, pages_fetched=pages_fetched, tokens=self.tokens(), clock=self.clock, round_no=round_no
        )


Rt = Runtime[RunContext]


async def ask(runtime: Rt, run_id: str, role: str, messages: list[dict[str, str]], schema: dict[str, Any]) -> Any:
    """One structured model call; a model that gives no valid answer yields None and a ``model_error`` event.

    The graph handles the failure where it happens (each node has a fallback that needs no model), so
    a weak or overloaded model degrades the report instead of crashing the run. Nodes pack their
    prompts to fit first (``agents.prompt_fit``); a prompt the backend still finds too long is the
    same outcome as no answer. So is a call the budget gate refuses: before each call the prompt is
    counted and the call's time estimated from the model's measured pace, and a call that would end
    past the role's share of the time budget, or spend more tokens than are left, is not made (a
    ``budget_skip`` event; the node takes its floor). Each call made is timed and counted per role
    (a ``model_call`` event).
    """
    ctx = runtime.context
    if role not in FINISHING_ROLES and not ctx.limits.research_calls:  # quick: the floors plan, search and note
        return None
    model = ctx.model(role)
    kind = str(schema.get("title", ""))
    name = str(getattr(model, "name", role))
    prompt = count_tokens(model, messages)
    expected = ctx.pace.expected_answer(name, kind, answer_tokens(model))
    estimate = ctx.pace.estimate_s(name, prompt, expected)
    why = ctx.call_refusal(role, prompt, estimate, ctx.pace.queued_s(name), expected)
    if why is not None:
        ctx.refused[why] = ctx.refused.get(why, 0) + 1
        emit(runtime, run_id, "budget_skip", role=role, schema=kind, budget=why, prompt_tokens=prompt,
             estimate_s=None if estimate is None else round(estimate, 1))
        return None
    started = time.monotonic()
    call_id = ctx.pace.start(name, estimate or 0.0, started)
    usage = (0, 0)

    def call() -> Any:
        nonlocal usage
        try:
            return model.complete(messages, schema=schema)
        finally:
            usage = model.last_usage  # per thread: this call's tokens, whatever other agents run

    try:
        return await asyncio.to_thread(call)
    except ModelDeclinedError:  # no model configured: the floor is the plan, not a failure
        return None
    except (StructuredOutputError, PromptTooLongError) as err:
        emit(runtime, run_id, "model_error", role=role, schema=kind, error=str(err))
        return None
    finally:
        ended = time.monotonic()
        seconds = ended - started  # this call's duration, its wait behind other agents' calls included
        ctx.pace.finish(name, call_id, kind, ended, *usage)
        if sum(usage):
            ctx.seconds[role] = ctx.seconds.get(role, 0.0) + seconds
            emit(runtime, run_id, "model_call", role=role, schema=kind, prompt_tokens=usage[0],
                 completion_tokens=usage[1], seconds=round(seconds, 2))


def emit(runtime: Rt, run_id: str, type: str, **data: Any) -> None:
    """Send one progress event through LangGraph's custom stream."""
    event: dict[str, Any] = {"type": type, "run_id": run_id, "ts": time.time()}
    event.update(data)
    runtime.stream_writer(event)
