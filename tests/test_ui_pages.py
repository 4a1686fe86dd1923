"""Streamlit AppTest for each browser page's logic (the real page functions, a scripted run backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from agents.run.modes import limits_for
from agents.settings import Settings
from tests.ui_support import HOSTILE_TITLE, StepBackend, sample_report, write_run
from ui.safe import md_escape
from ui.web.st_common import Ctx
from ui.web.worker import RunRegistry, RunRequest


def _page(ctx: "Ctx", name: str, run_id: str | None) -> None:  # noqa: UP037  (runs as a bare script)
    import importlib

    import streamlit as st

    if run_id:
        st.session_state.setdefault("run_id", run_id)
    module = importlib.import_module(f"ui.web.st_{name}")
    module.render(ctx.settings if name == "settings" else ctx)


def page(ctx: Ctx, name: str, run_id: str | None = None) -> AppTest:
    """An AppTest running one page with the given context."""
    at = AppTest.from_function(_page, args=(ctx, name, run_id), default_timeout=20)
    at.session_state["owner"] = ctx.owner
    return at


@pytest.fixture
def ctx(settings: Settings) -> Ctx:
    return Ctx(settings=settings, registry=RunRegistry(StepBackend(settings.runs_dir)), owner="alice")


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_new_research_starts_a_background_run(ctx: Ctx) -> None:
    at = page(ctx, "new").run()
    assert at.number_input(key="breadth").value == limits_for(ctx.settings).breadth  # the mode's
    assert at.multiselect(key="search").value == ["duckduckgo"]
    at.text_area(key="question").input("How do perovskite cells degrade?")
    at.number_input(key="breadth").set_value(2)
    at.multiselect(key="search").set_value(["searxng", "local"])
    at.button[0].click().run()
    assert not at.exception
    runs = ctx.registry.runs_for("alice")
    assert len(runs) == 1 and at.session_state["run_id"] == runs[0].run_id
    assert runs[0].wait(5) and runs[0].status == "review"
    request = ctx.registry._backend.requests[runs[0].run_id]  # type: ignore[attr-defined]
    assert (request.breadth, request.search, request.review) == (2, ("searxng", "local"), True)


def test_new_research_refuses_bad_input(ctx: Ctx, tmp_path: Path) -> None:
    at = page(ctx, "new").run()
    at.button[0].click().run()
    assert "Type a question" in at.error[0].value
    at.text_area(key="question").input("q")
    at.text_input(key="corpus").input(str(tmp_path / "missing"))
    at.button[0].click().run()
    assert "does not exist" in at.error[0].value
    assert ctx.registry.runs_for("alice") == []


def test_progress_then_plan_review_edits_reach_the_run(ctx: Ctx) -> None:
    handle = ctx.registry.start(RunRequest(question="How do perovskite cells degrade?"), owner="alice")
    assert handle.wait(5)
    at = page(ctx, "progress", handle.run_id).run()
    assert not at.exception
    assert "Waiting for your plan review" in _markdown(at)
    assert [getattr(s, "label", "") for s in at.status] == ["Planning"]
    rid = handle.run_id
    at.text_input(key=f"rv_q_{rid}_s1").input("What does moisture do to perovskites?")
    at.checkbox(key=f"rv_x_{rid}_s2").check()
    at.text_area(key=f"rv_outline_{rid}").input("Degradation\nOutlook")
    at.button(key=f"rv_add_{rid}").click().run()
    new_keys = [w.key for w in at.text_input if w.key and w.key.startswith(f"rv_q_{rid}_")]
    assert len(new_keys) == 3
    at.text_input(key=new_keys[-1]).input("What is the outlook?")
    at.button(key=f"rv_ok_{rid}").click().run()
    assert handle.wait(5) and handle.status == "complete"
    plan = ctx.registry._backend.approved[rid]  # type: ignore[attr-defined]
    assert plan is not None
    assert [s["question"] for s in plan["subquestions"]] == [
        "What does moisture do to perovskites?", "What is the outlook?"]
    assert plan["outline"] == ["Degradation", "Outlook"]
    at.run()
    assert "Finished" in _markdown(at)
    assert [getattr(s, "label", "") for s in at.status] == ["Planning", "Searching and reading", "Drafting",
                                            "Verifying citations", "Publishing"]
    assert at.metric[0].value == "2"  # pages fetched
    assert "**Phase:** Publishing" in _markdown(at)


def test_plan_review_cancel(ctx: Ctx) -> None:
    handle = ctx.registry.start(RunRequest(question="q"), owner="alice")
    assert handle.wait(5)
    at = page(ctx, "progress", handle.run_id).run()
    at.button(key=f"rv_cancel_{handle.run_id}").click().run()
    assert handle.status == "cancelled"
    assert "cancelled" in at.warning[0].value


def test_progress_page_of_a_killed_run_says_so_and_how_to_resume(ctx: Ctx) -> None:
    note = "The process running it stopped before the run finished; resume it with `quarry research --resume rk`."
    ctx.registry.adopt("rk", ctx.owner, question="q", events=[], recorded="interrupted", note=note)
    at = page(ctx, "progress", "rk").run()
    assert any("**Status:** Interrupted" in m.value for m in at.markdown)
    assert [w.value for w in at.warning] == [md_escape(note)]


def test_report_page_escapes_and_shows_citations(ctx: Ctx) -> None:
    report = sample_report("r1")
    write_run(ctx.runs_dir, report)
    at = page(ctx, "report", "r1").run()
    assert not at.exception
    text = _markdown(at)
    assert "\\<script\\>" in text and "<script>" not in text
    assert "](javascript" not in text and "javascript\\:alert" in text
    assert '"Moisture ingress is the main degradation path."' in text  # hover title of [1]
    assert [m.value for m in at.metric] == ["3", "2", "1", "0"]
    labels = sorted(getattr(b, "label", "") for b in at.get("download_button"))
    assert labels == ["Download HTML", "Download JSON", "Download MD", "Download PDF"]
    assert any("budget ran out" in i.value for i in at.info)


def test_report_page_without_a_run(ctx: Ctx) -> None:
    at = page(ctx, "report").run()
    assert "No run selected" in at.info[0].value


def test_sources_page_filters(ctx: Ctx) -> None:
    write_run(ctx.runs_dir, sample_report("r1"))
    at = page(ctx, "sources", "r1").run()
    frame = at.dataframe[0].value
    assert list(frame["title"]) == ["Perovskite stability review", HOSTILE_TITLE, "Unused page"]
    assert list(frame["citations"]) == [2, 1, 0]
    at.text_input(key="src_filter").input("unused").run()
    assert list(at.dataframe[0].value["title"]) == ["Unused page"]
    at.text_input(key="src_filter").input("").run()
    at.checkbox(key="src_cited").check().run()
    assert len(at.dataframe[0].value) == 2


def test_graph_page_lists_facts_of_the_chosen_node(ctx: Ctx) -> None:
    write_run(ctx.runs_dir, sample_report("r1"))
    at = page(ctx, "graph", "r1").run()
    assert not at.exception
    assert at.selectbox(key="kg_node").value == "e1"  # highest degree first
    text = _markdown(at)
    assert "Perovskite — *lifetime* — 5 years ⚠ contradiction" in text
    at.selectbox(key="kg_node").set_value("e4").run()
    assert "Moisture — *degrades* — Perovskite" in _markdown(at)
    assert "\\[1\\] [Perovskite stability review](http://127.0.0.1:1/a.html)" in at.caption[-1].value


def test_history_open_and_delete(ctx: Ctx) -> None:
    write_run(ctx.runs_dir, sample_report("r1"))
    write_run(ctx.runs_dir, sample_report("r2"))
    at = page(ctx, "history").run()
    assert list(at.dataframe[0].value["run"]) == ["r2", "r1"]
    at.selectbox(key="hist_run").set_value("r1")
    at.button(key="hist_open").click().run()
    assert at.session_state["run_id"] == "r1"
    at.selectbox(key="hist_run").set_value("r2")
    at.checkbox(key="hist_confirm").check().run()
    at.button(key="hist_delete").click().run()
    assert not (ctx.runs_dir / "r2").exists() and (ctx.runs_dir / "r1").exists()
    assert list(at.dataframe[0].value["run"]) == ["r1"]


def test_history_resumes_an_unfinished_run(ctx: Ctx) -> None:
    (ctx.runs_dir / "r9").mkdir(parents=True)
    at = page(ctx, "history").run()
    at.button(key="hist_resume").click().run()
    handle = ctx.registry.get("r9")
    assert handle is not None and handle.wait(5) and handle.status == "complete"
    assert at.session_state["run_id"] == "r9"


def test_settings_page_never_shows_keys(ctx: Ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret-value")
    at = page(ctx, "settings").run()
    assert not at.exception
    keys = at.dataframe[1].value
    assert list(keys["variable"]) == ["OPENAI_API_KEY", "TAVILY_API_KEY", "BRAVE_API_KEY"]
    assert list(keys["state"]) == ["set", "not set", "not set"]
    everything = repr([e.value for e in at.main if hasattr(e, "value")])
    assert "sk-very-secret-value" not in everything
    assert "No MCP servers configured." in [t.value for t in at.text]


def test_history_resume_of_a_run_paused_for_review_shows_the_plan(ctx: Ctx) -> None:
    import json

    from tests.ui_support import sample_plan

    folder = ctx.runs_dir / "r7"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"run_id": "r7", "question": "Paused question", "status": "paused",
                                                 "created": "2026-11-22T06:00:00Z"}), encoding="utf-8")
    events = [{"type": "run_started", "run_id": "r7", "ts": 1.0, "question": "Paused question"},
              {"type": "phase", "run_id": "r7", "ts": 1.1, "phase": "plan"},
              {"type": "run_paused", "run_id": "r7", "ts": 2.0, "status": "paused", "plan": sample_plan()}]
    (folder / "events.jsonl").write_text("\n".join(json.dumps(e) for e in events) + "\n", encoding="utf-8")
    at = page(ctx, "history").run()
    assert list(at.dataframe[0].value["status"]) == ["paused"]
    at.button(key="hist_resume").click().run()
    handle = ctx.registry.get("r7")
    assert handle is not None and handle.status == "review" and not handle.active
    progress = page(ctx, "progress", "r7").run()
    assert progress.text_input(key="rv_q_r7_s1").value == "Why do perovskite cells degrade?"
    progress.button(key="rv_ok_r7").click().run()
    assert handle.wait(5) and handle.status == "complete"


def test_settings_page_lists_the_registry_tools(settings: Settings) -> None:
    from app import build_app
    from ui.web.st_settings import tool_rows

    app = build_app(settings)
    try:
        rows = tool_rows(app)
    finally:
        app.close()
    assert rows and all(r["origin"] for r in rows)
    assert "web_search" in {r["tool"] for r in rows}


def test_the_app_entry_point_builds_the_app_and_shows_new_research() -> None:
    import streamlit as st

    from ui.cli.commands.ui import SCRIPT

    at = AppTest.from_file(str(SCRIPT), default_timeout=60)
    try:
        at.run()
        assert not at.exception
        assert [t.value for t in at.title] == ["New research"]
        assert at.button[0].label == "Start research"
        at.query_params["run"] = "no-such-run"
        at.run()
        assert "run_id" not in at.session_state  # an unknown run in the URL is not adopted
    finally:
        st.cache_resource.clear()  # the app is built once per server process; this test is one


def test_graph_page_shows_the_whole_memory(ctx: Ctx, tmp_path: Path) -> None:
    from dataclasses import dataclass as _dataclass

    from tests.research_harness import open_memory

    memory = open_memory(tmp_path / "chroma")

    @_dataclass
    class _MemoryApp:
        store: Any

        def memory(self) -> Any:
            return self.store

    sun = memory.upsert_entity("Sun", "star", run_id="old")
    earth = memory.upsert_entity("Earth", "planet", run_id="old")
    memory.upsert_relation(earth.id, "orbits", sun.id, source_ids=["s9"], run_id="old")
    write_run(ctx.runs_dir, sample_report("r1"))
    ctx.app = _MemoryApp(memory)
    try:
        at = page(ctx, "graph", "r1").run()
        assert "Perovskite" in _markdown(at)
        at.toggle(key="kg_whole").set_value(True).run()
        assert not at.exception
        assert "Earth — *orbits* — Sun" in _markdown(at)
        assert "2 entities, 1 facts" in at.caption[0].value
    finally:
        memory.close()
