"""The browser's live-progress view of a run, folded from the same events as the terminal display.

Guarantees: ``fold(events)`` is a pure function of the event list; the counters, sub-questions and
budget come from ``ui.progress.ProgressState`` (the terminal's fold too, so both UIs agree); on top of it this
module groups the one-line descriptions by phase and by sub-question and keeps the pages seen. Lines
are plain text, for ``st.text`` (never Markdown or HTML).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ui.progress import ProgressState

PHASE_LABELS = {
    "start": "Run started",
    "plan": "Planning",
    "search": "Searching and reading",
    "graph": "Knowledge graph",
    "draft": "Drafting",
    "verify": "Verifying citations",
    "publish": "Publishing",
}


@dataclass
class PhaseLog:
    """One phase: when it started and the lines that belong to it."""

    name: str
    started: float
    lines: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The phase's human name."""
        return PHASE_LABELS.get(self.name, self.name.replace("_", " ").capitalize())


@dataclass
class LiveView:
    """Everything the progress page draws."""

    state: ProgressState = field(default_factory=ProgressState)
    phases: list[PhaseLog] = field(default_factory=list)
    sub_lines: dict[str, list[str]] = field(default_factory=dict)
    pages: list[dict[str, Any]] = field(default_factory=list)
    plan: dict[str, Any] | None = None

    @property
    def phase_label(self) -> str:
        """The current phase's name, or a dash before the first."""
        return self.phases[-1].label if self.phases else "—"


def fold(events: list[dict[str, Any]]) -> LiveView:
    """Build the live view from the run's events, in order."""
    view = LiveView()
    for event in events:
        kind = str(event.get("type", ""))
        line = view.state.apply(event)
        if kind == "phase" or (kind == "search_started" and (not view.phases or view.phases[-1].name != "search")):
            name = str(event.get("phase", "search"))
            if not view.phases or view.phases[-1].name != name:
                view.phases.append(PhaseLog(name=name, started=float(event.get("ts") or 0.0)))
            continue
        if isinstance(event.get("plan"), dict):
            view.plan = event["plan"]
            _edited_subs(view.state, view.plan, replace=kind == "plan_approved")
        if kind == "page":
            view.pages.append({k: event.get(k) for k in ("url", "status", "error") if k in event})
        if not view.phases:
            view.phases.append(PhaseLog(name="start", started=float(event.get("ts") or 0.0)))
        view.phases[-1].lines.append(line)
        sub = event.get("subquestion")
        if isinstance(sub, str) and sub:
            view.sub_lines.setdefault(sub, []).append(line)
    return view


def _edited_subs(state: ProgressState, plan: dict[str, Any], *, replace: bool) -> None:
    # After a review the approved plan's wording wins (the terminal fold keeps the first wording),
    # and sub-questions the user removed before any search started leave the list.
    keep = {str(s.get("id")) for s in plan.get("subquestions", []) if isinstance(s, dict)}
    if replace:
        for sid in [k for k, v in state.subs.items() if k not in keep and v.state == "waiting"]:
            del state.subs[sid]
    for sub in plan.get("subquestions", []):
        if isinstance(sub, dict) and sub.get("id"):
            state._sub(str(sub["id"]), "").question = str(sub.get("question", ""))
