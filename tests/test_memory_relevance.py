"""The relevance bar on reads that cross runs (``memory.relevance``, ``Memory.search(relevant_to=)``), the
plan floor on its footing, per-run provenance (``claim_sources``, ``forget_run``), the report's reuse
note and the eval's ``foreign_sections`` count (issue 24)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from memory import relevance
from tests.research_harness import open_memory

QB = ("What group of participants that carried of Operation Neptune Spear is sometimes referred to in the U.S. "
      "media as a Special Mission Unit?")
BARREL = ("Operation Barrel Roll\nOperation Barrel Roll was a covert U.S. Air Force and Navy interdiction and "
          "close air support campaign conducted in Laos during the Vietnam War.")
DEVGRU = ("DEVGRU\nThe Naval Special Warfare Development Group took part in Operation Neptune Spear and is "
          "sometimes referred to in the U.S. media as a Special Mission Unit.")


def test_a_question_names_its_entities_and_rare_words_not_its_common_ones() -> None:
    terms = relevance.key_terms(QB)
    assert ("operation", "neptune", "spear") in terms.names and ("us",) in terms.names  # "U.S." is "US"
    assert {"neptun", "spear"} <= terms.rare
    assert not {"oper", "group", "particip", "media"} & terms.rare  # common words name nothing
    assert relevance.named_spans("Which airport supports Blue Origin?") == [("blue", "origin")]
    assert not relevance.key_terms("how does it work").keyed


def test_a_passage_sharing_only_a_common_word_or_a_common_name_stays_out() -> None:
    terms = relevance.key_terms(QB)
    assert relevance.about(terms, BARREL)  # "U.S." is a name of the question...
    assert relevance.score(terms, BARREL) < relevance.BAR  # ...but the passage covers little of it
    assert not relevance.relevant(QB, BARREL)
    assert relevance.relevant(QB, DEVGRU)
    assert 0.0 <= relevance.score(terms, "") <= relevance.score(terms, DEVGRU) <= 1.0
    assert not relevance.relevant(QB, "Operation Neptune Spear sometimes group media participants referred U.S.",
                                  bar=1.01)


def test_shares_key_and_names_something() -> None:
    assert relevance.shares_key("Neptune Spear raid", QB) is True
    assert relevance.shares_key("Operation Barrel Roll", QB) is False
    assert relevance.shares_key("Barrel Roll aircraft", QB, bridges=["Barrel Roll"]) is True
    assert relevance.shares_key("anything at all", "how does it work") is None
    assert relevance.names_something("Reno Stead Airport") and relevance.names_something('"Counterparts"')
    assert not relevance.names_something("Materials") and not relevance.names_something("Cold climate performance")


def test_the_plan_floor_drops_what_shares_only_a_common_word_with_the_question() -> None:
    from agents.floor_plan import FINDINGS_SECTION, floor_plan

    model = {"brief": "b", "outline": ["Operation Barrel Roll", "Reno Stead Airport", "Units"],
             "subquestions": [
                 {"question": "What was Operation Barrel Roll in Laos?", "queries": ["Operation Barrel Roll"],
                  "section": "Operation Barrel Roll"},
                 {"question": "Which unit carried out Operation Neptune Spear?",
                  "queries": ["Operation Barrel Roll", "Neptune Spear unit"], "section": "Units"}]}
    plan = floor_plan(model, QB, 3)
    assert plan["outline"] == ["Units"]  # a generic title stays; names of something else go
    texts = [s["question"] for s in plan["subquestions"]] + [q for s in plan["subquestions"] for q in s["queries"]]
    assert not [t for t in texts if "Barrel" in t], texts
    assert plan["subquestions"][0]["queries"][0] == "Neptune Spear unit"
    bridged = floor_plan(model, QB, 3, bridges=["Operation Barrel Roll"])
    assert "Operation Barrel Roll" in bridged["outline"]  # a bridge entity found in this run counts
    empty = floor_plan({"outline": ["Blue Origin"], "subquestions": []}, QB, 3)
    assert empty["outline"] == [FINDINGS_SECTION] and empty["subquestions"][0]["question"] == QB


def _store(path: Path) -> Any:
    memory = open_memory(path)
    memory.add_source("http://w.test/barrel", "Operation Barrel Roll", BARREL.split("\n", 1)[1] * 3, run_id="A")
    memory.add_source("http://w.test/devgru", "DEVGRU", DEVGRU.split("\n", 1)[1] * 3, run_id="A")
    memory.add_source("/home/u/notes.md", "My notes", "Laos bombing notes, kept by the user. " * 5,
                      run_id="corpus", kind="local")
    memory.add_source("http://w.test/mine", "Laos today", "Laos today exports coffee and electricity. " * 5,
                      run_id="B")
    return memory


def test_memory_search_keeps_an_earlier_runs_chunks_only_when_relevant(tmp_path: Path) -> None:
    memory = _store(tmp_path / "chroma")
    try:
        plain = {h.source.title for h in memory.search(QB, 10)}
        assert {"Operation Barrel Roll", "DEVGRU"} <= plain
        kept = {h.source.title for h in memory.search(QB, 10, relevant_to=QB, run_id="B")}
        assert "DEVGRU" in kept and "Operation Barrel Roll" not in kept
        laos = {h.source.title for h in memory.search("Laos", 10, relevant_to=QB, run_id="B")}
        assert "My notes" in laos and "Laos today" in laos and "Operation Barrel Roll" not in laos
        other = memory.search(QB, 10, relevant_to="How do perovskite solar cells work?")
        assert {h.source.title for h in other} <= {"My notes"}  # the user's documents follow today's rules
    finally:
        memory.close()


def test_claim_and_forget_a_run(tmp_path: Path) -> None:
    memory = _store(tmp_path / "chroma")
    try:
        devgru = memory.source_by_url("http://w.test/devgru")
        assert memory.claim_sources([devgru.id], "C") == 1 and memory.claim_sources([devgru.id], "C") == 0
        assert all("C" in c.run_ids for c in memory.chunks_of(devgru.id))
        memory.add_finding("A", "q", "DEVGRU carried out the raid.", [memory.chunks_of(devgru.id)[0].id])
        mine = memory.upsert_entity("Operation Barrel Roll", "event", run_id="A")
        both = memory.upsert_entity("DEVGRU", "org", run_id="A")
        memory.upsert_entity("DEVGRU", "org", run_id="C")
        memory.upsert_relation(both.id, "took part in", mine.id, run_id="C")
        assert memory.stats()["sources_by_run"] == {"A": 2, "B": 1, "C": 1, "corpus": 1}
        before = memory.stats()
        assert memory.forget_run("nobody") is None and memory.stats() == before
        gone = memory.forget_run("A")
        assert gone is not None and (gone.sources, gone.findings, gone.entities) == (1, 1, 1)
        assert gone.relations == 1  # its end entity went with run A
        assert memory.source_by_url("http://w.test/barrel") is None
        kept = memory.source_by_url("http://w.test/devgru")
        assert kept is not None and kept.metadata["run_ids"] == ["C"]
        assert all(c.run_ids == ("C",) for c in memory.chunks_of(kept.id))
        assert [e.name for e in memory.entities()] == ["DEVGRU"] and memory.entities()[0].run_ids == ("C",)
        assert memory.findings(run_id="A") == [] and memory.relations() == []
        assert "Operation Barrel Roll" not in {h.source.title for h in memory.search("Barrel Roll", 5)}
        assert "A" not in memory.stats()["sources_by_run"]
    finally:
        memory.close()


def test_reuse_notes_count_sources_from_memory_once() -> None:
    from agents.reading import reuse_notes

    def rec(url: str, status: str, sid: str) -> Any:
        return {"url": url, "status": status, "source_id": sid}

    assert reuse_notes([rec("u1", "fetched", "s1")]) == []
    notes = reuse_notes([rec("u1", "fetched", "s1"), rec("u1", "memory", "s1"), rec("u2", "memory", "s2"),
                         rec("u3", "memory", "s2"), rec("u4", "failed", "")])
    assert notes == ["1 of the 2 sources read came from memory (read by an earlier run within the freshness "
                     "window), not fetched again."]


@pytest.mark.parametrize(("texts", "count"), [
    (["Operation Barrel Roll", "Findings", "Neptune Spear unit"], 1),
    (["Reno Stead Airport history", "Reno Stead Airport history", "DEVGRU"], 1),
    (["India", "Special Mission Unit"], 0),  # one common word; a title the question names
    ([], 0),
])
def test_count_foreign(texts: list[str], count: int) -> None:
    from ui.eval.foreign import count_foreign

    others = ["Operation Barrel Roll", "Reno Stead Airport", "India", "Special Mission Unit"]
    assert count_foreign(list(dict.fromkeys(texts)), QB, others) == count


def test_run_texts_reads_the_plan_and_the_report() -> None:
    from ui.eval.foreign import run_texts

    manifest = {"plan": {"outline": ["A", "B"], "subquestions": [{"queries": ["q1", "A"]}, "junk"]}}
    report = {"sections": [{"title": "B"}, {"title": "C"}, 3]}
    assert run_texts(manifest, report) == ["A", "B", "q1", "C"]
    assert run_texts(None, None) == []
