"""The call structure: which decisions get a model call of their own, in the lean default and the deep one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agents.llm.testing import ScriptedChatModel
from tests.research_brain import Brain
from tests.research_harness import build_parts, build_runner, small_options

DEEP = {"model_tools": True, "model_picks": True, "graph_calls": True, "one_call_draft": False, "judge": True}


def _run(home: Path, web: Any, brain: Brain, **limits: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    runner = build_runner(home, build_parts(home, web.base_url, ScriptedChatModel(default=brain)))
    try:
        events = list(runner.stream("How do perovskite solar cells work?", small_options(**limits)))
    finally:
        runner.close()
    folder = home / "runs" / events[-1]["run_id"]
    return events, json.loads((folder / "report.json").read_text())


def test_the_lean_structure_plans_notes_each_agents_pages_once_and_drafts_in_one_call(
    tmp_path: Path, fixture_web: Any
) -> None:
    brain = Brain()
    events, report = _run(tmp_path, fixture_web, brain)
    searches = [e for e in events if e["type"] == "search_started"]
    assert brain.calls["Plan"] == 1 and brain.calls["Report"] == 1
    assert brain.calls["Findings"] == len(searches)  # one call per search agent: findings and graph facts
    assert not {"ToolCalls", "Picks", "GraphFacts", "Section", "Answer"} & set(brain.calls)
    graph = [e for e in events if e["type"] == "graph"]
    assert graph and graph[-1]["facts"] > 0  # the graph has the facts the search agents wrote
    assert report["answer"]["sentences"] and all(s["sentences"] for s in report["sections"])
    made = [e for e in events if e["type"] == "model_call"]
    assert len(made) == sum(brain.calls.values())  # every call is timed and counted


def test_the_deep_structure_gives_each_decision_its_own_call(tmp_path: Path, fixture_web: Any) -> None:
    brain = Brain(judge="supported")
    events, report = _run(tmp_path, fixture_web, brain, **DEEP)
    assert {"Plan", "ToolCalls", "Picks", "Findings", "GraphFacts", "Section", "Answer"} <= set(brain.calls)
    assert "Report" not in brain.calls
    sections = [e for e in events if e["type"] == "section_drafted"]
    assert brain.calls["Section"] == len([e for e in sections if e["sentences"]])  # one call a section
    assert report["status"] == "complete" and report["references"]


def test_quick_makes_one_model_call_the_drafting_one(tmp_path: Path, fixture_web: Any) -> None:
    from agents.run import modes

    brain = Brain(judge="remove")  # a judge that removed everything would show in the report: it is never asked
    events, report = _run(tmp_path, fixture_web, brain, **modes.preset("quick"))
    assert brain.calls == {"Report": 1}  # the floors plan, search and note; the model writes the report
    assert [e["type"] for e in events].count("search_started") >= 1
    assert report["answer"]["sentences"] and report["references"]
    assert not [e for e in events if e["type"] == "budget_skip"]  # declined by design, not by the budget


def test_the_bridge_names_of_the_second_hop_are_read_back_from_its_searches() -> None:
    from agents.kg import hop_names

    question = "Which band released Counterparts?"
    state: Any = {"question": question, "searches": [
        {"question": f"Rush — {question}"},
        {"question": "Who drummed for Rush?"},
        {"question": f"Neil Peart — {question}"},
    ]}
    assert hop_names(state) == ["Rush", "Neil Peart"]


def test_the_report_schema_bounds_each_section_by_the_length() -> None:
    from agents.drafter import report_schema

    def most(length: str) -> tuple[int, int]:
        props = report_schema(["c1"], ["A", "B"], length=length)["properties"]
        return props["sections"]["items"]["properties"]["sentences"]["maxItems"], props["sentences"]["maxItems"]

    assert most("short") == (2, 2) and most("standard") == (4, 3) and most("long") == (8, 3)


def test_standard_asks_for_the_short_answer_from_the_best_passages_alone_before_the_report(
    tmp_path: Path, fixture_web: Any
) -> None:
    from agents.drafter import ANSWER_PASSAGES
    from agents.run import modes
    from agents.run.pace import ANSWER_PROMPT
    from tests.research_brain import PASSAGE

    prompts: list[str] = []

    class Recording(Brain):
        def _shortanswer(self, messages: Any, schema: Any) -> Any:
            prompts.append(messages[-1]["content"])
            return {"answer": "Oxford PV"}

    brain = Recording()
    events, report = _run(tmp_path, fixture_web, brain, **modes.preset("standard"))
    assert brain.calls["ShortAnswer"] == 1 and brain.calls["Report"] == 1
    order = [e["schema"] for e in events if e["type"] == "model_call"]
    assert order.index("ShortAnswer") < order.index("Report")  # the answer first: it is what the budget guards
    shown = PASSAGE.findall(prompts[0])
    assert 1 <= len(shown) <= ANSWER_PASSAGES
    assert sum(len(text.split()) for _id, text in shown) < ANSWER_PROMPT  # a short prompt (words < tokens)
    assert report["answer"]["sentences"]
    said = [e for e in events if e["type"] == "short_answer"]
    assert [(e["text"], e["used"]) for e in said] == [("Oxford PV", True)] and said[0]["chunk_ids"]


def test_a_focused_answer_that_restates_the_question_gives_way_to_the_reports() -> None:
    from agents.drafter import usable_answer

    zaroff = "What was Richard Connell's best known work The Hounds of Zaroff also published as?"
    assert usable_answer(zaroff, " The  Hounds of Zaroff ") == ""
    assert usable_answer(zaroff, "The Most  Dangerous Game") == "The Most Dangerous Game"
    assert usable_answer("Who was born first, Ada Moss or Bo Lind?", "Bo Lind") == "Bo Lind"  # an option
    assert usable_answer(zaroff, "") == ""
    # the initials of a name the question states restate it too (the 1.5B answered "AIU", gold Bangalore University)
    college = "Visvesvaraya College has an affiliation with what member of the Association of Indian Universities?"
    assert usable_answer(college, "AIU") == ""
    assert usable_answer(college, "Bangalore University") == "Bangalore University"
    assert usable_answer(college, "VC") == ""  # "Visvesvaraya College"
