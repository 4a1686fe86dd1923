"""The progress sinks: JSON lines are valid JSON, the plain log has one line per event, the live
display renders the state (sub-questions, pages, tokens, budget left), and untrusted text is
never interpreted as rich markup."""

from __future__ import annotations

import io
import json
from typing import Any

from rich.console import Console

from ui.cli.progress import LiveProgress, make_progress
from ui.progress import ProgressState, clock

RUN = "r-1"


def events() -> list[dict[str, Any]]:
    def ev(kind: str, **data: Any) -> dict[str, Any]:
        return {"type": kind, "run_id": RUN, "ts": 1.0, **data}

    plan = {"brief": "b", "outline": ["A", "B"], "subquestions": [
        {"id": "sq1", "question": "What is [bold red]COP[/]?", "queries": ["cop"], "section": "A", "round": 0},
        {"id": "sq2", "question": "Defrost losses?", "queries": ["defrost"], "section": "B", "round": 0},
    ]}
    return [
        ev("phase", phase="plan"), ev("plan", plan=plan, tokens=120),
        ev("search_started", subquestion="sq1", question="What is [bold red]COP[/]?"),
        ev("page", subquestion="sq1", url="http://127.0.0.1/a", status="fetched", hop=0),
        ev("page", subquestion="sq1", url="http://127.0.0.1/b", status="failed", error="HTTP 500", hop=0),
        ev("search_done", subquestion="sq1", pages=1, findings=2, tokens=900),
        ev("phase", phase="graph"), ev("graph", facts=5, new_facts=5, gaps=[], contradictions=1, tokens=1200),
        ev("phase", phase="draft"), ev("section_drafted", section="A", sentences=3, tokens=2000),
        ev("phase", phase="verify"), ev("verified", checked=3, supported=2, changed=1, removed=0, tokens=2500),
        ev("phase", phase="publish"), ev("report", status="complete", sections=1, references=1, folder="/x"),
        ev("custom_thing", value={"nested": [1, 2]}),
    ]


def test_json_lines_are_valid_json() -> None:
    out = io.StringIO()
    sink = make_progress("json", stream=out)
    for e in events():
        sink(e)
    sink.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == len(events())
    parsed = [json.loads(line) for line in lines]
    assert parsed == events()


def test_state_folds_events() -> None:
    state = ProgressState(limits={"max_pages": 10, "max_tokens": 5000, "max_minutes": 1})
    for e in events():
        state.apply(e)
    assert state.phase == "publish" and state.status == "complete"
    assert state.pages_fetched == 1 and state.pages_failed == 1 and state.tokens == 2500 and state.facts == 5
    assert state.subs["sq1"].state == "done" and state.subs["sq1"].findings == 2
    assert state.subs["sq2"].state == "waiting"
    left = state.budget_left()
    assert left["pages"] == "9" and left["tokens"] == "2,500" and left["time"] in ("01:00", "00:59")
    state.apply({"type": "budget", "run_id": RUN, "ts": 2.0, "budget": {"pages_left": 3, "tokens_left": 7,
                                                                      "seconds_left": 61}})
    assert state.budget_left() == {"pages": "3", "tokens": "7", "time": "01:01"}


def test_plain_log_one_line_per_event() -> None:
    out = io.StringIO()
    sink = make_progress("auto", stream=out)  # StringIO is not a terminal: plain log
    for e in events():
        sink(e)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(events())
    assert all(line.startswith("[00:0") for line in lines)
    assert any("page failed: http://127.0.0.1/b (HTTP 500)" in line for line in lines)
    assert any("verified 3 claims: 2 supported, 1 changed, 0 removed" in line for line in lines)
    assert lines[-1].endswith('custom thing: value={"nested": [1, 2]}')


def test_quiet_prints_nothing() -> None:
    out = io.StringIO()
    sink = make_progress("quiet", stream=out)
    for e in events():
        sink(e)
    sink.close()
    assert out.getvalue() == "" and sink.state.status == "complete"


def test_live_display_renders_state_without_markup() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, color_system=None)
    sink = make_progress("rich", stream=out, console=console,
                         state=ProgressState(limits={"max_pages": 10, "max_tokens": 5000, "max_minutes": 30}))
    assert isinstance(sink, LiveProgress)
    for e in events():
        sink(e)
    sink.close()
    frame = out.getvalue()
    assert "What is [bold red]COP[/]?" in frame  # shown literally, not styled
    assert "Defrost losses?" in frame and "pages 1 (failed 1)" in frame and "tokens 2,500" in frame
    assert "left: 9 pages, 2,500 tokens" in frame


def test_clock() -> None:
    assert clock(5) == "00:05" and clock(65) == "01:05" and clock(3725) == "1:02:05"
