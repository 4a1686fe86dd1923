"""A run killed with SIGKILL in the middle of its search phase resumes without refetching or duplicating.

The run starts in a subprocess (the real runner, store and fetcher; the scripted brain) against the
loopback fixture web, which answers slowly so the kill lands while agents are still reading. The
parent resumes the same run id in-process over the same data directory and checks the fixture web's
request log and the store.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from agents.llm.testing import ScriptedChatModel
from agents.settings import Settings
from tests.research_brain import Brain
from tests.research_harness import build_parts, build_runner, resume_subquestions
from ui.manifest import complete_manifest

ROOT = Path(__file__).resolve().parent.parent


def _events(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip().endswith("}")]


def _page_paths(web: Any) -> list[str]:
    return [r.path for r in web.requests if r.path not in ("/search", "/robots.txt")]


def test_sigkill_mid_search_then_resume_refetches_nothing_and_duplicates_nothing(
    tmp_path: Path, fixture_web: Any
) -> None:
    fixture_web.set_latency(0.4)
    home, run_id = tmp_path / "home", "killed-run"
    log = home / "runs" / run_id / "events.jsonl"
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.research_harness",
            str(home),
            fixture_web.base_url,
            "How do perovskite solar cells work?",
            run_id,
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while not any(e["type"] == "page" and e["status"] == "fetched" for e in _events(log)):
            assert child.poll() is None, child.stdout.read().decode() if child.stdout else ""
            assert time.monotonic() < deadline, "the child run never fetched a page"
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    before = _events(log)
    assert not any(e["type"] in ("graph", "run_finished") for e in before)  # killed mid-search
    assert any(e["type"] == "page" and e["status"] == "fetched" for e in before)
    fetched_before = set(_page_paths(fixture_web))

    brain = Brain(subquestions=resume_subquestions())
    parts = build_parts(home, fixture_web.base_url, ScriptedChatModel(default=brain))
    runner = build_runner(home, parts)
    try:
        resumed = list(runner.resume(run_id))
    finally:
        runner.close()
    assert resumed[0]["type"] == "run_resumed" and resumed[-1]["type"] == "run_finished", resumed[-1]
    assert "Plan" not in brain.calls  # the plan came from the checkpoint

    paths = Counter(_page_paths(fixture_web))
    stored = {
        e["url"].removeprefix(fixture_web.base_url) for e in before if e["type"] == "page" and e["status"] == "fetched"
    }
    assert stored and all(paths[p] == 1 for p in stored), (stored, paths)  # stored before the kill: never refetched
    # A page requested twice was still in flight when the child died (its answer was never stored).
    assert all(n == 1 or (p in fetched_before and p not in stored) for p, n in paths.items()), paths
    assert max(paths.values()) <= 2
    memory = parts.memory
    urls = [s.url for s in memory.sources()]
    assert len(urls) == len(set(urls))
    findings = memory.findings(run_id=run_id)
    assert findings and len({(f.question, f.text) for f in findings}) == len(findings)
    report = json.loads((home / "runs" / run_id / "report.json").read_text())
    cited = [c["chunk_id"] for s in report["sections"] for sent in s["sentences"] for c in sent["citations"]]
    assert cited and len(memory.get_chunks(cited)) == len(set(cited))

    # The manifest's cost covers both sessions: the killed one planned (this one did not), each is listed.
    data = complete_manifest(home / "runs" / run_id, Settings(home=home), "test")
    spent = data["cost"]
    sessions = [(s["kind"], s["status"]) for s in spent["sessions"]]
    assert sessions == [("started", "interrupted"), ("resumed", "complete")]
    assert spent["roles"]["planner"]["calls"] >= 1 and "planner" not in data["tokens"]  # tokens: this session only
    this_session = sum(u["calls"] for u in data["tokens"].values())
    assert spent["calls"] == sum(s["calls"] for s in spent["sessions"]) > this_session
    assert spent["wall_s"] == round(sum(s["wall_s"] for s in spent["sessions"]), 2)


def test_a_run_stopped_before_its_first_checkpoint_resumes_from_its_question(tmp_path: Path, fixture_web: Any) -> None:
    """A cancel that lands as a run starts (the MCP client's, under load) left no checkpoint: resume starts it over."""
    from tests.research_harness import small_options

    home, run_id = tmp_path / "home", "stopped-at-once"
    folder = home / "runs" / run_id
    folder.mkdir(parents=True)
    options = small_options()
    (folder / "run.json").write_text(json.dumps({"run_id": run_id, "question": "How do perovskite solar cells work?",
                                                 "status": "interrupted", "options": options.to_json()}))
    brain = Brain()
    runner = build_runner(home, build_parts(home, fixture_web.base_url, ScriptedChatModel(default=brain)))
    try:
        resumed = list(runner.resume(run_id))
    finally:
        runner.close()
    assert resumed[0]["type"] == "run_resumed" and resumed[-1]["type"] == "run_finished", resumed[-1]
    assert "Plan" in brain.calls  # planned from the question: there was no plan to resume
    assert json.loads((folder / "report.json").read_text())["question"] == "How do perovskite solar cells work?"
