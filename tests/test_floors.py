"""Floors: the model-free work every run does (extractive findings, the short answer, the ``none`` backend)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.floors import best_sentences, best_supported, quoted_answer, split_sentences
from agents.llm import NoModel
from agents.llm.llama import chat_template
from agents.llm.testing import ScriptedChatModel
from agents.report import Report
from agents.searcher import floor_then_model
from tests.research_brain import PASSAGE, Brain
from tests.research_harness import build_parts, build_runner, small_options

CHUNKS = [
    {"id": "c1", "title": "Cells", "text": "Menu. Perovskite cells convert sunlight into electricity. "
                                           "The record efficiency of perovskite cells is 26.1 percent. Share"},
    {"id": "c2", "title": "Tandems", "text": "Silicon tandem modules pair two absorbers in one stack. "
                                             "Perovskite cells degrade in moist air within weeks."},
]


def test_split_sentences_keeps_numbers_and_breaks_lines() -> None:
    assert split_sentences("It is 26.1 percent. Next one!\nA heading\nLast? Yes.") == [
        "It is 26.1 percent.", "Next one!", "A heading", "Last?", "Yes."]


def test_best_sentences_quote_the_matching_sentences_and_cite_their_chunk() -> None:
    found = best_sentences("What is the record efficiency of perovskite cells?", CHUNKS, limit=2)
    assert found[0] == ("The record efficiency of perovskite cells is 26.1 percent.", ["c1"])
    assert len(found) == 2 and all(text in next(c["text"] for c in CHUNKS if c["id"] == ids[0])
                                   for text, ids in found)
    assert all(len(text.split()) >= 5 for text, _ in found)  # "Menu." and "Share" never become findings


def test_best_sentences_are_bounded_per_chunk_and_in_length() -> None:
    many = [{"id": "c9", "text": " ".join(f"Perovskite fact number {i} is stated here." for i in range(10))}]
    assert len(best_sentences("perovskite fact", many, limit=5)) == 2
    long = [{"id": "c8", "text": "Perovskite " + "word " * 200 + "end."}]
    (text, _), = best_sentences("perovskite", long, limit=1, max_chars=80)
    assert len(text) <= 80 and long[0]["text"].startswith(text)
    assert best_sentences("zebra giraffe", CHUNKS) == [] and best_sentences("", CHUNKS) == []


def test_best_supported_prefers_the_supported_statement_closest_to_the_question() -> None:
    texts = {c["id"]: c["text"] for c in CHUNKS}
    candidates = [
        {"text": "Perovskite cells reach 40 percent on the moon.", "chunk_ids": ["c1"]},  # unsupported
        {"text": "Perovskite cells degrade in moist air within weeks.", "chunk_ids": ["c2"]},
        {"text": "The record efficiency of perovskite cells is 26.1 percent.", "chunk_ids": ["c1"]},
    ]
    best = best_supported("What is the record efficiency of perovskite cells?", candidates, texts)
    assert best == {"text": "The record efficiency of perovskite cells is 26.1 percent.", "chunk_ids": ["c1"]}
    assert best_supported("anything", candidates[:1], texts) is None


def test_findings_floor_keeps_its_sentences_and_the_models_that_hold_up_come_after() -> None:
    question = "What is the record efficiency of perovskite cells?"
    degenerate = [("a", ["c1"]), ("Zebras migrate across the savanna.", ["c2"])]
    floor = floor_then_model(question, degenerate, CHUNKS, 300)[0]
    assert floor and floor[0] == ("The record efficiency of perovskite cells is 26.1 percent.", ["c1"])
    good = [("The record efficiency of perovskite cells is 26.1 percent.", ["c1"])]
    assert floor_then_model(question, good, CHUNKS, 300)[0] == floor  # the floor's own finding: not twice
    other = [("Perovskite cells degrade in moist air within weeks.", ["c2"])]
    both = floor_then_model(question, [*degenerate, *other], CHUNKS, 300)[0]
    assert both[: len(floor)] == floor and both.count(other[0]) == 1  # the model adds; it never replaces


def test_gemma_fallback_template_folds_the_system_turn_into_the_first_user_turn() -> None:
    import jinja2

    template, source = chat_template({}, "gemma")
    assert source.startswith("fallback: gemma")
    text = jinja2.Environment().from_string(template).render(
        bos_token="<bos>", add_generation_prompt=True,
        messages=[{"role": "system", "content": "Rules."}, {"role": "user", "content": "Question?"}])
    assert text == "<bos><start_of_turn>user\nRules.\n\nQuestion?<end_of_turn>\n<start_of_turn>model\n"


def _run(tmp_path: Path, web: Any, model: Any, question: str) -> tuple[list[dict[str, Any]], Path]:
    runner = build_runner(tmp_path, build_parts(tmp_path, web.base_url, model))
    try:
        events = list(runner.stream(question, small_options()))
    finally:
        runner.close()
    return events, tmp_path / "runs" / events[-1]["run_id"]


def test_a_run_with_no_model_reads_the_top_pages_and_answers_with_a_cited_quote(
    tmp_path: Path, fixture_web: Any
) -> None:
    question = "What record efficiency have perovskite silicon tandem cells reached?"
    events, folder = _run(tmp_path, fixture_web, NoModel(), question)
    assert events[-1]["type"] == "run_finished" and events[-1]["status"] == "complete"
    assert not [e for e in events if e["type"] == "model_error"]  # declining is the plan, not an error
    report = Report.model_validate_json((folder / "report.json").read_text())
    # the span picker: a short answer (not a sentence) that the last sentence of its cited chain states
    assert report.answer.sentences and report.answer.text == "34.6 percent"
    quote = report.answer.sentences[-1].citations[0].quote
    assert report.answer.text in " ".join(quote.split())  # extractive: the answer is in the cited text
    sources = json.loads((folder / "sources.json").read_text())
    read = {s["url"] for s in sources if s["status"] in ("fetched", "memory")}
    assert read and all(r.url in read for r in report.references)
    for section in report.sections:  # every section sentence is a quote of the passage it cites
        for sentence in section.sentences:
            assert any(sentence.text in " ".join(c.quote.split()) for c in sentence.citations)
    assert not report.summary  # the plan's brief is never printed unverified
    markdown = (folder / "report.md").read_text()
    assert markdown.index("## Answer") < markdown.index("## References")


def test_a_model_answer_is_kept_only_when_verified(tmp_path: Path, fixture_web: Any) -> None:
    brain = Brain()
    _events, folder = _run(tmp_path, fixture_web, ScriptedChatModel(default=brain), "How efficient are cells?")
    assert brain.calls.get("Answer", 0) + brain.calls.get("Report", 0) == 1  # one answer call (in the report's)
    report = Report.model_validate_json((folder / "report.json").read_text())
    assert report.answer.sentences and report.answer.sentences[0].citations
    cited = " ".join(c.quote for s in report.answer.sentences for c in s.citations)
    assert report.answer.text and report.answer.text.casefold() in cited.casefold()


QUESTION = 'Which Canadian rock band released a song called "Counterparts" and had a drummer in the Hall of Fame?'


def test_a_degenerate_plan_becomes_the_question_and_its_keywords() -> None:
    from agents.floor_plan import floor_plan, keyword_query

    gemma = {"brief": "a", "outline": ["en"], "subquestions": [
        {"question": "a web-search", "queries": ["a"]},
        {"question": "What is the purpose of the research?", "queries": ["to answer a research question", "en"]}]}
    plan = floor_plan(gemma, QUESTION, 4)
    assert plan["outline"] == ["Findings"]
    assert [s["question"] for s in plan["subquestions"]] == [QUESTION]
    assert plan["subquestions"][0]["queries"] == [keyword_query(QUESTION)]
    assert keyword_query(QUESTION).startswith("Counterparts Canadian Hall Fame")  # named spans first


def test_a_usable_plan_is_kept_and_the_question_is_searched_too() -> None:
    from agents.floor_plan import floor_plan

    model = {"brief": "b", "outline": ["Band", "Drummer"], "subquestions": [
        {"question": "Which band released the album Counterparts?", "queries": ["Counterparts album band", "a"],
         "section": "Band"},
        {"question": "Which drummers are in the Modern Drummer Hall of Fame?", "queries": ["Hall of Fame drummer"],
         "section": "Drummer"}]}
    plan = floor_plan(model, QUESTION, 4)
    assert plan["outline"] == ["Band", "Drummer"]
    assert [s["queries"] for s in plan["subquestions"]] == [["Counterparts album band", QUESTION],
                                                            ["Hall of Fame drummer"]]


def test_the_search_floor_sends_planned_queries_and_model_calls_once() -> None:
    from agents.searcher import merge_calls

    floor = [("web_search", {"query": "Counterparts album"}), ("web_search", {"query": QUESTION})]
    model: list[tuple[str, dict[str, Any]]] = [
        ("web_search", {"query": "counterparts  ALBUM", "k": 5}),  # the same call: sent once
             ("arxiv_search", {"query": "a"}),  # degenerate: dropped
             ("arxiv_search", {"query": "Rush drummer Hall of Fame"}),
             ("web_search", {"query": "Neil Peart drummer"}), ("web_search", {"query": "Rush band Canadian"})]
    calls = merge_calls(floor, model, QUESTION, limit=2)
    assert calls == [*floor, ("arxiv_search", {"query": "Rush drummer Hall of Fame"}),
                     ("web_search", {"query": "Neil Peart drummer"})]


def test_second_hop_entities_are_names_the_question_does_not_mention() -> None:
    from agents.floor_plan import hop_entities

    texts = ["Counterparts is the fifteenth studio album by Canadian rock band Rush, released in 1993.",
             "Rush was a Canadian rock band; Neil Peart was its drummer.", "Neil Peart wrote the lyrics for Rush."]
    assert hop_entities(QUESTION, texts, 2) == ["Rush", "Neil Peart"]


def test_a_month_is_no_second_hop_and_a_finding_recorded_twice_counts_once() -> None:
    from agents.floor_plan import hop_entities

    # a 1.5B run searched "July" and "December" (birth dates of three footballers) instead of the club
    question = "Hugo Romero is a Spanish footballer who plays for a team in the autonomous community of what?"
    hugo = "Hugo Romero (born 30 December 1989) is a Spanish footballer who plays for FC Cartagena as a winger."
    others = ["Victor Romero (born 23 July 1989) plays for Seattle Sounders FC.",
              "Jose Romero (born 4 July 1992) plays for Club Tijuana on Monday nights."]
    found = hop_entities(question, [hugo, *others, *others], 10)
    assert found[0] == "FC Cartagena"  # the two others, recorded twice, outnumber it no more
    assert not {"December", "July", "Monday"} & set(found) and "Seattle Sounders FC" in found


def test_the_second_hop_searches_the_names_of_the_first_hops_sentences_first() -> None:
    from agents.floor_plan import anchors, hop_entities

    # a 1.5B run searched "American" and "Former Qin" (named by pages on two empresses) and never read Kris Benson
    question = "What team was Anna Benson's husband on?"
    first_hop = ("Anna Benson (born February 12, 1976) is an American model and ex-wife of former Major League "
                 "Baseball pitcher Kris Benson.")
    others = ["Empress Qiang was an empress of Former Qin, an American-born dynasty.",
              "Empress Gou of Former Qin was the wife of Fu Jian.", "Jenny Benson is a retired American soccer player."]
    assert anchors(question) == [frozenset({"anna", "benson"})]
    assert hop_entities(question, [*others, first_hop], 2) == ["Major League Baseball", "Kris Benson"]
    # the same sentences with no name of the question: in order, a word that only describes a noun last
    found = hop_entities("Who was the husband?", [*others, first_hop], 10)
    assert found[:2] == ["Empress Qiang", "Former Qin"] and found[-1] == "American"
    # "Which Canadian rock band": Canadian describes the band, it is no name a first-hop sentence must state
    assert anchors("Which Canadian rock band released Counterparts?") == [frozenset({"counterpart"})]


def test_the_floors_results_come_first_whatever_else_the_model_searched() -> None:
    from agents.searcher import ranked_results
    from tools.types import SearchResult

    def results(*urls: str) -> list[SearchResult]:
        return [SearchResult(title=u, url=f"http://x.org/{u}", snippet="", rank=i + 1, backend="b")
                for i, u in enumerate(urls)]

    floor_a, floor_b, model = results("a1", "a2", "a3"), results("b1", "a1"), results("m1", "m2", "b1")
    ranked = ranked_results([floor_a, floor_b, "tool text", model], 2, skip={"http://x.org/a3"})
    assert [r.title for r in ranked] == ["a1", "b1", "a2", "m1", "m2"]


def test_a_sentence_that_only_restates_the_question_is_not_a_claim() -> None:
    from agents.lexical import echoes

    question = "What is the seat of the county where Van Hook Township is located?"
    assert echoes("The seat of the county where Van Hook Township is located?", question)
    assert not echoes("Van Hook Township is in Mountrail County, whose seat is Stanley.", question)


def test_a_section_keeps_the_floors_findings_beside_the_models_sentences() -> None:
    from agents.verifier import with_findings

    texts = {c["id"]: c["text"] for c in CHUNKS}
    findings = [{"text": "The record efficiency of perovskite cells is 26.1 percent.", "chunk_ids": ["c1"]},
                {"text": "Perovskite cells degrade in moist air within weeks.", "chunk_ids": ["c2"]},
                {"text": "Perovskite cells are made of cheese.", "chunk_ids": ["c2"]}]  # not supported: left out
    kept = [{"text": "Perovskite cells degrade in moist air within weeks.", "chunk_ids": ["c2"], "status": "supported"}]
    out = with_findings("How efficient and stable are perovskite cells?", kept, findings, texts)
    assert [s["text"] for s in out] == [kept[0]["text"], findings[0]["text"]]


def test_a_models_entities_never_push_the_floors_names_out_of_the_second_hop() -> None:
    from agents.floor_plan import hop_entities

    texts = ["Counterparts is an album by Canadian rock band Rush.", "Neil Peart was the drummer of Rush."]
    garbage = ["xq zzv", "Hall of Fame", "Geddy Lee"]  # a model's names, none of them on the pages
    assert hop_entities(QUESTION, texts, 2, extra=garbage) == ["Rush", "Neil Peart"]
    assert hop_entities(QUESTION, texts, 3, extra=["Counterparts album", "neil peart", "Canadian rock band Rush"]) == [
        "Rush", "Neil Peart", "Canadian rock band Rush"]


def test_a_models_findings_add_second_hop_names_only_after_the_floors() -> None:
    from agents.kg import hop_subquestions

    question = "What is the seat of the county where Van Hook Township is located?"
    floor = ["Van Hook Township is a township in Mountrail County in the U.S. state of North Dakota.",
             "Liberty Township is one of the twelve townships of Van Wert County, Ohio, United States."]
    model = ["The seat of the county where Liberty Township is located", "Stanley is in Mountrail County."]
    findings = [{"id": f"f{i}", "question": question, "text": t, "chunk_ids": ["c"], "origin": o}
                for i, (t, o) in enumerate([(t, "floor") for t in floor] + [(t, "model") for t in model])]
    state: Any = {"question": question, "findings": findings, "plan": {"outline": ["Findings"]}, "asked": []}
    hops = [h["question"].split(" — ")[0] for h in hop_subquestions(state, [], 9)]
    assert hops[:2] == ["Mountrail County", "U.S"]  # the model's repeat of "Liberty Township" ranks nothing up
    assert "Stanley" in hops and hops.index("Stanley") > hops.index("Liberty Township")


def test_a_section_title_needs_a_word() -> None:
    from agents.floor_plan import floor_plan, usable_title

    assert usable_title("Mountrail County") and not usable_title("1000000000000000") and not usable_title("outline")
    plan = floor_plan({"brief": "1", "outline": ["1000000000000000"], "subquestions": [
        {"question": QUESTION, "queries": ["Counterparts"], "section": "1000000000000000"}]}, QUESTION, 2)
    assert plan["outline"] == ["Findings"] and plan["subquestions"][0]["section"] == "Findings"


def test_a_short_answer_counts_only_where_a_passage_states_it_word_for_word() -> None:
    question = "What is the record efficiency of perovskite cells?"
    texts = {c["id"]: c["text"] for c in CHUNKS}
    quoted = quoted_answer(question, " 26.1 percent. ", ["c2", "c1"], texts)
    assert quoted == {"text": "26.1 percent", "sentence": {
        "text": "The record efficiency of perovskite cells is 26.1 percent.", "chunk_ids": ["c1"]}}
    assert quoted_answer(question, "26.1", ["c1"], texts) is not None
    assert quoted_answer(question, "26", ["c1"], texts) is None  # a whole word or number, not a fragment
    assert quoted_answer(question, "1", ["c1"], {"c1": "The record efficiency was 1 percent in 1 year."}) is None
    assert quoted_answer(question, "27 percent", ["c1", "c2"], texts) is None  # not stated: not an answer
    assert quoted_answer(question, "perovskite cells", ["c1"], texts) is None  # the question's own words
    assert quoted_answer(question, "26.1 percent", ["c2"], texts) is None  # only the passages named count
    long = "The record efficiency of perovskite cells is 26.1 percent and that is all there is to it"
    assert quoted_answer(question, long, ["c1"], texts) is None  # a short answer is short


@dataclass
class _QuotingBrain(Brain):
    """Answers with a short answer stated in a passage, beside a sentence no passage supports."""

    def _answer(self, messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        ids = PASSAGE.findall(messages[-1]["content"])
        return {"answer": "26.8 percent", "sentences": [
            {"text": "Zebras migrate across the savanna every spring.", "chunk_ids": [ids[0][0]]}]}


def test_a_model_answer_whose_sentence_fails_is_kept_when_a_passage_it_saw_quotes_it(
    tmp_path: Path, fixture_web: Any
) -> None:
    brain = _QuotingBrain()
    question = "What efficiency have practical silicon cells reached?"
    _events, folder = _run(tmp_path, fixture_web, ScriptedChatModel(default=brain), question)
    report = Report.model_validate_json((folder / "report.json").read_text())
    assert report.answer.text == "26.8 percent"
    assert "Zebras" not in (folder / "report.md").read_text()  # the unsupported sentence is gone
    quote = " ".join(c.quote for s in report.answer.sentences for c in s.citations)
    assert "26.8 percent" in " ".join(quote.split())


@dataclass
class _DegenerateBrain(Brain):
    """What a tiny model writes: one-letter strings, the same call three times, no findings, a noise answer."""

    def _plan(self, messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        # as degenerate as the schema's bounds allow: the schema's own words, a query of no content word
        return {"brief": "a", "outline": ["o"],
                "subquestions": [{"question": "question web-search", "queries": ["the"], "section": "o"}]}

    def _toolcalls(self, messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        limit = schema["properties"]["calls"]["maxItems"]
        return {"calls": [{"tool": "web_search", "arguments": {"query": "what"}}] * limit}

    def _findings(self, messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        facts: dict[str, Any] = {"facts": []} if "facts" in schema["properties"] else {}
        return {"findings": [], **facts, **({"follow": None} if "follow" in schema["properties"] else {})}

    def _section(self, messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        ids = [cid for cid, _text in PASSAGE.findall(messages[-1]["content"])]
        return {"sentences": [{"text": "a a a a a a a a.", "chunk_ids": ids[:1]}] if ids else []}

    def _answer(self, messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        ids = [cid for cid, _text in PASSAGE.findall(messages[-1]["content"])]
        return {"answer": "a", "sentences": [{"text": "a a a a a a a a.", "chunk_ids": ids[:1]}] if ids else []}


def test_a_degenerate_model_still_reads_and_cites_what_the_floor_does(tmp_path: Path, fixture_web: Any) -> None:
    question = "What record efficiency have perovskite silicon tandem cells reached?"
    floor_events, floor_folder = _run(tmp_path / "floor", fixture_web, NoModel(), question)
    events, folder = _run(tmp_path / "model", fixture_web, ScriptedChatModel(default=_DegenerateBrain()), question)
    assert events[-1]["type"] == "run_finished" and events[-1]["status"] == "complete"
    errors = [e for e in events if e["type"] == "model_error"]
    assert not errors, errors  # every degenerate answer was valid JSON

    def read(evs: list[dict[str, Any]]) -> set[str]:
        return {e["url"] for e in evs if e["type"] == "page" and e["status"] in ("fetched", "memory")}

    assert read(floor_events) and read(floor_events) <= read(events)  # the model subtracted no page
    calls = [json.dumps([e["tool"], e["arguments"]], sort_keys=True) for e in events if e["type"] == "tool_call"]
    assert len(calls) == len(set(calls))  # the repeated call was sent once
    assert any(json.loads(c)[1].get("query") == question for c in calls)  # the question itself was searched
    report = Report.model_validate_json((folder / "report.json").read_text())
    floor_report = Report.model_validate_json((floor_folder / "report.json").read_text())
    assert {r.url for r in floor_report.references} <= {r.url for r in report.references}
    text = (folder / "report.md").read_text()
    assert "a a a" not in text and not report.summary  # nothing unverified from the model
    assert report.answer.sentences and all(s.citations for s in report.answer.sentences)
