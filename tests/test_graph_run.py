"""The run API's edges: bad input is one clear error; resuming a finished run changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agents.errors import RunError
from agents.llm.testing import ScriptedChatModel
from tests.research_brain import Brain
from tests.research_harness import build_parts, build_runner, small_options


def test_bad_input_is_a_clear_error(tmp_path: Path, fixture_web: Any) -> None:
    runner = build_runner(tmp_path, build_parts(tmp_path, fixture_web.base_url, ScriptedChatModel(default=Brain())))
    try:
        with pytest.raises(RunError, match="question is empty"):
            runner.stream("   ")
        with pytest.raises(RunError, match="no run"):
            runner.resume("20990101-000000-abcdef")
        with pytest.raises(RunError, match="not a run id"):
            runner.folder("../etc")
        assert runner.report("20990101-000000-abcdef") is None and runner.info("20990101-000000-abcdef") is None
    finally:
        runner.close()


def test_resuming_a_finished_run_returns_its_report_without_work(tmp_path: Path, fixture_web: Any) -> None:
    brain = Brain()
    model = ScriptedChatModel(default=brain)
    runner = build_runner(tmp_path, build_parts(tmp_path, fixture_web.base_url, model))
    try:
        first = list(runner.stream("How do perovskite solar cells work?", small_options()))
        run_id = first[-1]["run_id"]
        calls, requests = len(model.calls), len(fixture_web.requests)
        again = list(runner.resume(run_id))
    finally:
        runner.close()
    assert [e["type"] for e in again] == ["run_resumed", "run_finished"]
    assert again[-1]["status"] == first[-1]["status"]
    assert len(model.calls) == calls and len(fixture_web.requests) == requests
    info = json.loads((tmp_path / "runs" / run_id / "run.json").read_text())
    assert info["question"] == "How do perovskite solar cells work?" and info["status"] == first[-1]["status"]
    logged = [
        json.loads(line)["type"] for line in (tmp_path / "runs" / run_id / "events.jsonl").read_text().splitlines()
    ]
    assert logged[0] == "run_started" and logged.count("run_finished") == 2


def test_each_manifest_counts_only_its_own_runs_tokens(tmp_path: Path, fixture_web: Any) -> None:
    model = ScriptedChatModel(default=Brain())
    runner = build_runner(tmp_path, build_parts(tmp_path, fixture_web.base_url, model))  # one pool, two runs
    try:
        ids = [list(runner.stream(q, small_options()))[-1]["run_id"]
               for q in ("How do perovskite solar cells work?", "How stable are perovskite cells?")]
    finally:
        runner.close()
    manifests = [json.loads((tmp_path / "runs" / i / "manifest.json").read_text()) for i in ids]
    calls = [sum(u["calls"] for u in m["tokens"].values()) for m in manifests]
    assert calls[0] > 0 and calls[1] > 0 and sum(calls) == len(model.calls)  # not the pool's running total
