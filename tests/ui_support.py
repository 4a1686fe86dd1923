"""Shared helpers for the browser-UI tests: a hostile sample report, realistic events, a scripted backend.

``StepBackend`` is a ``ui.web.worker.ResearchBackend`` (the worker's seam): it emits the events the
research graph emits, pauses for review with a plan, and on resume finishes with a report built from
the plan it was given — so tests can check that an edited plan reached the run.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agents.report import Citation, Contradiction, Reference, Report, Section, Sentence, Verification
from ui.web.worker import Emit, Outcome, RunRequest

HOSTILE_TITLE = '<script>alert("title")</script> Evil ![img](http://127.0.0.1:9/pixel.png)'
HOSTILE_TEXT = '[click me](javascript:alert(1)) <img src="http://127.0.0.1:9/x.png"> **bold** $x$'


def sample_plan() -> dict[str, Any]:
    """A plan as the planner emits it."""
    return {
        "brief": "Find out how perovskite cells degrade.",
        "outline": ["Degradation", "Mitigation"],
        "subquestions": [
            {"id": "s1", "question": "Why do perovskite cells degrade?", "queries": ["perovskite degradation"],
             "section": "Degradation", "round": 0},
            {"id": "s2", "question": "How is degradation mitigated?", "queries": ["encapsulation"],
             "section": "Mitigation", "round": 0},
        ],
    }


def sample_report(run_id: str = "r1", sections: list[str] | None = None,
                  question: str = "How do perovskite cells degrade?") -> Report:
    """A report with two sources (one hostile), citations with quotes and a contradiction."""
    refs = [
        Reference(n=1, source_id="src1", title="Perovskite stability review", url="http://127.0.0.1:1/a.html",
                  accessed="2026-11-22"),
        Reference(n=2, source_id="src2", title=HOSTILE_TITLE, url="javascript:alert(2)", accessed="2026-11-22"),
    ]
    titles = sections or ["Degradation", "Mitigation"]
    secs = [
        Section(title=titles[0], sentences=[
            Sentence(text="Moisture degrades the perovskite layer.", citations=[
                Citation(chunk_id="c1", ref=1, quote="Moisture ingress is the main degradation path.")]),
            Sentence(text=HOSTILE_TEXT, citations=[
                Citation(chunk_id="c2", ref=2, quote='<script>steal()</script> passage two')]),
        ]),
    ]
    secs += [Section(title=t, sentences=[Sentence(text=f"{t} is discussed.", citations=[
        Citation(chunk_id="c3", ref=1, quote="Encapsulation slows moisture ingress.")])]) for t in titles[1:]]
    return Report(
        run_id=run_id, question=question, title="Perovskite degradation",
        sections=secs, references=refs, verification=Verification(checked=3, supported=2, changed=1, removed=0),
        contradictions=[Contradiction(subject="Perovskite", relation="lifetime", objects=["5 years", "20 years"],
                                      source_ids=["src1", "src2"])],
        notes=["The page budget ran out after 4 pages; the report uses what was read."],
        created_at="2026-11-22T07:00:00Z",
    )


def sample_graph() -> dict[str, Any]:
    """graph.json as the publish step writes it."""
    return {
        "nodes": [{"id": "e1", "name": "Perovskite"}, {"id": "e2", "name": "5 years"},
                  {"id": "e3", "name": "20 years"}, {"id": "e4", "name": "Moisture"}],
        "edges": [
            {"id": "f1", "source": "e1", "target": "e2", "relation": "lifetime", "chunk_ids": ["c1"],
             "source_ids": ["src1"]},
            {"id": "f2", "source": "e1", "target": "e3", "relation": "lifetime", "chunk_ids": ["c2"],
             "source_ids": ["src2"]},
            {"id": "f3", "source": "e4", "target": "e1", "relation": "degrades", "chunk_ids": ["c1"],
             "source_ids": ["src1"]},
        ],
        "contradictions": [],
    }


def write_run(runs_dir: Path, report: Report, *, graph: bool = True) -> Path:
    """A published run folder: report.json, sources.json, graph.json, manifest.json."""
    folder = runs_dir / report.run_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(report.model_dump_json(), encoding="utf-8")
    sources = [
        {"url": "http://127.0.0.1:1/a.html", "status": "fetched", "source_id": "src1",
         "fetched_at": "2026-11-22T07:00:01Z", "title": "Perovskite stability review", "ref": 1},
        {"url": "javascript:alert(2)", "status": "fetched", "source_id": "src2",
         "fetched_at": "2026-11-22T07:00:02Z", "title": HOSTILE_TITLE, "ref": 2},
        {"url": "http://127.0.0.1:1/unused.html", "status": "fetched", "source_id": "src3",
         "fetched_at": "2026-11-22T07:00:03Z", "title": "Unused page", "ref": None},
    ]
    (folder / "sources.json").write_text(json.dumps(sources), encoding="utf-8")
    if graph:
        (folder / "graph.json").write_text(json.dumps(sample_graph()), encoding="utf-8")
    manifest = {"run_id": report.run_id, "question": report.question, "status": report.status}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def graph_events(run_id: str, plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The events the research graph emits up to the plan review."""
    t = time.time()
    return [
        {"type": "phase", "run_id": run_id, "ts": t, "phase": "plan"},
        {"type": "plan", "run_id": run_id, "ts": t + 0.1, "plan": plan, "tokens": 120},
    ]


def search_events(run_id: str, plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of the search, draft, verify and publish phases for the plan's sub-questions."""
    t = time.time()
    out: list[dict[str, Any]] = [{"type": "plan_approved", "run_id": run_id, "ts": t, "plan": plan},
                                 {"type": "phase", "run_id": run_id, "ts": t, "phase": "search"}]
    for sub in plan["subquestions"]:
        out += [
            {"type": "search_started", "run_id": run_id, "ts": t, "subquestion": sub["id"],
             "question": sub["question"]},
            {"type": "page", "run_id": run_id, "ts": t, "subquestion": sub["id"], "url": "http://127.0.0.1:1/a.html",
             "status": "fetched", "hop": 0},
            {"type": "search_done", "run_id": run_id, "ts": t, "subquestion": sub["id"], "pages": 1, "findings": 2,
             "budget": {"pages_left": 3, "tokens_left": 9000, "seconds_left": 100.0, "rounds_left": 1}},
        ]
    out += [{"type": "phase", "run_id": run_id, "ts": t, "phase": "draft"},
            {"type": "phase", "run_id": run_id, "ts": t, "phase": "verify"},
            {"type": "verified", "run_id": run_id, "ts": t, "tokens": 900},
            {"type": "phase", "run_id": run_id, "ts": t, "phase": "publish"},
            {"type": "report", "run_id": run_id, "ts": t, "status": "complete"}]
    return out


class StepBackend:
    """A scripted research backend: pauses for review, then reports on exactly the approved plan."""

    def __init__(self, runs_dir: Path | None = None, *, review: bool = True,
                 fail_with: Exception | None = None, gate: threading.Event | None = None,
                 delay: float = 0.0) -> None:
        self.runs_dir = runs_dir
        self.review = review
        self.fail_with = fail_with
        self.gate = gate  # when given, the search phase waits for it (to observe a running run)
        self.delay = delay  # seconds between events (a browser test watches the progress page move)
        self.approved: dict[str, dict[str, Any] | None] = {}
        self.requests: dict[str, RunRequest] = {}

    def start(self, run_id: str, request: RunRequest, emit: Emit, stopped: Callable[[], bool]) -> Outcome:
        """Plan, then pause (review) or go on."""
        self.requests[run_id] = request
        plan = sample_plan()
        for event in graph_events(run_id, plan):
            time.sleep(self.delay)
            emit(event)
        if self.fail_with is not None:
            raise self.fail_with
        if self.review and request.review:
            return Outcome(status="review", plan=plan)
        return self._finish(run_id, plan, emit, stopped)

    def resume(self, run_id: str, plan: dict[str, Any] | None, emit: Emit, stopped: Callable[[], bool]) -> Outcome:
        """Search, draft, verify and publish with the approved plan."""
        self.approved[run_id] = plan
        return self._finish(run_id, plan or sample_plan(), emit, stopped)

    def _finish(self, run_id: str, plan: dict[str, Any], emit: Emit, stopped: Callable[[], bool]) -> Outcome:
        for event in search_events(run_id, plan):
            if self.gate is not None and event["type"] == "search_done":
                while not self.gate.wait(0.01):
                    if stopped():
                        return Outcome(status="cancelled")
            time.sleep(self.delay)
            emit(event)
        request = self.requests.get(run_id)
        question = request.question if request else "How do perovskite cells degrade?"
        report = sample_report(run_id, [s for s in plan.get("outline", [])] or None, question=question)
        if self.runs_dir is not None:
            write_run(self.runs_dir, report)
        return Outcome(status="complete", report=report)
