"""Follow-up questions on a finished run (``ui.followup``, ``quarry ask``, ``ui.api.ask_with``).

The real app and CLI over the loopback fixture web with only the chat model scripted: a follow-up
the run's memory holds is answered from it, cited and screened, fetching nothing; one it lacks is
researched in a quick-mode run whose sources join the run, so the next follow-up on it comes from
memory; a model that declines still gets the floor's quoted answer; bad input is one sentence and
writes nothing; ``runs show`` lists the exchanges; ``report.md`` never changes. Pure helpers first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import app as quarry
from agents.errors import ModelDeclinedError
from agents.llm.testing import ScriptedChatModel
from agents.settings import Settings
from tests.cli_harness import ScriptedApp, small_budget
from tests.fixture_web import FixtureWeb
from tests.research_brain import Brain
from tests.research_harness import build_parts, build_runner
from ui import followup
from ui.api import ask_with
from ui.errors import BadInputError
from ui.followup import Followup
from ui.safe import md_escape

QUESTION = "How do perovskite solar cells work?"
IN_MEMORY = "What is the band gap of methylammonium lead iodide?"
NOT_IN_MEMORY = "What coefficient of performance do heat pumps reach in cold climates?"
HEAT_PUMPS = (
    "<html><head><title>Heat pumps in cold climates</title></head><body><article>"
    "<h1>Heat pumps in cold climates</h1><p>Cold-climate air-source heat pumps reached a coefficient of "
    "performance of 2.1 at minus 15 degrees Celsius in a Canadian field study.</p><p>Defrost cycles lower the "
    "seasonal efficiency of heat pumps by about 10 percent.</p></article></body></html>"
)


# -- pure helpers ------------------------------------------------------------------------------------


def test_coverage_counts_the_follow_ups_own_words_only() -> None:
    assert followup.own_words("When did the band gap change?") == {"band", "gap", "change"}
    assert followup.coverage("What is the band gap?", ["Its band gap is 1.55 eV."]) == 1.0
    assert followup.coverage("What is the band gap?", ["The band is wide.", "A gap of 2 eV."]) == 1.0
    assert followup.coverage("What is the band gap?", ["Heat pumps reach a COP of 2."]) == 0.0
    assert followup.coverage("What?", ["Anything at all."]) == 0.0


def test_graph_chunk_ids_follow_facts_naming_the_follow_up() -> None:
    graph = {"nodes": [{"id": "a", "name": "Tsutomu Miyasaka"}, {"id": "b", "name": "perovskite cell"},
                       {"id": "c", "name": "LONGi"}],
             "edges": [{"source": "a", "target": "b", "chunk_ids": ["c1", "c2"]},
                       {"source": "c", "target": "b", "chunk_ids": ["c3"]}, "junk"]}
    assert followup.graph_chunk_ids(graph, "What did Miyasaka report?", 5) == ["c1", "c2"]
    assert followup.graph_chunk_ids(graph, "Which cell did LONGi make?", 5) == ["c1", "c2", "c3"][:5]
    assert followup.graph_chunk_ids(graph, "What did Miyasaka report?", 1) == ["c1"]
    assert followup.graph_chunk_ids(None, "anything", 5) == []


def test_only_sentences_their_passages_support_are_kept() -> None:
    texts = {"c1": "Its band gap of about 1.55 eV is close to the ideal value.", "c2": "Tin oxidises quickly."}
    said = [{"text": "The band gap is about 1.55 eV.", "chunk_ids": ["c1"]},
            {"text": "The moon is made of green cheese.", "chunk_ids": ["c1"]},
            {"text": "The band gap is 1.55 eV.", "chunk_ids": ["zz"]}]
    assert followup.verified("What is the band gap?", said, texts) == [
        {"text": "The band gap is about 1.55 eV.", "chunk_ids": ["c1"]}]


def test_with_refs_numbers_sources_in_order_of_first_citation() -> None:
    sources = {"c1": {"title": "A", "url": "http://a", "source_id": "s1"},
               "c2": {"title": "B", "url": "http://b", "source_id": "s2"},
               "c3": {"title": "A", "url": "http://a", "source_id": "s1"}}
    sentences, refs = followup.with_refs([{"text": "x", "chunk_ids": ["c2"]},
                                          {"text": "y", "chunk_ids": ["c3", "c1", "gone"]}], sources)
    assert [s["refs"] for s in sentences] == [[1], [2]]
    assert [(r["n"], r["title"]) for r in refs] == [(1, "B"), (2, "A")]


def test_an_elliptical_follow_up_is_researched_with_its_context() -> None:
    original = "Who created the TV show Firefly?"
    assert followup.research_question("When did it last air?", original) == \
        "When did it last air? (context: Who created the TV show Firefly?)"
    assert followup.research_question("When did Firefly last air?", original) == "When did Firefly last air?"
    assert followup.research_question("What do heat pumps cost?", original) == "What do heat pumps cost?"


@pytest.mark.parametrize(("question", "sentence"), [
    ("", "The follow-up question is empty"), ("  \n ", "The follow-up question is empty"),
    (None, "The follow-up question is empty"), ("why " * 1200, "the limit is 4,000"),
])
def test_bad_follow_ups_are_one_sentence(question: Any, sentence: str) -> None:
    with pytest.raises(BadInputError, match=sentence):
        followup.check_followup(question)


def test_exchanges_round_trip_and_join_the_scope(tmp_path: Path) -> None:
    (tmp_path / "sources.json").write_text(json.dumps([
        {"source_id": "s1", "status": "fetched"}, {"source_id": "s2", "status": "memory"},
        {"source_id": "s3", "status": "failed"}]))
    exchange = Followup(run_id="r", question="Q?", answer="A", source_ids=["s4", "s1"], origin="research",
                        research_run="r-ask1", sentences=[{"text": "A is so.", "chunk_ids": ["c"], "refs": [1]}],
                        references=[{"n": 1, "title": "T", "url": "http://t", "source_id": "s4"}])
    followup.append_followup(tmp_path, exchange)
    (tmp_path / "followups.jsonl").open("a").write("not json\n")
    assert followup.load_followups(tmp_path) == [exchange]
    assert followup.run_scope(tmp_path) == ["s1", "s2", "s4"]
    assert "A is so. [1]" in exchange.markdown() and "[1] T — http://t" in exchange.markdown()


# -- the real app over the fixture web ---------------------------------------------------------------


@dataclass
class FollowupApp(ScriptedApp):
    """The scripted app whose memory and models are the runner's own (so follow-ups read what runs stored)."""

    def runner(self) -> Any:
        if "runner" not in self._parts:
            parts = build_parts(self.settings.home, self.search_url, ScriptedChatModel(default=self.brain))
            self._parts["run_parts"] = parts
            self._parts["runner"] = build_runner(self.settings.home, parts)
        return self._parts["runner"]

    def memory(self, *, reindex: bool = False) -> Any:
        self.runner()
        return self._parts["run_parts"].memory

    def models(self) -> Any:
        self.runner()
        return self._parts["run_parts"].models


class DecliningBrain(Brain):
    """A model that declines every follow-up (as ``llm.backend = "none"`` does)."""

    def _answer(self, messages: Any, schema: Any) -> dict[str, Any]:
        raise ModelDeclinedError("No model is configured; the floor decides instead.")


def cli(home: Path, web: FixtureWeb, argv: list[str], brain: Brain | None = None) -> int:
    return quarry.main(argv, app=FollowupApp(settings=Settings(home=home), search_url=web.base_url,
                                             brain=brain or Brain()))


@pytest.fixture
def web() -> Any:
    with FixtureWeb() as served:
        served.add_page("/articles/heat-pumps.html", HEAT_PUMPS)
        yield served


@pytest.fixture
def finished(tmp_path: Path, web: FixtureWeb, capsys: pytest.CaptureFixture[str]) -> str:
    code = cli(tmp_path / "home", web, ["research", QUESTION, *small_budget(), "--quiet", "--format", "md"])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    (run_id,) = [p.name for p in (tmp_path / "home" / "runs").iterdir()]
    return run_id


def exchanges(home: Path, run_id: str) -> list[dict[str, Any]]:
    path = home / "runs" / run_id / "followups.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def test_ask_answers_from_memory_then_researches_what_memory_lacks(
        tmp_path: Path, web: FixtureWeb, finished: str, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    report_md = (home / "runs" / finished / "report.md").read_bytes()
    before = len(web.requests)
    assert cli(home, web, ["ask", finished, IN_MEMORY]) == 0
    printed = capsys.readouterr().out
    assert "band gap" in printed and "(from the run's memory)" in printed and "[1] " in printed
    assert len(web.requests) == before, "a follow-up memory holds fetches nothing"
    (first,) = exchanges(home, finished)
    assert first["origin"] == "memory" and first["research_run"] is None
    assert all(s["refs"] for s in first["sentences"]) and first["references"]

    assert cli(home, web, ["ask", finished, NOT_IN_MEMORY, "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["origin"] == "research" and web.hits("/articles/heat-pumps.html") >= 1
    assert "2.1" in " ".join(s["text"] for s in second["sentences"])
    child = json.loads((home / "runs" / second["research_run"] / "run.json").read_text())
    assert child["options"]["limits"]["mode"] == "quick" and child["options"]["limits"]["judge"] is False
    assert second["source_ids"]

    before = len(web.requests)
    assert cli(home, web, ["ask", finished, "How do heat pumps fare at minus 15 degrees Celsius?"]) == 0
    third = exchanges(home, finished)[-1]
    assert third["origin"] == "memory" and len(web.requests) == before, "the round's sources joined the run"
    assert any(r["url"].endswith("/articles/heat-pumps.html") for r in third["references"])
    assert (home / "runs" / finished / "report.md").read_bytes() == report_md

    capsys.readouterr()
    assert cli(home, web, ["runs", "show", finished]) == 0
    shown = capsys.readouterr().out
    assert f"Follow-up: {IN_MEMORY}" in shown and "heat pumps" in shown
    assert cli(home, web, ["runs", "--json", "show", finished]) == 0
    assert [f["question"] for f in json.loads(capsys.readouterr().out)["followups"]][:1] == [IN_MEMORY]


def test_the_floor_answers_when_the_model_declines_and_no_research_fetches_nothing(
        tmp_path: Path, web: FixtureWeb, finished: str, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    assert cli(home, web, ["ask", finished, IN_MEMORY], DecliningBrain()) == 0
    answer = exchanges(home, finished)[-1]
    assert answer["origin"] == "memory" and "band gap" in " ".join(s["text"] for s in answer["sentences"])
    before = len(web.requests)
    assert cli(home, web, ["ask", finished, NOT_IN_MEMORY, "--no-research"]) == 0
    lacking = exchanges(home, finished)[-1]
    assert lacking["origin"] == "none" and len(web.requests) == before


@pytest.mark.parametrize(("argv", "sentence"), [
    (["ask", "no-such-run", "Why?"], "There is no run 'no-such-run'"),
    (["ask", "../etc", "Why?"], "is not a run id"),
    (["ask", "RUN", ""], "The follow-up question is empty"),
    (["ask", "RUN", "why " * 1200], "the limit is 4,000"),
    (["ask", "RUN", "Why?", "--max-minutes", "0"], "positive number of minutes"),
])
def test_bad_input_is_one_sentence_and_nothing_is_written(
        tmp_path: Path, web: FixtureWeb, finished: str, capsys: pytest.CaptureFixture[str],
        argv: list[str], sentence: str) -> None:
    home = tmp_path / "home"
    folders = sorted(p.name for p in (home / "runs").iterdir())
    assert cli(home, web, [finished if a == "RUN" else a for a in argv]) == 2
    err = capsys.readouterr().err
    assert sentence in err and len(err.strip().splitlines()) == 1
    assert exchanges(home, finished) == [] and sorted(p.name for p in (home / "runs").iterdir()) == folders


def test_a_run_without_a_report_cannot_be_asked_about(tmp_path: Path, web: FixtureWeb,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    (home / "runs" / "20261205-000000-aaaaaa").mkdir(parents=True)
    assert cli(home, web, ["ask", "20261205-000000-aaaaaa", "Why?"]) == 2
    assert "has no report yet" in capsys.readouterr().err
    assert list((home / "runs" / "20261205-000000-aaaaaa").iterdir()) == []


def test_the_python_api_asks_through_the_same_path(tmp_path: Path, web: FixtureWeb, finished: str) -> None:
    app = FollowupApp(settings=Settings(home=tmp_path / "home"), search_url=web.base_url, brain=Brain())
    try:
        exchange = ask_with(quarry.build_app, finished, IN_MEMORY, app=app)
    finally:
        app.close()
    assert isinstance(exchange, Followup) and exchange.origin == "memory" and exchange.references
    assert exchanges(tmp_path / "home", finished)[-1]["question"] == IN_MEMORY


# -- the report page's question box (Streamlit AppTest; the browser test drives it in Chromium) --------


def _report_page(ctx: "Ctx", run_id: str) -> None:  # type: ignore[name-defined]  # noqa: F821, UP037  (a bare script)
    import streamlit as st

    from ui.web import st_report

    st.session_state.setdefault("run_id", run_id)
    st_report.render(ctx)


def test_report_page_lists_follow_ups_escaped_and_refuses_an_empty_question(tmp_path: Path) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.ui_support import sample_report, write_run
    from ui.web.st_common import Ctx
    from ui.web.worker import RunRegistry

    settings = Settings(home=tmp_path / "home")

    @dataclass
    class Stub:
        settings: Settings

    ctx = Ctx(settings=settings, registry=RunRegistry(None), owner="alice", app=Stub(settings))  # type: ignore[arg-type]
    write_run(settings.runs_dir, sample_report("r1"))
    hostile = Followup(run_id="r1", question="<script>alert(1)</script> why?", answer="**bold** [x](javascript:1)",
                       sentences=[{"text": "It is <b>so</b>.", "chunk_ids": ["c"], "refs": [1]}],
                       references=[{"n": 1, "title": "T", "url": "javascript:alert(2)", "source_id": "s"}])
    followup.append_followup(settings.runs_dir / "r1", hostile)
    at = AppTest.from_function(_report_page, args=(ctx, "r1"), default_timeout=20)
    at.session_state["owner"] = "alice"
    at.run()
    assert not at.exception
    shown = "\n".join(m.value for m in at.markdown)
    assert "Follow-up questions" in [h.value for h in at.header]
    assert f"**Q:** {md_escape(hostile.question)}" in shown and md_escape("It is <b>so</b>.") in shown
    assert "](javascript" not in shown and "<b>" not in shown
    at.text_input[0].input("   ")
    at.button[0].click().run()
    empty = "The follow-up question is empty; give a question about the report."
    assert [e.value for e in at.error] == [md_escape(empty)]
    assert len(followup.load_followups(settings.runs_dir / "r1")) == 1
