"""A run's cost from its events: per phase and role, summed over sessions, each session listed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agents.run import cost


def ev(ts: float, type: str, **data: Any) -> dict[str, Any]:
    return {"type": type, "run_id": "r", "ts": ts, **data}


def call(ts: float, role: str, prompt: int, completion: int, seconds: float | None = 1.0) -> dict[str, Any]:
    data: dict[str, Any] = {"role": role, "prompt_tokens": prompt, "completion_tokens": completion}
    if seconds is not None:
        data["seconds"] = seconds
    return ev(ts, "model_call", **data)


KILLED = [  # killed while drafting: no closing event
    ev(100, "run_started"), ev(100, "phase", phase="plan"), call(110, "planner", 700, 150, 10.0),
    ev(110, "search_started"), call(150, "searcher", 1500, 200, 30.0), ev(155, "search_started"),
    call(170, "searcher", 1400, 180, 15.0), ev(180, "phase", phase="draft"), ev(200, "pages"),
]
RESUMED = [
    ev(1000, "run_resumed"), ev(1001, "phase", phase="draft"), call(1050, "drafter", 3000, 400, 49.0),
    ev(1050, "phase", phase="verify"), ev(1052, "budget_skip", role="verifier", budget="time"),
    call(1060, "verifier", 600, 20, None), ev(1061, "phase", phase="publish"), ev(1062, "report"),
    ev(1063, "run_finished", status="complete"),
]


def test_one_killed_session_is_timed_to_its_last_event() -> None:
    one = cost.session_cost(KILLED)
    assert (one["kind"], one["status"], one["wall_s"]) == ("started", "interrupted", 100.0)
    assert one["phases"]["plan"] == {"seconds": 10.0, "calls": 1, "prompt_tokens": 700, "completion_tokens": 150}
    assert one["phases"]["search"]["seconds"] == 70.0 and one["phases"]["search"]["calls"] == 2
    assert one["phases"]["draft"] == {"seconds": 20.0, "calls": 0, "prompt_tokens": 0, "completion_tokens": 0}
    assert one["roles"]["searcher"] == {"seconds": 45.0, "calls": 2, "prompt_tokens": 2900, "completion_tokens": 380}
    assert (one["calls"], one["prompt_tokens"], one["model_s"]) == (3, 3600, 55.0)


def test_a_resumed_run_sums_its_sessions_and_lists_each() -> None:
    run = cost.run_cost(KILLED + RESUMED)
    assert [s["kind"] for s in run["sessions"]] == ["started", "resumed"]
    assert [s["status"] for s in run["sessions"]] == ["interrupted", "complete"]
    assert run["calls"] == 5 and run["prompt_tokens"] == 3600 + 3600 and run["completion_tokens"] == 950
    assert run["wall_s"] == 163.0 and run["skipped_calls"] == 1
    assert run["phases"]["draft"]["seconds"] == 20.0 + 49.0 and run["phases"]["draft"]["calls"] == 1
    assert run["roles"]["verifier"] == {"seconds": 0.0, "calls": 1, "prompt_tokens": 600, "completion_tokens": 20}
    assert list(run["phases"]) == ["plan", "search", "draft", "verify", "publish"]


def test_calls_before_any_phase_and_events_without_a_session_start() -> None:
    run = cost.run_cost([call(5, "searcher", 10, 2), ev(6, "phase", phase="graph"), call(9, "extractor", 5, 1)])
    assert run["phases"]["start"]["calls"] == 1 and run["phases"]["graph"]["calls"] == 1
    assert len(run["sessions"]) == 1 and cost.run_cost([])["calls"] == 0


def test_usage_fills_in_when_no_call_was_logged() -> None:
    usage: dict[str, dict[str, Any]] = {"drafter": {"calls": 2, "prompt_tokens": 900, "completion_tokens": 100},
             "verifier": {"calls": 1, "prompt_tokens": 300, "completion_tokens": 10, "seconds": 2.5}}
    filled = cost.with_usage(cost.run_cost([ev(1, "run_started"), ev(9, "run_finished", status="complete")]), usage)
    assert (filled["calls"], filled["prompt_tokens"], filled["model_s"]) == (3, 1200, 2.5)
    assert filled["roles"]["drafter"]["seconds"] == 0.0
    declined = cost.with_usage(cost.run_cost([]), {"planner": {"calls": 3, "prompt_tokens": 0, "completion_tokens": 0}})
    assert declined["calls"] == 0 and declined["roles"] == {}
    logged = cost.run_cost(RESUMED)
    assert cost.with_usage(logged, usage) is logged


def test_read_events_skips_torn_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    torn = "{\"type\": \"pha\n[1]\n"
    path.write_text(json.dumps(KILLED[0]) + "\n" + torn + json.dumps(KILLED[1]) + "\n", encoding="utf-8")
    assert [e["type"] for e in cost.read_events(path)] == ["run_started", "phase"]
    assert cost.read_events(tmp_path / "missing.jsonl") == []


def test_the_summary_line() -> None:
    assert cost.summary_line({"calls": 14, "prompt_tokens": 17_000, "completion_tokens": 2_100, "wall_s": 220}) == \
        "14 model calls, 19k tokens, 3 m 40 s"
    assert cost.summary_line({"calls": 1, "prompt_tokens": 800, "completion_tokens": 0, "wall_s": 42.4}) == \
        "1 model call, 800 tokens, 42 s"
    run = cost.run_cost(KILLED + RESUMED)
    assert cost.summary_line(run) == "5 model calls, 8.2k tokens, 2 m 43 s over 2 sessions"
    assert cost.duration(3900) == "1 h 5 m"


def test_brief_and_means() -> None:
    a, b = cost.run_cost(KILLED), cost.run_cost(RESUMED)
    assert cost.brief(a)["sessions"] == 1 and "phases" in cost.brief(a)
    mean = cost.mean_cost([a, b])
    assert mean["calls"] == 2.5 and mean["phases"]["plan"]["seconds"] == 5.0
    assert mean["roles"]["drafter"]["prompt_tokens"] == 1500.0 and cost.mean_cost([]) == {}
