"""Pure helpers of the research graph: reducers, budgets, plan cleaning, result handling, graph rules,
the verifier's screen, reference numbering, the tool memo. No model, network or store involved."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from agents import graphs
from agents.drafter import clean_sentences, draft_schema, run_source_ids
from agents.planner import edited_plan, make_plan, normalize_question, plan_schema, subquestion_id
from agents.publish import number_references, render_markdown
from agents.reading import candidate_links, dump_output, is_fresh, load_output, normalize_url
from agents.report import Report
from agents.run.budget import Clock, Limits, exhausted, may_search_again, page_allowance, round_allowance
from agents.run.memo import JsonMemo
from agents.searcher import clean_findings, collect_results, findings_schema, pick_schema, picked_urls
from agents.state import merge_by_id, merge_unique
from agents.verifier import apply_verdict, attested, judge_schema, screen, support_score
from tools.types import Link, SearchResult


def test_reducers_merge_parallel_writes() -> None:
    assert merge_unique(["a", "b"], ["b", "c"]) == ["a", "b", "c"]
    left = [{"id": "1", "v": 1}, {"id": "2", "v": 2}]
    assert merge_by_id(left, [{"id": "2", "v": 3}, {"id": "4", "v": 4}]) == [
        {"id": "1", "v": 1},
        {"id": "2", "v": 3},
        {"id": "4", "v": 4},
    ]
    assert merge_unique(None, None) == []


def test_budgets_share_pages_and_name_what_ran_out() -> None:
    limits = Limits(max_pages=10, read_per_agent=4, max_hops=2, max_tokens=100, depth=2)
    assert page_allowance(limits, 0, 4) == 2  # 10 pages over 4 agents
    assert page_allowance(limits, 0, 1) == 4  # capped per agent
    assert page_allowance(limits, 10, 3) == 0
    assert round_allowance(limits, 0, 4) == {"pages": 2, "hops": 0, "floor_pages": 0, "floor": 0}  # 2 spare / 4
    assert round_allowance(limits, 0, 2) == {"pages": 4, "hops": 1, "floor_pages": 0, "floor": 0}
    # the question's own search first: it reads what it would alone, the model's three share what is left
    assert round_allowance(limits, 0, 4, floor=1) == {"pages": 1, "hops": 0, "floor_pages": 4, "floor": 1}
    assert page_allowance(limits, 0, 4, floor=1) == 1  # 10 pages, half kept for the floor: 5 over 3 agents
    assert round_allowance(limits, 0, 1, floor=1)["floor_pages"] == 4  # the floor alone: as before
    clock = Clock(max_minutes=1.0)
    assert exhausted(limits, pages_fetched=10, tokens=100, clock=clock) == ["pages", "tokens"]
    assert exhausted(limits, pages_fetched=0, tokens=0, clock=Clock(max_minutes=1e-9, started=0.0)) == ["time"]
    assert may_search_again(limits, round_no=1, exhausted_now=[], followups=2)
    assert not may_search_again(limits, round_no=2, exhausted_now=[], followups=2)
    assert not may_search_again(limits, round_no=0, exhausted_now=["tokens"], followups=2)
    assert not may_search_again(limits, round_no=0, exhausted_now=[], followups=0)


def test_plan_is_cleaned_bounded_and_ids_are_stable() -> None:
    answer = {
        "brief": " b ",
        "outline": ["Efficiency", "efficiency", "Costs"],
        "subquestions": [
            {"question": "What is the COP?", "queries": ["cop", "", "a", "b"], "section": "EFFICIENCY"},
            {"question": "what is the cop", "queries": ["dup"], "section": "Costs"},
            {"question": "What do they cost?", "queries": ["cost"], "section": "Unknown"},
            {"question": "Third one?", "queries": ["x"], "section": "Costs"},
        ],
    }
    plan = make_plan(answer, "Q?", breadth=2)
    assert plan["outline"] == ["Efficiency", "Costs"]
    assert [s["question"] for s in plan["subquestions"]] == ["What is the COP?", "What do they cost?"]
    assert plan["subquestions"][0]["queries"] == ["cop", "a", "b"]
    assert plan["subquestions"][0]["section"] == "Efficiency"
    assert plan["subquestions"][1]["section"] == "Efficiency"  # unknown section falls back to the first
    assert subquestion_id("What is the COP?") == subquestion_id("what is  the COP") == plan["subquestions"][0]["id"]
    assert normalize_question("A, b?") == "a b"
    empty = make_plan({"outline": [], "subquestions": []}, "Why?", breadth=3)
    assert empty["outline"] == ["Findings"] and empty["subquestions"][0]["question"] == "Why?"
    subs = [{"question": "What is the COP at -15 C?", "queries": ["cop"], "section": "A"}] * 2
    ok = {"brief": "b", "outline": ["A"], "subquestions": subs}
    jsonschema.validate(ok, plan_schema(2))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(ok | {"subquestions": subs * 2}, plan_schema(2))
    for degenerate in ({"question": "a", "queries": ["cop"], "section": "A"},  # what small models write
                       {"question": "What is the COP at -15 C?", "queries": ["a"], "section": "A"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(ok | {"subquestions": [degenerate]}, plan_schema(2))


def test_review_edit_replaces_subquestions_and_bad_edits_keep_the_plan() -> None:
    plan = make_plan(
        {"brief": "b", "outline": ["A"], "subquestions": [{"question": "old?", "queries": ["o"]}]}, "Q", breadth=3
    )
    edited = edited_plan({"subquestions": ["new question?"]}, plan, "Q", breadth=3)
    assert [s["question"] for s in edited["subquestions"]] == ["new question?"]
    assert edited["subquestions"][0]["queries"] == ["new question?"]
    assert edited_plan(None, plan, "Q", 3) == plan
    assert edited_plan("approve", plan, "Q", 3) == plan


def _r(url: str, rank: int, backend: str = "b") -> SearchResult:
    return SearchResult(title=url, url=url, snippet="", rank=rank, backend=backend)


def test_results_interleave_dedupe_and_picks_stay_in_range() -> None:
    a = [_r("http://x.org/1", 1), _r("http://x.org/2", 2)]
    b = [_r("HTTP://X.org/1/", 1), _r("http://y.org/3", 2)]
    merged = collect_results([a, b], skip={normalize_url("http://y.org/3")})
    assert [r.url for r in merged] == ["http://x.org/1", "http://x.org/2"]
    assert picked_urls([2, 2, 9, 0, 1], merged, allowance=5) == ["http://x.org/2", "http://x.org/1"]
    assert picked_urls([1, 2], merged, allowance=1) == ["http://x.org/1"]
    schema = pick_schema(2, 1)
    jsonschema.validate({"picks": [2]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"picks": [3]}, schema)


def test_findings_schema_admits_only_shown_chunk_ids() -> None:
    schema = findings_schema(["c1", "c2"], n_links=2)
    jsonschema.validate({"findings": [{"text": "fact", "chunk_ids": ["c1"]}], "follow": None}, schema)
    jsonschema.validate({"findings": [], "follow": 2}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"findings": [{"text": "fact", "chunk_ids": ["c9"]}], "follow": None}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"findings": [], "follow": 3}, schema)
    answer = {"findings": [{"text": " a  b ", "chunk_ids": ["c1", "zz", "c1"]}, {"text": "x", "chunk_ids": ["zz"]}]}
    assert clean_findings(answer, {"c1"}) == [("a b", ["c1"])]


def test_tool_outputs_round_trip_through_the_memo(tmp_path: Path) -> None:
    results = [_r("http://x.org/1", 1)]
    memo = JsonMemo(tmp_path / "memo.json")
    memo["k"] = dump_output(results)
    memo["t"] = dump_output("some text")
    again = JsonMemo(tmp_path / "memo.json")
    assert load_output(again["k"]) == results and load_output(again["t"]) == "some text"
    assert len(again) == 2
    (tmp_path / "bad.json").write_text("{not json")
    assert len(JsonMemo(tmp_path / "bad.json")) == 0


def test_candidate_links_skip_read_pages_and_non_http() -> None:
    links = [
        Link("http://a.org/x/", "x"),
        Link("javascript:alert(1)", "js"),
        Link("http://a.org/x", "again"),
        Link("https://b.org/", "b"),
        Link("mailto:x@y", "m"),
    ]
    got = candidate_links(links, seen={"http://a.org/x"}, limit=5)
    assert [link.url for link in got] == ["https://b.org/"]


@dataclass
class _Entity:
    name: str
    aliases: tuple[str, ...] = ()


def test_entity_resolution_by_name_alias_and_acronym() -> None:
    cands = [_Entity("Coefficient of Performance", ("COP",)), _Entity("International Energy Agency")]
    assert graphs.resolve_entity("the coefficient of performance", cands) is cands[0]
    assert graphs.resolve_entity("cop", cands) is cands[0]
    assert graphs.resolve_entity("IEA", cands) is cands[1]
    assert graphs.resolve_entity("Heat pump", cands) is None


def _fact(i: str, s: str, r: str, o: str, src: str) -> dict[str, object]:
    return {
        "id": i,
        "subject": s,
        "subject_id": s,
        "relation": r,
        "object": o,
        "object_id": o,
        "chunk_ids": [f"c{i}"],
        "source_ids": [src],
    }


def test_contradictions_need_different_objects_from_different_sources() -> None:
    facts = [
        _fact("1", "Heat pump", "has COP", "2.1", "s1"),
        _fact("2", "heat pump", "has cop", "3.0", "s2"),
        _fact("3", "Boiler", "has efficiency", "90%", "s1"),
        _fact("4", "Boiler", "has efficiency", "85%", "s1"),
    ]
    found = graphs.find_contradictions(facts)
    assert len(found) == 1
    assert found[0]["objects"] == ["2.1", "3.0"] and found[0]["source_ids"] == ["s1", "s2"]
    assert found[0]["chunk_ids"] == ["c1", "c2"]


def test_gaps_and_bridges() -> None:
    plan = {"outline": ["A", "B"], "subquestions": [{"question": "qa", "section": "A"}]}
    searches = [{"question": "qb", "section": "B"}]
    findings = [{"question": "qa"}, {"question": "qa"}, {"question": "qb"}]
    assert graphs.outline_gaps(plan, searches, findings) == ["B"]
    facts = [_fact("1", "x", "r", "y", "s"), _fact("2", "y", "r", "z", "s"), _fact("3", "p", "r", "q", "s")]
    assert graphs.bridges(facts) == ["y and q"]
    doc = graphs.graph_json(facts, [])
    assert len(doc["nodes"]) == 5 and doc["edges"][0]["chunk_ids"] == ["c1"]


def test_verifier_screen_and_verdicts() -> None:
    passage = "Measured seasonal COP of the heat pumps was 2.1 at -15 C in the Oslo field study."
    assert support_score("Heat pumps had a COP of 2.1 at -15 C.", [passage]) == 1.0
    assert screen("Heat pumps had a COP of 2.1 at -15 C.", [passage], []) == "supported"
    assert screen("The moon is made of green cheese.", [passage], [passage]) == "unsupported"
    assert screen("Heat pumps in Oslo cost 9000 euros to install.", [passage], []) == "judge"
    texts = {"c1": passage, "c2": "Installation cost 9000 euros in Oslo."}
    sent = {"text": "Heat pumps in Oslo cost 9000 euros to install.", "chunk_ids": ["c1"]}
    assert apply_verdict(sent, {"verdict": "recite", "chunk_ids": ["c2"]}, texts) == {
        **sent,
        "chunk_ids": ["c2"],
        "status": "recited",
    }
    rewritten = apply_verdict(
        sent, {"verdict": "rewrite", "chunk_ids": ["c1"], "rewrite": "The Oslo study measured a COP of 2.1."}, texts
    )
    assert rewritten == {"text": "The Oslo study measured a COP of 2.1.", "chunk_ids": ["c1"], "status": "rewritten"}
    assert apply_verdict(sent, {"verdict": "rewrite", "chunk_ids": ["c1"], "rewrite": "Cats sing."}, texts) is None
    assert apply_verdict(sent, {"verdict": "remove", "chunk_ids": []}, texts) is None
    # the judge's word is not enough: a name or a number the cited passage lacks is removed
    menzies = {"c3": "Robert Menzies and the Liberal Party of Australia dominated the post war era, from 1949."}
    howard = {"text": "The first prime minister of Australia was John Howard.", "chunk_ids": ["c3"]}
    assert apply_verdict(howard, {"verdict": "supported", "chunk_ids": [], "rewrite": ""}, menzies) is None
    led = {"text": "Robert Menzies led the Liberal Party of Australia after 1949.", "chunk_ids": ["c3"]}
    assert apply_verdict(led, {"verdict": "supported", "chunk_ids": [], "rewrite": ""}, menzies) == {
        **led, "status": "supported"}
    assert screen("Heat pumps had a COP of 2.1 at -15 C in Bergen.", [passage], []) == "judge"  # not "supported"
    assert not attested("The Deep Blue Sea (1955 film)", ["Deep Blue Sea is the soundtrack to a 1999 film."])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"verdict": "recite", "chunk_ids": ["c9"], "rewrite": ""}, judge_schema(["c1"]))


def test_drafter_schema_and_cleaning_allow_only_given_ids() -> None:
    schema = draft_schema(["c1"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"sentences": [{"text": "abc", "chunk_ids": ["c2"]}]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"sentences": [{"text": "abc", "chunk_ids": []}]}, schema)
    assert clean_sentences({"sentences": [{"text": "a b", "chunk_ids": ["c2", "c1"]}]}, {"c1"}) == [
        {"text": "a b", "chunk_ids": ["c1"]}
    ]
    fetches = [
        {"source_id": "s1", "status": "fetched"},
        {"source_id": "", "status": "failed"},
        {"source_id": "s2", "status": "memory"},
        {"source_id": "s1", "status": "memory"},
    ]
    assert run_source_ids(fetches) == ["s1", "s2"]


@dataclass
class _Chunk:
    id: str
    source_id: str
    text: str
    page: int | None = None


@dataclass
class _Source:
    id: str
    url: str
    title: str
    fetched_at: str = "2026-11-22T06:00:00Z"
    kind: str = "web"


def test_references_number_sources_in_order_of_first_citation() -> None:
    chunks = {"a": _Chunk("a", "s2", "text a"), "b": _Chunk("b", "s1", "text b", page=3), "c": _Chunk("c", "s2", "c")}
    sources = {"s1": _Source("s1", "/docs/x.pdf", "X", kind="local"), "s2": _Source("s2", "http://s2", "S2")}
    sections: list[dict[str, Any]] = [
        {
            "title": "One",
            "sentences": [{"text": "First.", "chunk_ids": ["a", "b"]}, {"text": "Ghost.", "chunk_ids": ["missing"]}],
        },
        {"title": "Empty", "sentences": []},
        {"title": "Two", "sentences": [{"text": "Second.", "chunk_ids": ["c"], "status": "recited"}]},
    ]
    numbered, refs = number_references(sections, chunks, sources)
    assert [s.title for s in numbered] == ["One", "Two"]
    assert [(r.n, r.source_id, r.kind, r.pages) for r in refs] == [(1, "s2", "web", []), (2, "s1", "local", [3])]
    assert [c.ref for c in numbered[0].sentences[0].citations] == [1, 2]
    assert numbered[1].sentences[0].citations[0].ref == 1 and numbered[1].sentences[0].status == "recited"
    report = Report(run_id="r", question="Q?", title="Q?", sections=numbered, references=refs)
    md = render_markdown(report)
    assert "First. [1][2]" in md and "Second. [1]" in md and "2. X — /docs/x.pdf, p. 3" in md
    assert "Ghost" not in md


def test_freshness_of_stored_sources() -> None:
    now = 1_800_000_000.0  # 2027-01-15T08:00:00Z
    day = _Source("s", "http://x", "X", fetched_at="2027-01-14T09:00:00Z")
    assert is_fresh(day, days=1.0, now=now) and not is_fresh(day, days=0.5, now=now)
    assert is_fresh(_Source("l", "/doc.md", "D", fetched_at="2001-01-01T00:00:00Z", kind="local"), 1.0, now=now)
    assert not is_fresh(_Source("b", "http://x", "X", fetched_at="not a date"), 1.0, now=now)
