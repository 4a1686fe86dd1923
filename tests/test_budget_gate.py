"""The budget gate before every model call: pace arithmetic, and a slow model's run that ends inside its budget."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.llm.testing import ScriptedChatModel
from agents.run.pace import (
    CONTEXT_SLOWDOWN,
    DRAFT_MARGIN,
    DRAFT_PROMPT,
    FIRST_ANSWER,
    WRITE_COST,
    Pace,
    call_work,
    prompt_fitting,
    refusal,
    research_deadline_s,
)
from tests.research_brain import Brain
from tests.research_harness import build_parts, build_runner, small_options


def test_a_calls_work_is_its_tokens_costlier_the_longer_its_context() -> None:
    assert call_work(1000, 0) == 1000 * (1 + 1000 / CONTEXT_SLOWDOWN)
    assert call_work(0, 100) == WRITE_COST * 100 * (1 + 100 / CONTEXT_SLOWDOWN)  # a written token costs more
    # a drafting call four times a findings call's prompt is more than four times its reading work
    assert call_work(3200, 0) > 4 * call_work(800, 0)


def test_the_longest_prompt_that_fits_a_time() -> None:
    speed = 100.0  # work units a second
    p = prompt_fitting(60.0, speed, 300)
    assert call_work(p, 300) <= 6000.0 < call_work(p + 1, 300)
    assert prompt_fitting(10.0, speed, 300) == 0  # the answer alone takes longer than 10 s
    assert prompt_fitting(-5.0, speed, 0) == 0


def test_pace_learns_a_models_speed_and_each_answer_kinds_length() -> None:
    pace = Pace()
    assert pace.estimate_s("m", 1000, 100) is None  # nothing measured: no estimate, the first call runs
    assert pace.prompt_within("m", 60.0, 100) is None
    assert pace.expected_answer("m", "Plan", cap=1024) == FIRST_ANSWER
    assert pace.expected_answer("m", "Plan", cap=64) == 64  # never more than the call may write
    call = pace.start("m", 0.0, now=10.0)
    pace.finish("m", call, "Plan", now=12.0, prompt_tokens=1000, completion_tokens=100)
    speed = call_work(1000, 100) / 2.0  # the call's work in 2 s
    assert pace.estimate_s("m", 500, 50) == call_work(500, 50) / speed
    assert pace.expected_answer("m", "Plan", cap=1024) == 100
    assert pace.prompt_within("m", 2.0, 100) == 1000  # the same call again fits the same time
    call = pace.start("m", 0.0, now=20.0)  # the idle time between calls is not the model's
    pace.finish("m", call, "Plan", now=22.0, prompt_tokens=0, completion_tokens=200)
    speed = (call_work(1000, 100) + call_work(0, 200)) / 4.0  # in 4 busy seconds, not 12
    assert pace.estimate_s("m", 1000, 100) == call_work(1000, 100) / speed
    assert pace.expected_answer("m", "Plan", cap=1024) == 150  # a running estimate, not the last call alone
    assert pace.estimate_s("other", 10, 10) is None  # speeds are per model
    busy = pace.start("m", 3.0, now=30.0)  # a call queued on the model leaves 3 s less for the next
    assert pace.prompt_within("m", 5.0, 100) == prompt_fitting(2.0, speed, 100)
    pace.finish("m", busy, "Plan", now=31.0, prompt_tokens=0, completion_tokens=0)


def test_calls_queued_on_one_model_measure_its_busy_time_not_their_waits() -> None:
    pace = Pace()
    first, second = pace.start("m", 3.0, now=0.0), pace.start("m", 4.5, now=0.0)
    assert pace.queued_s("m") == 7.5
    # served one after the other: the first ends at 2 s, the second (which waited) at 4 s
    pace.finish("m", first, "Findings", now=2.0, prompt_tokens=1000, completion_tokens=100)
    pace.finish("m", second, "Findings", now=4.0, prompt_tokens=1000, completion_tokens=100)
    assert pace.queued_s("m") == 0.0
    assert pace.estimate_s("m", 1000, 100) == 2.0  # two such calls in 4 busy seconds, not in 2 + 4 = 6


def test_a_declined_call_teaches_no_speed() -> None:
    pace = Pace()
    pace.finish("m", pace.start("m", 0.0, now=0.0), "Plan", now=0.5, prompt_tokens=0, completion_tokens=0)
    assert pace.estimate_s("m", 10, 1) is None and pace.queued_s("m") == 0.0


def test_refusal_names_the_budget_a_call_would_break() -> None:
    def why(seconds_left: float = 10.0, estimate_s: float | None = 4.0, queued_s: float = 5.0,
            tokens_needed: float = 400) -> str | None:
        return refusal(seconds_left=seconds_left, estimate_s=estimate_s, queued_s=queued_s, tokens_left=500,
                       tokens_needed=tokens_needed)

    assert why() is None
    assert why(queued_s=6.5) == "time"  # it would end after the calls queued before it
    assert why(tokens_needed=600) == "tokens"
    assert why(seconds_left=0.0, estimate_s=None) == "time"  # a spent budget refuses even a first call
    assert why(estimate_s=None, queued_s=60.0) is None  # no estimate yet: the call runs


def test_research_stops_early_enough_for_the_drafting_call() -> None:
    assert research_deadline_s(180.0, None, share=0.75) == 135.0  # no pace yet: the research share
    assert research_deadline_s(180.0, 60.0, share=0.75) == 180.0 - 60.0 * DRAFT_MARGIN  # with a margin
    assert research_deadline_s(1800.0, 60.0, share=0.75) == 1620.0  # a long budget keeps a tenth free
    assert research_deadline_s(60.0, 60.0, share=0.75) < 0  # drafting alone overruns: research calls no model
    assert Pace().expected_answer("m", "Report", cap=1024) > FIRST_ANSWER  # the whole report is a long answer
    pace = Pace()
    pace.finish("m", pace.start("m", 0.0, now=0.0), "Findings", now=1.0, prompt_tokens=1000, completion_tokens=50)
    assert pace.draft_prompt("m") == DRAFT_PROMPT  # a findings call reads one agent's pages: no predictor
    pace.finish("m", pace.start("m", 0.0, now=2.0), "Report", now=3.0, prompt_tokens=2400, completion_tokens=300)
    assert pace.draft_prompt("m") == 2400  # measured


class SlowBrain(Brain):
    """The research brain behind a slow model that serves one call at a time.

    A call takes as long as its work at ``rate`` prompt words a second, a written word costing ``WRITE_COST``
    read ones (the scripted model counts words as tokens), as a real model's time grows with its tokens.
    """

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = rate
        self.busy = threading.Lock()

    def __call__(self, messages: Sequence[dict[str, str]], schema: Any) -> Any:
        with self.busy:
            answer = super().__call__(messages, schema)
            read = sum(len(m["content"].split()) for m in messages)
            time.sleep((read + WRITE_COST * len(json.dumps(answer).split())) / self.rate)
            return answer


def test_a_slow_models_run_with_a_20_second_budget_ends_inside_it_with_a_cited_report(
    tmp_path: Path, fixture_web: Any
) -> None:
    # Ungated, this run's plan, findings calls and report take about 25 s at this pace, its judge calls more.
    brain = SlowBrain(rate=500.0)
    parts = build_parts(tmp_path, fixture_web.base_url, ScriptedChatModel(default=brain))
    runner = build_runner(tmp_path, parts)
    started = time.monotonic()
    try:
        events = list(runner.stream("How do perovskite solar cells work?", small_options(max_minutes=20 / 60)))
    finally:
        runner.close()
    elapsed = time.monotonic() - started
    final = events[-1]
    assert final["type"] == "run_finished" and final["status"] == "budget_exhausted", final
    skipped = [e for e in events if e["type"] == "budget_skip"]
    assert skipped and {e["budget"] for e in skipped} == {"time"}
    made = [e for e in events if e["type"] == "model_call"]
    # research yields to drafting: the findings calls that would eat the drafting call's reserve are not made
    assert {e["schema"] for e in made} >= {"Plan", "Report"} and "Findings" in {e["schema"] for e in skipped}
    assert elapsed <= 25.0, (elapsed, [(e["role"], e["schema"]) for e in made])  # the budget plus publishing
    folder = tmp_path / "runs" / final["run_id"]
    report = json.loads((folder / "report.json").read_text())
    cited = [c for s in report["sections"] for sent in s["sentences"] for c in sent["citations"]]
    assert cited, "the floor still wrote a cited report"
    assert any("time budget" in note and "model-free floor" in note for note in report["notes"])
    manifest = json.loads((folder / "manifest.json").read_text())
    per_role = manifest["tokens"]
    assert sum(u["calls"] for u in per_role.values()) == len(made)
    assert all(u["seconds"] > 0 for u in per_role.values())
