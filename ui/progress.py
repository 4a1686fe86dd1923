"""Progress of a research run, folded from the graph's event stream: what both UIs show.

One ``ProgressState`` folds events (``{"type", "run_id", "ts", ...}``) into what a user wants to
see: the phase, each sub-question, pages fetched, tokens, budget left and elapsed time, and a
one-line description of each event. It is pure bookkeeping (no rendering): the terminal's sinks
(``ui.cli.progress``) and the browser's live view (``ui.web.live``) both render this one fold, so
the two UIs agree.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

PHASES: tuple[str, ...] = ("plan", "search", "graph", "draft", "verify", "publish")


@dataclass
class SubQuestionProgress:
    """One sub-question's search, as far as the events tell."""

    id: str
    question: str
    state: str = "waiting"  # waiting | searching | done
    pages: int = 0
    findings: int = 0


@dataclass
class ProgressState:
    """Everything the displays show, folded from events."""

    limits: dict[str, Any] = field(default_factory=dict)  # max_pages, max_tokens, max_minutes
    run_id: str = ""
    question: str = ""
    phase: str = "start"
    started: float = field(default_factory=time.monotonic)
    subs: dict[str, SubQuestionProgress] = field(default_factory=dict)
    pages_fetched: int = 0
    pages_failed: int = 0
    tokens: int = 0
    facts: int = 0
    sections: int = 0
    budget: dict[str, Any] = field(default_factory=dict)
    status: str = ""
    last: str = ""

    def elapsed_s(self) -> float:
        """Seconds since the display started."""
        return time.monotonic() - self.started

    def apply(self, event: dict[str, Any]) -> str:
        """Fold one event in; returns its one-line description."""
        kind = str(event.get("type", "event"))
        self.run_id = str(event.get("run_id") or self.run_id)
        if isinstance(event.get("tokens"), (int, float)):
            self.tokens = max(self.tokens, int(event["tokens"]))
        if isinstance(event.get("budget"), dict):
            self.budget = dict(event["budget"])
        handler = getattr(self, f"_on_{kind}", None)
        line = handler(event) if handler else _generic(kind, event)
        self.last = line
        return line

    def _on_phase(self, e: dict[str, Any]) -> str:
        self.phase = str(e.get("phase", self.phase))
        return f"phase: {self.phase}"

    def _on_run_started(self, e: dict[str, Any]) -> str:
        self.question = str(e.get("question") or self.question)
        return f"run {self.run_id} started: {self.question}"

    def _on_plan(self, e: dict[str, Any]) -> str:
        plan = e.get("plan") or {}
        for sub in plan.get("subquestions", []):
            self._sub(sub.get("id", ""), sub.get("question", ""))
        return f"plan: {len(plan.get('outline', []))} sections, {len(plan.get('subquestions', []))} sub-questions"

    def _on_search_started(self, e: dict[str, Any]) -> str:
        self.phase = "search"
        sub = self._sub(str(e.get("subquestion", "")), str(e.get("question", "")))
        sub.state = "searching"
        return f"searching [{sub.id}] {sub.question}"

    def _on_page(self, e: dict[str, Any]) -> str:
        status = str(e.get("status", ""))
        sub = self._sub(str(e.get("subquestion", "")), "")
        if status == "fetched":
            self.pages_fetched += 1
            sub.pages += 1
        elif status in ("failed", "refused"):
            self.pages_failed += 1
        error = f" ({e['error']})" if e.get("error") else ""
        return f"page {status}: {e.get('url', '')}{error}"

    def _on_search_done(self, e: dict[str, Any]) -> str:
        sub = self._sub(str(e.get("subquestion", "")), "")
        sub.state, sub.findings = "done", int(e.get("findings", sub.findings))
        return f"done [{sub.id}]: {e.get('pages', sub.pages)} pages, {sub.findings} findings"

    def _on_graph(self, e: dict[str, Any]) -> str:
        self.facts = int(e.get("facts", self.facts))
        return f"knowledge graph: {self.facts} facts, {e.get('contradictions', 0)} contradictions"

    def _on_followups(self, e: dict[str, Any]) -> str:
        questions = e.get("subquestions", [])
        return f"round {e.get('round', '?')}: {len(questions)} follow-up sub-questions"

    def _on_section_drafted(self, e: dict[str, Any]) -> str:
        self.sections += 1
        return f"drafted section: {e.get('section', '')} ({e.get('sentences', 0)} sentences)"

    def _on_verified(self, e: dict[str, Any]) -> str:
        return (f"verified {e.get('checked', 0)} claims: {e.get('supported', 0)} supported, "
                f"{e.get('changed', 0)} changed, {e.get('removed', 0)} removed")

    def _on_tool_call(self, e: dict[str, Any]) -> str:
        args = e.get("arguments") or {}
        what = args.get("query") or args.get("url") or _short(args)
        return f"tool {e.get('tool', '?')} [{e.get('subquestion', '')}] {what}: {e.get('outcome', '')}"

    def _on_finding(self, e: dict[str, Any]) -> str:
        sub = self._sub(str(e.get("subquestion", "")), "")
        return f"finding [{sub.id}]: {_short(str(e.get('text', '')))}"

    def _on_run_finished(self, e: dict[str, Any]) -> str:
        self.status = str(e.get("status", self.status))
        return f"run {self.run_id} finished: {self.status}"

    def _on_run_failed(self, e: dict[str, Any]) -> str:
        self.status = "failed"
        return f"run {self.run_id} failed: {e.get('error', '')}"

    def _on_run_paused(self, e: dict[str, Any]) -> str:
        self.status = "paused"
        return f"run {self.run_id} paused for plan review"

    def _on_run_resumed(self, e: dict[str, Any]) -> str:
        return f"run {self.run_id} resumed"

    def _on_report(self, e: dict[str, Any]) -> str:
        self.status = str(e.get("status", ""))
        return f"report {self.status}: {e.get('sections', 0)} sections, {e.get('references', 0)} references"

    def _sub(self, sub_id: str, question: str) -> SubQuestionProgress:
        sub = self.subs.get(sub_id)
        if sub is None:
            sub = self.subs[sub_id] = SubQuestionProgress(sub_id, question)
        elif question and not sub.question:
            sub.question = question
        return sub

    def budget_left(self) -> dict[str, str]:
        """Pages, tokens and time left, from the last budget snapshot or the limits and counters."""
        b, lim = self.budget, self.limits
        pages = b.get("pages_left", lim["max_pages"] - self.pages_fetched if "max_pages" in lim else None)
        tokens = b.get("tokens_left", lim["max_tokens"] - self.tokens if "max_tokens" in lim else None)
        secs = b.get("seconds_left", lim["max_minutes"] * 60 - self.elapsed_s() if "max_minutes" in lim else None)
        return {
            "pages": "?" if pages is None else str(max(0, int(pages))),
            "tokens": "?" if tokens is None else f"{max(0, int(tokens)):,}",
            "time": "?" if secs is None else clock(max(0.0, float(secs))),
        }


def _generic(kind: str, e: dict[str, Any]) -> str:
    details = ", ".join(f"{k}={_short(v)}" for k, v in e.items() if k not in ("type", "run_id", "ts"))
    return f"{kind.replace('_', ' ')}: {details}" if details else kind.replace("_", " ")


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:59] + "…"


def clock(seconds: float) -> str:
    """``mm:ss`` (or ``h:mm:ss``)."""
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"
