"""The browser UI's research backend over the real ``agents.run.runner.Runner``: review pause, edited plan, report.

Real: the runner, LangGraph with its SQLite checkpointer, a temporary Chroma store, the fetcher and
the SearXNG search of the loopback fixture web. Scripted: only the chat model (the research brain).
The "app" handed to ``AppResearch`` is the seam: anything with ``settings`` and ``runner()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.llm.testing import ScriptedChatModel
from agents.settings import Settings
from tests.research_brain import Brain
from tests.research_harness import build_parts, build_runner
from ui.web.live import fold
from ui.web.research import AppResearch, options_for, settings_for
from ui.web.worker import RunRegistry, RunRequest


@dataclass
class _RunnerApp:
    settings: Settings
    runner_: Any

    def runner(self) -> Any:
        return self.runner_


def test_review_edit_and_report_through_the_real_runner(tmp_path: Path, fixture_web: Any, settings: Settings) -> None:
    parts = build_parts(tmp_path, fixture_web.base_url, ScriptedChatModel(default=Brain()))
    runner = build_runner(tmp_path, parts)
    registry = RunRegistry(AppResearch(_RunnerApp(settings, runner)))
    try:
        request = RunRequest(question="How do perovskite solar cells work?", breadth=2, depth=0, max_pages=6)
        handle = registry.start(request, owner="alice")
        assert handle.wait(120), "the run did not pause"
        assert handle.status == "review", handle.error
        assert handle.plan is not None
        plan = dict(handle.plan)
        plan["subquestions"] = [dict(plan["subquestions"][0], question="What is the perovskite band gap?",
                                     queries=["perovskite band gap"])]
        registry.approve(handle.run_id, plan)
        assert handle.wait(180), "the run did not finish"
        assert handle.status == "complete", handle.error
    finally:
        runner.close()
    report = handle.report
    assert report is not None and report.run_id == handle.run_id and report.references
    view = fold(handle.events())
    searched = [s.question for s in view.state.subs.values() if s.state == "done"]
    assert searched == ["What is the perovskite band gap?"]
    assert view.state.pages_fetched >= 1
    assert {"Planning", "Searching and reading", "Drafting", "Publishing"} <= {p.label for p in view.phases}
    assert (tmp_path / "runs" / handle.run_id / "report.json").is_file()


def test_request_values_become_settings_and_limits(settings: Settings) -> None:
    request = RunRequest(question="q", breadth=2, depth=0, max_pages=5, search=("searxng",), model="other.gguf")
    changed = settings_for(settings, request)
    assert changed.search.backends == ["searxng"] and changed.llm.model == "other.gguf"
    assert settings.search.backends == ["duckduckgo"]  # the shared settings are untouched
    assert settings_for(settings, RunRequest(question="q")) == settings
    limits = options_for(settings, request).limits
    assert (limits.breadth, limits.depth, limits.max_pages) == (2, 0, 5)
    assert limits.max_tokens == settings.budget.max_tokens


def test_stopping_a_real_run_leaves_it_resumable(tmp_path: Path, fixture_web: Any, settings: Settings) -> None:
    fixture_web.set_latency(0.3)  # slow pages, so the stop lands in the search phase
    parts = build_parts(tmp_path, fixture_web.base_url, ScriptedChatModel(default=Brain()))
    runner = build_runner(tmp_path, parts)
    registry = RunRegistry(AppResearch(_RunnerApp(settings, runner)))
    try:
        handle = registry.start(RunRequest(question="How do perovskite solar cells work?", breadth=2, depth=0,
                                           max_pages=6, review=False), owner="alice")
        while handle.active and not any(e["type"] == "search_started" for e in handle.events()):
            handle.wait(0.05)
        registry.cancel(handle.run_id)
        assert handle.wait(60) and handle.status == "cancelled"
        assert (tmp_path / "runs" / handle.run_id / "report.json").is_file() is False
        fixture_web.set_latency(0.0)
        registry.resume(handle.run_id, owner="alice")
        assert handle.wait(180) and handle.status == "complete", handle.error
    finally:
        runner.close()
    assert handle.report is not None and handle.report.references
    assert [e["type"] for e in handle.events()].count("run_resumed") == 1


def test_other_backends_or_model_run_on_one_variant_app(tmp_path: Path, fixture_web: Any, settings: Settings) -> None:
    parts = build_parts(tmp_path, fixture_web.base_url, ScriptedChatModel(default=Brain()))
    runner = build_runner(tmp_path, parts)
    built: list[Settings] = []

    def build(changed: Settings) -> _RunnerApp:
        built.append(changed)
        return _RunnerApp(changed, runner)

    registry = RunRegistry(AppResearch(_RunnerApp(settings, runner), build=build))
    try:
        for question in ("first question on perovskite", "second question on perovskite"):
            handle = registry.start(RunRequest(question=question, breadth=1, depth=0, max_pages=2,
                                               search=("searxng",), review=False), owner="o")
            assert handle.wait(120) and handle.status == "complete", handle.error
        default = registry.start(RunRequest(question="third on perovskite", breadth=1, depth=0, max_pages=2,
                                            review=False), owner="o")
        assert default.wait(120) and default.status == "complete", default.error
    finally:
        runner.close()
    assert [s.search.backends for s in built] == [["searxng"]]


@dataclass
class _CorpusApp(_RunnerApp):
    memory_: Any

    def memory(self) -> Any:
        return self.memory_


def test_a_corpus_folder_is_indexed_and_cited(tmp_path: Path, fixture_web: Any, settings: Settings) -> None:
    from memory.store import Filters
    from tests.research_harness import open_memory
    from tools.search.local import LocalBackend
    from tools.types import SearchResult

    memory = open_memory(tmp_path / "chroma")

    def local_search(query: str, k: int) -> list[SearchResult]:
        hits = memory.search(query, k=k, filters=Filters(kind="local"))
        return [SearchResult(h.source.title, h.source.url, h.chunk.text[:200], i, "local")
                for i, h in enumerate(hits, start=1)]

    corpus = tmp_path / "notes"
    corpus.mkdir()
    (corpus / "cells.md").write_text(
        "# Perovskite lab notes\n\nOur perovskite solar cells degrade under humidity within 200 hours.\n"
    )
    parts = build_parts(tmp_path, fixture_web.base_url, ScriptedChatModel(default=Brain()),
                        memory=memory, backend=LocalBackend(local_search))
    runner = build_runner(tmp_path, parts)
    # With `local` already configured the request needs no second app (the UI builds one per settings).
    settings = settings.model_copy(update={"search": settings.search.model_copy(update={"backends": ["local"]})})
    registry = RunRegistry(AppResearch(_CorpusApp(settings, runner, memory)))
    try:
        missing = registry.start(RunRequest(question="q", corpus=str(tmp_path / "nowhere"), review=False), owner="a")
        assert missing.wait(30) and missing.status == "failed"
        assert "is not a folder" in (missing.error or "")
        handle = registry.start(RunRequest(question="How do perovskite solar cells degrade?", breadth=1, depth=0,
                                           max_pages=4, corpus=str(corpus), review=False), owner="alice")
        assert handle.wait(180), "the run did not finish"
        assert handle.status == "complete", handle.error
    finally:
        runner.close()
    report = handle.report
    assert report is not None
    local_refs = [r for r in report.references if r.kind == "local"]
    assert [Path(r.url).name for r in local_refs] == ["cells.md"]
    assert fixture_web.requests == [] or all("cells" not in r.path for r in fixture_web.requests)
