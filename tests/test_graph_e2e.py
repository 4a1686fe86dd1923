"""End-to-end research runs over the loopback fixture web with the scripted brain and real parts.

Real: Chroma store (temporary), fetcher, search chain (SearXNG API of the fixture web), extraction,
tool registry, LangGraph with the SQLite checkpointer. Scripted: only the chat model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agents.llm.testing import ScriptedChatModel
from tests.research_brain import PLANTED, Brain
from tests.research_harness import build_parts, build_runner, small_options


def _run(home: Path, web: Any, brain: Brain, **limits: Any) -> tuple[Any, list[dict[str, Any]], Any]:
    model = ScriptedChatModel(default=brain)
    parts = build_parts(home, web.base_url, model)
    runner = build_runner(home, parts)
    try:
        events = list(runner.stream("How do perovskite solar cells work?", small_options(**limits)))
    finally:
        runner.close()
    return parts, events, model


def _report(home: Path, events: list[dict[str, Any]]) -> dict[str, Any]:
    run_id = events[-1]["run_id"]
    return json.loads((home / "runs" / run_id / "report.json").read_text())


def _citations(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for s in report["sections"] for sent in s["sentences"] for c in sent["citations"]]


def test_full_run_plans_searches_in_parallel_cites_fetched_chunks_and_drops_a_planted_claim(
    tmp_path: Path, fixture_web: Any
) -> None:
    brain = Brain(
        plant=True,
        subquestions=[
            {
                "question": "What is the band gap of perovskite absorbers?",
                "queries": ["perovskite band gap"],
                "section": "Materials",
            },
            {
                "question": "How efficient are perovskite cells?",
                "queries": ["perovskite efficiency"],
                "section": "Efficiency",
            },
        ],
    )
    parts, events, _model = _run(tmp_path, fixture_web, brain)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished", kinds
    plan = next(e["plan"] for e in events if e["type"] == "plan")
    assert len(plan["subquestions"]) == 2 and plan["outline"] == ["Materials", "Efficiency"]
    started = {e["subquestion"] for e in events if e["type"] == "search_started"}
    assert started == {s["id"] for s in plan["subquestions"]}

    run_id = events[-1]["run_id"]
    folder = tmp_path / "runs" / run_id
    for name in ("report.md", "report.json", "sources.json", "graph.json", "manifest.json", "events.jsonl"):
        assert (folder / name).is_file(), name
    sources = json.loads((folder / "sources.json").read_text())
    fetched = [s for s in sources if s["status"] == "fetched"]
    assert fetched, sources
    memory = parts.memory
    for rec in fetched:  # every page read is a source in memory
        assert memory.source_by_url(rec["url"]).id == rec["source_id"]

    report = _report(tmp_path, events)
    citations = _citations(report)
    assert citations and report["references"]
    fetched_ids = {s["source_id"] for s in fetched}
    chunks = {c.id: c for c in memory.get_chunks([c["chunk_id"] for c in citations])}
    for cite in citations:  # every citation resolves to a fetched chunk, quoted exactly
        chunk = chunks[cite["chunk_id"]]
        assert chunk.source_id in fetched_ids and cite["quote"] == chunk.text
        assert report["references"][cite["ref"] - 1]["source_id"] == chunk.source_id

    graph = json.loads((folder / "graph.json").read_text())
    assert graph["edges"], "the knowledge-graph agent recorded no fact"
    for edge in graph["edges"]:  # facts carry provenance that resolves
        assert edge["chunk_ids"] and set(edge["source_ids"]) <= fetched_ids
        assert {c.source_id for c in memory.get_chunks(edge["chunk_ids"])} == set(edge["source_ids"])

    assert brain._planted
    text = (folder / "report.md").read_text()
    assert PLANTED not in text and "green cheese" not in json.dumps(report)
    assert report["verification"]["removed"] >= 1
    assert (
        report["verification"]["checked"]
        == report["verification"]["supported"] + report["verification"]["changed"] + report["verification"]["removed"]
    )
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {c["tool"] for c in manifest["tool_calls"]} == {"web_search"}
    # The search floor: the question, each sub-question and its planned queries; the model's identical calls once.
    assert sorted(c["arguments"]["query"] for c in manifest["tool_calls"]) == sorted({
        "How do perovskite solar cells work?", "What is the band gap of perovskite absorbers?",
        "perovskite band gap", "How efficient are perovskite cells?", "perovskite efficiency"})
    assert all(c["duration_s"] >= 0 and c["ok"] for c in manifest["tool_calls"])
    assert report["status"] == "complete"
    assert memory.findings(run_id=run_id)


def test_search_agents_run_in_parallel(tmp_path: Path, fixture_web: Any) -> None:
    fixture_web.set_latency(0.3)
    subs = [
        {"question": f"Question {i} on perovskites?", "queries": [q], "section": "Materials"}
        for i, q in enumerate(["perovskite band gap", "perovskite stability", "perovskite efficiency"])
    ]
    _parts, events, _ = _run(tmp_path, fixture_web, Brain(subquestions=subs), read_per_agent=2)
    spans: dict[str, list[float]] = {}
    for e in events:
        if e["type"] == "search_started":
            spans[e["subquestion"]] = [e["ts"], 0.0]
        elif e["type"] == "search_done":
            spans[e["subquestion"]][1] = e["ts"]
    assert len(spans) == 3
    for a, (start_a, end_a) in spans.items():  # every agent's work overlaps every other's
        for b, (start_b, end_b) in spans.items():
            if a != b:
                assert start_a < end_b and start_b < end_a, spans
    assert fixture_web.max_in_flight >= 3


def test_plan_review_pauses_and_the_edited_subquestion_is_searched(tmp_path: Path, fixture_web: Any) -> None:
    brain = Brain()
    parts = build_parts(tmp_path, fixture_web.base_url, ScriptedChatModel(default=brain))
    runner = build_runner(tmp_path, parts)
    try:
        events = list(runner.stream("How do perovskite solar cells work?", small_options(review=True)))
        assert events[-1]["type"] == "run_paused"
        plan = events[-1]["plan"]
        assert not [e for e in events if e["type"] == "search_started"]
        edited = {
            **plan,
            "subquestions": [
                {
                    "question": "Why do perovskite cells degrade in moisture?",
                    "queries": ["perovskite moisture"],
                    "section": plan["outline"][0],
                }
            ],
        }
        resumed = list(runner.resume(events[-1]["run_id"], plan=edited))
    finally:
        runner.close()
    assert resumed[-1]["type"] == "run_finished"
    searched = [e["question"] for e in resumed if e["type"] == "search_started"]
    assert searched == ["Why do perovskite cells degrade in moisture?"]
    queries = [e["arguments"]["query"] for e in resumed if e["type"] == "tool_call"]
    assert queries == ["perovskite moisture", "Why do perovskite cells degrade in moisture?"]  # the edit, as is
    run_id = events[-1]["run_id"]
    assert {f.question for f in parts.memory.findings(run_id=run_id)} == {
        "Why do perovskite cells degrade in moisture?"
    }


def test_prompt_injection_page_changes_no_tool_call_and_no_citation(tmp_path: Path, fixture_web: Any) -> None:
    brain = Brain(
        subquestions=[
            {
                "question": "What do insiders say about perovskite efficiency?",
                "queries": ["insider perovskite efficiency"],
                "section": "Efficiency",
            }
        ]
    )
    parts, events, model = _run(tmp_path, fixture_web, brain)
    fetched = [e["url"] for e in events if e["type"] == "page" and e["status"] == "fetched"]
    assert fixture_web.url("/injection.html") in fetched  # the hostile page was read ...
    shown = [
        m["content"] for call in model.calls for m in call.messages if "Ignore previous instructions" in m["content"]
    ]
    assert shown  # ... and shown to the model, but only inside data blocks:
    assert brain.obeyed == []
    calls = [e for e in events if e["type"] == "tool_call"]
    assert {(c["tool"], c["arguments"]["query"]) for c in calls} == {  # the search floor's calls, nothing added
        ("web_search", "What do insiders say about perovskite efficiency?"),
        ("web_search", "How do perovskite solar cells work?"), ("web_search", "insider perovskite efficiency")}
    report = _report(tmp_path, events)
    assert "OBEYED" not in json.dumps(report) and "evil.example" not in json.dumps(report)
    assert not any("evil.example" in r.path for r in fixture_web.requests)
    fetched_sources = {s.id for s in (parts.memory.source_by_url(u) for u in fetched) if s is not None}
    assert {
        c.source_id for c in parts.memory.get_chunks([c["chunk_id"] for c in _citations(report)])
    } <= fetched_sources


def test_all_searches_failing_gives_a_plain_nothing_found_report(tmp_path: Path, fixture_web: Any) -> None:
    dead = fixture_web.url("/error/500")  # the SearXNG backend gets HTTP 500 for every query
    model = ScriptedChatModel(default=Brain())
    runner = build_runner(tmp_path, build_parts(tmp_path, dead, model))
    try:
        events = list(runner.stream("How do perovskite solar cells work?", small_options()))
    finally:
        runner.close()
    assert events[-1]["type"] == "run_finished" and events[-1]["status"] == "nothing_found"
    calls = [e for e in events if e["type"] == "tool_call"]
    assert calls and not any(c["ok"] for c in calls)
    report = _report(tmp_path, events)
    assert report["status"] == "nothing_found" and report["sections"] == [] and report["references"] == []
    md = (tmp_path / "runs" / events[-1]["run_id"] / "report.md").read_text()
    assert "found no source" in md and "[1]" not in md


@pytest.mark.parametrize("budget", [{"max_pages": 1}, {"max_tokens": 1_000}])
def test_a_budget_running_out_still_drafts_and_says_so(
    tmp_path: Path, fixture_web: Any, budget: dict[str, int]
) -> None:
    brain = Brain(
        subquestions=[
            {
                "question": "What is the band gap of perovskites?",
                "queries": ["perovskite band gap"],
                "section": "Materials",
            }
        ]
    )
    parts, events, _ = _run(tmp_path, fixture_web, brain, **budget)
    assert events[-1]["type"] == "run_finished" and events[-1]["status"] == "budget_exhausted"
    report = _report(tmp_path, events)
    assert report["status"] == "budget_exhausted"
    assert any("ran out" in note for note in report["notes"])
    citations = _citations(report)  # it still drafted from what it had, and every citation resolves
    assert citations and len(parts.memory.get_chunks([c["chunk_id"] for c in citations])) == len(
        {c["chunk_id"] for c in citations}
    )
    pages = [e for e in events if e["type"] == "page" and e["status"] == "fetched"]
    if "max_pages" in budget:
        assert len(pages) == 1
    else:
        assert "Section" not in brain.calls  # no drafting call past the token budget: findings as recorded


def test_reflection_round_searches_the_graph_agents_follow_ups_and_hops_follow_links(
    tmp_path: Path, fixture_web: Any
) -> None:
    follow = {
        "question": "Who makes perovskite modules at scale?",
        "queries": ["perovskite manufacturing"],
        "section": "Efficiency",
    }
    fixture_web.add_page(
        "/hub.html",
        (
            "<html><head><title>Zebracell overview</title></head><body><main><article><h1>Zebracell overview</h1>"
            "<p>Zebracell perovskite absorbers are summarised here only briefly, and the band gap numbers are not "
            "given on this page at all.</p><p>The measured band gaps are in <a href='/articles/perovskite-basics.html'>"
            "the detailed article on perovskite basics</a>, which this overview does not repeat.</p>"
            "</article></main></body></html>"
        ),
    )
    brain = Brain(
        follow_links=True,
        followups=[[follow]],
        subquestions=[
            {"question": "What is the band gap of Zebracell perovskites?", "queries": ["zebracell"],
             "section": "Materials"},
        ],
    )
    _parts, events, _ = _run(tmp_path, fixture_web, brain, depth=1, max_hops=1, breadth=3, read_per_agent=1)
    assert events[-1]["type"] == "run_finished"
    rounds = [e for e in events if e["type"] == "followups"]
    assert rounds and follow["question"] in rounds[0]["subquestions"]  # the model's follow-up, beside the floor's hops
    assert len(rounds[0]["subquestions"]) <= 3  # a round is ``breadth`` sub-questions, the second hop's first
    searched = [e["question"] for e in events if e["type"] == "search_started"]
    assert searched[0] == "What is the band gap of Zebracell perovskites?" and follow["question"] in searched
    hops = [e for e in events if e["type"] == "page" and e.get("hop")]
    assert [e["url"] for e in hops] == [fixture_web.url("/articles/perovskite-basics.html")]
    manifest = json.loads((tmp_path / "runs" / events[-1]["run_id"] / "manifest.json").read_text())
    assert manifest["rounds"] >= 1 and 1 <= manifest["hops_used"] <= 2  # one hop per agent at most
    assert manifest["pages_fetched"] <= 12


def test_contradictions_between_sources_reach_the_drafter_and_the_report(tmp_path: Path, fixture_web: Any) -> None:
    brain = Brain(
        contradict=True,
        subquestions=[
            {
                "question": "How efficient are perovskite cells?",
                "queries": ["perovskite efficiency"],
                "section": "Efficiency",
            },
        ],
    )
    _parts, events, model = _run(tmp_path, fixture_web, brain)
    report = _report(tmp_path, events)
    assert report["contradictions"], "no contradiction found between sources"
    found = report["contradictions"][0]
    assert found["subject"] == "Perovskite cells" and len(found["objects"]) >= 2 and len(found["source_ids"]) >= 2
    drafts = [c for c in model.calls if isinstance(c.schema, dict) and c.schema.get("title") in ("Section", "Report")]
    assert any("Contradictions to discuss" in c.messages[-1]["content"] for c in drafts)
    md = (tmp_path / "runs" / events[-1]["run_id"] / "report.md").read_text()
    assert "Where sources disagree" in md and "reach record efficiency" in md


def test_a_section_without_findings_is_sent_back_for_research_once_when_drafted_on_its_own(
    tmp_path: Path, fixture_web: Any
) -> None:
    brain = Brain(
        outline=["Materials", "Manufacturing"],
        followups=[[]],
        subquestions=[
            {
                "question": "What is the band gap of perovskites?",
                "queries": ["perovskite band gap"],
                "section": "Materials",
            },
        ],
    )
    _parts, events, _ = _run(tmp_path, fixture_web, brain, depth=1, one_call_draft=False)  # the deep structure
    sent_back = [e for e in events if e["type"] == "more_research"]
    assert len(sent_back) == 1 and sent_back[0]["sections"] == ["Manufacturing"]
    searched = [e["question"] for e in events if e["type"] == "search_started"]
    assert searched[0] == "What is the band gap of perovskites?" and "Manufacturing" in searched[-1]
    assert sum("Manufacturing" in q for q in searched) == 1  # sent back once (the others are the second hop)
    assert [e["type"] for e in events].count("section_drafted") == 2  # drafted once, after the extra research
    assert events[-1]["type"] == "run_finished"
