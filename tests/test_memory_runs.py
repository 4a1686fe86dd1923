"""Memory across runs (issue 24): one data directory, three research runs, then ``memory forget --run``.

Real: the Chroma store (one for all runs), fetcher, extraction, tool registry, the graph. Scripted:
the chat model — a *copycat* planner that builds its outline and queries from the memory notes it is
shown, as the small model of the issue did — and the search engine (keywords to pages of the
loopback fixture web, so each question finds only its own topic's pages on the web).

Run A researches Blue Origin's airport; run B an unrelated question that shares a common word
("Operation") and a name ("U.S.") with A's pages: its plan, every prompt, its follow-ups, its
sources and its report hold nothing of A. Run C, on A's topic, is planned from A's pages and reads
them from memory without fetching them again. Forgetting run A leaves B whole; an unknown run id is
one sentence and changes nothing.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from agents.llm.testing import ScriptedChatModel
from tests.research_brain import Brain
from tests.research_harness import build_parts, build_runner, open_memory, small_options
from tools.search.local import LocalBackend
from tools.types import SearchResult

QA = "Which airport supports Blue Origin launches?"
QB = "What group that carried out Operation Neptune Spear is called a Special Mission Unit in the U.S. media?"
QC = "Which airport near Reno serves Blue Origin?"

# path: (title, keywords a query must contain to find the page, text)
PAGES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "/a/blue-origin.html": ("Blue Origin", ("blue origin",), (
        "Blue Origin is an American spaceflight company founded by Jeff Bezos in 2000. "
        "Blue Origin tests its New Shepard engines and serves its launches from a hangar at Reno Stead Airport "
        "in Nevada, the airport that supports Blue Origin's launch operations in the region.")),
    "/a/reno-stead.html": ("Reno Stead Airport", ("reno", "stead", "airport"), (
        "Reno Stead Airport is a public airport north of Reno, Nevada. The airport hosts the Reno Air Races "
        "every September and supports Blue Origin, whose engine tests use its long runway near Reno.")),
    "/a/barrel-roll.html": ("Operation Barrel Roll", ("launches", "barrel roll"), (
        "Operation Barrel Roll was a covert U.S. Air Force bombing campaign in Laos from 1964 to 1973. "
        "Its aircraft launches were flown from bases in Thailand, and the U.S. media rarely reported them.")),
    "/b/neptune-spear.html": ("Operation Neptune Spear", ("neptune spear", "special mission unit"), (
        "Operation Neptune Spear was the 2011 raid in Abbottabad carried out by the Naval Special Warfare "
        "Development Group. The group is often called DEVGRU or SEAL Team Six.")),
    "/b/devgru.html": ("DEVGRU", ("devgru", "special mission unit", "neptune spear"), (
        "DEVGRU, the Naval Special Warfare Development Group, is sometimes referred to in the U.S. media as a "
        "Special Mission Unit. It carried out Operation Neptune Spear under Joint Special Operations Command.")),
}
A_MARKS = ("Barrel Roll", "Reno Stead", "Blue Origin", "Bezos", "Laos")


def page_html(title: str, text: str) -> str:
    return (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"<p>{text}</p><p>{text}</p></article></body></html>")


def keyword_search(web: Any) -> LocalBackend:
    """A search engine over PAGES: a page is a result when the query contains one of its keywords."""

    def search(query: str, k: int) -> list[SearchResult]:
        folded = query.casefold()
        found = [(path, title, text) for path, (title, keys, text) in PAGES.items() if any(w in folded for w in keys)]
        return [SearchResult(title=t, url=web.url(p), snippet=x[:200], rank=i + 1, backend="local")
                for i, (p, t, x) in enumerate(found[:k])]

    return LocalBackend(search)


class Copycat(Brain):
    """The research brain, planning from the memory notes it is shown (as the issue's small model did)."""

    def _plan(self, messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        prompt = "\n".join(m["content"] for m in messages)
        question = re.search(r"Question: (.*)", prompt).group(1)  # type: ignore[union-attr]
        titles = list(dict.fromkeys(re.findall(r'<data label="memory">\n(.*?): ', prompt)))
        if not titles:
            return {"brief": "b", "outline": ["Overview"],
                    "subquestions": [{"question": question, "queries": [question[:90]], "section": "Overview"}]}
        subs = [{"question": f"What does {t} say about this question?", "queries": [t], "section": t} for t in titles]
        return {"brief": "b", "outline": titles, "subquestions": subs}


def research(home: Path, web: Any, memory: Any, question: str) -> tuple[list[dict[str, Any]], ScriptedChatModel]:
    model = ScriptedChatModel(default=Copycat())
    parts = build_parts(home, web.base_url, model, memory=memory, backend=keyword_search(web))
    runner = build_runner(home, parts)
    events = list(runner.stream(question, small_options(breadth=3, depth=1, max_pages=8)))
    assert events[-1]["type"] == "run_finished", events[-1]
    return events, model


def folder(home: Path, events: list[dict[str, Any]]) -> Path:
    return home / "runs" / events[-1]["run_id"]


def run_text(home: Path, events: list[dict[str, Any]], model: ScriptedChatModel) -> dict[str, str]:
    """What run B must keep free of A: its plan, prompts, follow-ups, sources and report."""
    plan = next(e["plan"] for e in events if e["type"] == "plan")
    followups = [q for e in events if e["type"] == "followups" for q in e["subquestions"]]
    prompts = "\n".join(m["content"] for call in model.calls for m in call.messages)
    where = folder(home, events)
    return {"plan": json.dumps(plan), "followups": json.dumps(followups), "prompts": prompts,
            "sources": (where / "sources.json").read_text(), "report": (where / "report.md").read_text(),
            "graph": (where / "graph.json").read_text()}


class _App:
    """The slice of the app ``ui.cli.commands.memory`` uses: the memory."""

    def __init__(self, memory: Any) -> None:
        self._memory = memory

    def memory(self) -> Any:
        return self._memory


def memory_cli(memory: Any, *argv: str) -> int:
    from ui.cli.commands import memory as command

    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return command.run(parser.parse_args(list(argv)), _App(memory))  # type: ignore[arg-type]


@pytest.fixture
def topics(fixture_web: Any) -> Any:
    for path, (title, _keys, text) in PAGES.items():
        fixture_web.add_page(path, page_html(title, text), searchable=False)
    return fixture_web


def test_an_unrelated_run_holds_nothing_of_the_last_a_related_one_reuses_it_and_forget_undoes_one_run(
    tmp_path: Path, topics: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    memory = open_memory(tmp_path / "chroma")
    try:
        a_events, _ = research(tmp_path, topics, memory, QA)
        a_run = a_events[-1]["run_id"]
        a_read = {s["url"] for s in json.loads((folder(tmp_path, a_events) / "sources.json").read_text())}
        assert {topics.url(p) for p in PAGES if p.startswith("/a/")} <= a_read

        # Memory holds A's pages near B's question: only the relevance bar keeps them out of B.
        assert any(h.source.title in ("Operation Barrel Roll", "Blue Origin", "Reno Stead Airport")
                   for h in memory.search(QB, 5))
        b_events, b_model = research(tmp_path, topics, memory, QB)
        planner = next(c for c in b_model.calls if getattr(c.schema, "get", lambda k: None)("title") == "Plan")
        assert "The memory holds nothing on this question yet." in planner.messages[-1]["content"]
        seen = run_text(tmp_path, b_events, b_model)
        for part, text in seen.items():
            assert not [m for m in A_MARKS if m in text], (part, [m for m in A_MARKS if m in text])
        assert "Neptune Spear" in seen["report"]  # B researched its own question

        before = {p: topics.hits(p) for p in PAGES}
        c_events, c_model = research(tmp_path, topics, memory, QC)
        planner = next(c for c in c_model.calls if getattr(c.schema, "get", lambda k: None)("title") == "Plan")
        assert "Blue Origin" in planner.messages[-1]["content"]  # A's pages are about C's question
        c_sources = json.loads((folder(tmp_path, c_events) / "sources.json").read_text())
        reused = {s["url"] for s in c_sources if s["status"] == "memory"}
        assert {topics.url("/a/blue-origin.html"), topics.url("/a/reno-stead.html")} <= reused
        assert all(topics.hits(p) == before[p] for p in PAGES if p.startswith("/a/"))  # nothing fetched again
        c_report = json.loads((folder(tmp_path, c_events) / "report.json").read_text())
        assert any("came from memory" in n for n in c_report["notes"]), c_report["notes"]

        b_sources = {s["source_id"] for s in json.loads((folder(tmp_path, b_events) / "sources.json").read_text())
                     if s["source_id"]}
        b_run = b_events[-1]["run_id"]
        b_findings = len(memory.findings(run_id=b_run))
        b_relations = len(memory.relations(b_run))
        assert memory_cli(memory, "forget", "--run", a_run) == 0
        assert "forgot run" in capsys.readouterr().out
        assert memory.findings(run_id=a_run) == [] and memory.relations(a_run) == []
        assert memory.source_by_url(topics.url("/a/barrel-roll.html")) is None  # A alone read it
        assert memory.source_by_url(topics.url("/a/blue-origin.html")) is not None  # C read it too
        assert a_run not in memory.stats()["sources_by_run"]
        assert all(memory.get_source(s) is not None for s in b_sources)
        assert len(memory.findings(run_id=b_run)) == b_findings and len(memory.relations(b_run)) == b_relations
        assert memory.search(QB, 3, run_id=b_run, relevant_to=QB)  # B's pages still answer B

        stats = memory.stats()
        assert memory_cli(memory, "forget", "--run", "no-such-run") == 2
        err = capsys.readouterr().err.strip()
        assert "no-such-run" in err and err.count(". ") == 0 and len(err.splitlines()) == 1
        assert memory.stats() == stats
    finally:
        memory.close()


def test_eval_with_shared_memory_counts_no_foreign_sections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.scripted_openai import ScriptedOpenAI
    from tests.test_eval import BUDGET, QUESTIONS, embedding_env, run_eval, write_dataset

    dataset = write_dataset(tmp_path / "qa.jsonl", QUESTIONS[:2])  # Veloria's river, then two people's births
    out = tmp_path / "eval"
    with ScriptedOpenAI(Copycat()) as server:
        embedding_env(monkeypatch, server)
        code, result, err = run_eval([str(dataset), "--llm", "openai", "--base-url", server.base_url,
                                      "--llm-model", "scripted", "--shared-memory", "--out", str(out), *BUDGET],
                                     capsys)
    assert code == 0, err
    summary = result["configs"]["model: scripted"]
    assert summary["n"] == 2 and summary["means"]["foreign_sections"] == 0
    rows = json.loads((out / "eval.json").read_text())["configs"]["model: scripted"]["rows"]
    assert [r["foreign_sections"] for r in rows] == [0, 0] and all(r["finished"] for r in rows)
    assert len({Path(r["folder"]).parent for r in rows}) == 1  # one data directory: the memory was shared
    second = json.loads((Path(rows[1]["folder"]) / "manifest.json").read_text())["plan"]
    assert not {"Veloria", "Marsden"} & set(second["outline"])
