"""The ``research`` command end to end: the real app and CLI over the loopback fixture web, with only
the chat model scripted (``tests.cli_harness``). Every format written (HTML escaped, citation links
resolving, PDF with text and figure), ``--json`` progress, every exit code, a batch with a failing
question, and Ctrl-C (a real SIGINT to a child process) followed by ``--resume``."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import app as quarry
from tests.cli_harness import (
    HOSTILE_PAGE,
    HOSTILE_TITLE,
    FailingBrain,
    real_app_env,
    scripted_app,
    small_budget,
)
from tests.export_samples import coloured_pixels, parse, poppler
from tests.research_brain import Brain
from tests.research_harness import resume_subquestions
from tests.scripted_openai import ScriptedOpenAI

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How do perovskite solar cells work?"


def cli(home: Path, web: Any, argv: list[str], brain: Brain | None = None) -> int:
    app = scripted_app(home, web.base_url, brain)
    return quarry.main(argv, app=app)


def test_every_format_written_escaped_and_linked(tmp_path: Path, fixture_web: Any,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    fixture_web.add_page("/articles/hostile.html", HOSTILE_PAGE)
    out = tmp_path / "out"
    code = cli(tmp_path / "home", fixture_web, ["research", QUESTION, *small_budget(), "--max-pages", "40",
                                                "--format", "md,html,pdf,json", "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "Report written" in printed.out
    for name in ("report.md", "report.html", "report.pdf", "report.json", "manifest.json", "sources.json",
                 "graph.json"):
        assert (out / name).is_file(), name
    sources = json.loads((out / "sources.json").read_text())
    assert any(s["url"].endswith("/articles/hostile.html") and s["status"] == "fetched" for s in sources)

    page = (out / "report.html").read_text()
    doc = parse(page)
    assert "script" not in [t for t, _ in doc.tags] and "img" not in [t for t, _ in doc.tags]
    assert all(not k.startswith("on") for _, a in doc.tags for k in a)
    assert HOSTILE_TITLE in "".join(doc.text)  # the hostile title is shown, as text
    ids = {a["id"] for _, a in doc.tags if a.get("id")}
    cites = [str(a["href"]) for t, a in doc.tags if t == "a" and (a.get("href") or "").startswith("#ref-")]
    assert cites and all(h[1:] in ids for h in cites)
    refs = [a["href"] for t, a in doc.tags if t == "a" and (a.get("href") or "").startswith("http://127.0.0.1")]
    assert refs, "the reference list links to the sources"

    report = json.loads((out / "report.json").read_text())
    fetched = {s["source_id"] for s in sources if s["status"] in ("fetched", "memory")}
    assert {r["source_id"] for r in report["references"]} <= fetched
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["quarry_version"] and manifest["queries"] and all(
        f["content_hash"] for f in manifest["fetches"] if f["status"] == "fetched")
    assert manifest["budget_use"]["pages"]["limit"] == 40 and manifest["phases"]
    spent = manifest["cost"]  # per phase and role, over the run's one session
    assert spent["calls"] > 0 and spent["prompt_tokens"] > 0 and len(spent["sessions"]) == 1
    assert {"plan", "search", "draft"} <= set(spent["phases"]) and spent["roles"]["planner"]["calls"] >= 1
    assert sum(p["calls"] for p in spent["phases"].values()) == spent["calls"]
    assert manifest["mode"]["name"] in ("quick", "standard") and manifest["mode"]["reason"]
    last = printed.out.strip().splitlines()[-1]
    assert last.startswith(f"{spent['calls']} model call") and " tokens, " in last

    pdf = out / "report.pdf"
    text = subprocess.run([poppler("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert QUESTION in text and "References" in text
    graph = json.loads((out / "graph.json").read_text())
    subprocess.run([poppler("pdftoppm"), "-r", "30", "-png", str(pdf), str(tmp_path / "p")], check=True)
    coloured = coloured_pixels(tmp_path.glob("p*.png"),
                               lambda r, g, b: 60 < r < 100 and 105 < g < 140 and 150 < b < 185)
    assert (coloured > 10) == bool(graph["nodes"]), (coloured, len(graph["nodes"]))


def test_json_progress_is_json_lines(tmp_path: Path, fixture_web: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli(tmp_path / "home", fixture_web, ["research", QUESTION, *small_budget(), "--max-pages", "40",
                                                "--json", "--format", "md"])
    lines = capsys.readouterr().out.splitlines()
    events = [json.loads(line) for line in lines]  # every line is one JSON object
    assert code == 0
    assert events[0]["type"] == "run_started" and events[-1]["type"] == "result"
    assert events[-1]["exit_code"] == 0 and events[-1]["files"]["md"].endswith("report.md")
    assert all({"type", "run_id", "ts"} <= set(e) for e in events[:-1])
    calls = [e for e in events if e["type"] == "model_call"]
    result = events[-1]
    assert result["cost"]["calls"] == len(calls) > 0 and result["cost"]["sessions"] == 1
    assert result["cost"]["prompt_tokens"] == sum(e["prompt_tokens"] for e in calls)
    assert set(result["cost"]["phases"]) >= {"plan", "search"} and result["mode"]


def test_a_mode_presets_the_budgets_and_flags_override_it(tmp_path: Path, fixture_web: Any,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["research", QUESTION, "--mode", "quick", "--max-pages", "5", "--json", "--format", "md"]
    assert cli(tmp_path / "home", fixture_web, argv) in (0, 3)
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    manifest = json.loads((Path(result["folder"]) / "manifest.json").read_text())
    limits = manifest["limits"]
    assert (result["mode"], limits["depth"], limits["judge"], limits["one_call_draft"]) == ("quick", 0, False, True)
    assert limits["max_pages"] == 5 and limits["max_minutes"] >= 1.5  # the flag beats the preset's 6 pages
    assert not [e for e in map(json.loads, (Path(result["folder"]) / "events.jsonl").read_text().splitlines())
                if e["type"] == "model_call" and e["role"] == "verifier"]  # quick: no model judge


def test_exit_code_3_when_a_budget_runs_out(tmp_path: Path, fixture_web: Any,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["research", QUESTION, *small_budget(), "--max-pages", "2", "--breadth", "2", "--quiet", "--format", "md"]
    code = cli(tmp_path / "home", fixture_web, argv)
    out = capsys.readouterr().out
    assert code == 3 and "Budget ran out; report written" in out


def test_exit_code_1_when_the_run_fails(tmp_path: Path, fixture_web: Any,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code = cli(tmp_path / "home", fixture_web, ["research", "FAIL " + QUESTION, *small_budget(), "--quiet"],
               FailingBrain())
    err = capsys.readouterr().err
    assert code == 1
    (folder,) = (tmp_path / "home" / "runs").iterdir()
    assert f"--resume {folder.name}" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv", [
    ["research", QUESTION, "--format", "md,docx"],
    ["research", QUESTION, "--corpus", "/no/such/folder"],
    ["research", QUESTION, "--model", "/no/such/model.gguf"],
    ["research", QUESTION, "--llm", "openai"],
    ["research", QUESTION, "--max-minutes", "-1"],
    ["research", "--resume", "20990101-000000-ffffff"],
    ["research", "--batch", "/no/such/batch.txt"],
    ["research"],
])
def test_exit_code_2_for_bad_input(tmp_path: Path, fixture_web: Any, capsys: pytest.CaptureFixture[str],
                                   argv: list[str]) -> None:
    assert cli(tmp_path / "home", fixture_web, argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("quarry: ") and "Traceback" not in err


def test_exit_code_2_for_unknown_option(tmp_path: Path, fixture_web: Any) -> None:
    with pytest.raises(SystemExit) as caught:
        cli(tmp_path / "home", fixture_web, ["research", QUESTION, "--no-such-option"])
    assert caught.value.code == 2


def test_batch_with_a_failing_question(tmp_path: Path, fixture_web: Any, capsys: pytest.CaptureFixture[str]) -> None:
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join([
        "# two good questions and one that fails",
        QUESTION,
        json.dumps({"question": "FAIL this one", "depth": 0}),
        json.dumps({"question": "What limits perovskite stability?", "format": "md,json", "max_pages": 30}),
    ]) + "\n")
    code = cli(tmp_path / "home", fixture_web, ["research", "--batch", str(batch), "--parallel", "2", "--json",
                                                *small_budget(), "--max-pages", "30", "--out", str(tmp_path / "o")],
               FailingBrain())
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    summary = lines[-1]
    assert summary["type"] == "batch_summary" and code == 1 and summary["exit_code"] == 1
    rows = {row["line"]: row for row in summary["results"]}
    assert [rows[n]["status"] for n in (2, 3, 4)] == ["complete", "failed", "complete"]
    assert rows[3]["error"] and rows[3]["run_id"]
    assert (tmp_path / "o" / "002" / "report.html").is_file()
    assert (tmp_path / "o" / "004" / "report.json").is_file() and not (tmp_path / "o" / "004" / "report.html").exists()
    results = [line for line in lines if line["type"] == "result"]
    assert len(results) == 3


def test_ctrl_c_then_resume(tmp_path: Path, fixture_web: Any, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    """The unmodified ``python app.py research`` (model over the scripted OpenAI-compatible server):
    SIGINT mid-search exits 130 naming the run; ``--resume`` finishes it without refetching pages."""
    home = Path(os.environ["QUARRY_HOME"])
    with ScriptedOpenAI(Brain(subquestions=resume_subquestions())) as server:
        env = {**os.environ, **real_app_env(server.base_url, fixture_web.base_url)}
        model = ["--llm", "openai", "--base-url", server.base_url, "--llm-model", "scripted"]
        for name in ("QUARRY_LLM__BACKEND", "QUARRY_LLM__BASE_URL", "QUARRY_LLM__MODEL"):
            env.pop(name)  # the chat model comes from the flags
        # One page answers at once, the others only after 15 s (under the fetch deadline): the child is
        # mid-search when it gets SIGINT, however slowly it reached its first fetch on a loaded machine.
        pages = fixture_web.stall_pages(15.0, but=("/articles/perovskite-basics.html",))
        child = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "research", QUESTION, *small_budget(), "--max-pages", "40",
             *model, "--format", "md"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, preexec_fn=_ctrl_c_enabled,
        )
        events_file = wait_for_fetch(home, child)
        signalled = time.time()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
        timeline = [(round(e.get("ts", signalled) - signalled, 2), e["type"], e.get("status", ""))
                    for e in map(json.loads, events_file.read_text().splitlines())]
        assert child.returncode == 130, (out, err, timeline)
        run_id = events_file.parent.name
        assert f"resume with `quarry research --resume {run_id}`" in err and "Traceback" not in err
        assert json.loads((events_file.parent / "run.json").read_text())["status"] == "interrupted"
        first = [json.loads(line) for line in events_file.read_text().splitlines()]
        assert not any(e["type"] == "run_finished" for e in first)
        stored = {e["url"] for e in first if e["type"] == "page" and e.get("status") == "fetched"}

        fixture_web.restore_pages(pages)
        since = time.time()
        for name, value in env.items():  # the same settings, in this process
            if name.startswith("QUARRY_"):
                monkeypatch.setenv(name, value)
        code = quarry.main(["research", "--resume", run_id, *model, "--quiet", "--format", "md,html"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert str(home / "runs" / run_id / "report.html") in printed.out
    after = [json.loads(line) for line in events_file.read_text().splitlines()][len(first):]
    assert after[0]["type"] == "run_resumed" and after[-1]["type"] == "run_finished"
    paths = {urlsplit(u).path for u in stored}
    refetched = {r.path for r in fixture_web.requests if r.ts >= since} & paths
    assert stored and not refetched, refetched


def _ctrl_c_enabled() -> None:
    """In the child before it starts Python: SIGINT back to its default action, as in a terminal.

    A test suite started in the background (``nohup … &``, some CI runners) inherits SIGINT ignored,
    and Python then never turns it into KeyboardInterrupt: the child would run to its end.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for_fetch(home: Path, child: subprocess.Popen[str]) -> Path:
    """The run's events.jsonl once it records a fetched page (the child still running)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and child.poll() is None:
        found = list((home / "runs").glob("*/events.jsonl")) if (home / "runs").is_dir() else []
        if found and '"status": "fetched"' in found[0].read_text():
            return found[0]
        time.sleep(0.1)
    child.kill()
    raise AssertionError(f"the run never fetched a page: {child.communicate()}")


def test_review_edits_the_plan_then_runs_resume_re_exports(tmp_path: Path, fixture_web: Any,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    edited = "How long do perovskite cells last outdoors?"
    monkeypatch.setattr("sys.stdin", io.StringIO(f"2 {edited}\nd 3\n\n"))  # the user's answers at the prompt
    code = cli(home, fixture_web, ["research", QUESTION, *small_budget(), "--max-pages", "40", "--review",
                                   "--quiet", "--format", "md"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "Plan" in printed.err and "How stable are perovskite cells?" in printed.err  # the plan was shown
    (folder,) = (home / "runs").iterdir()
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    assert [e["type"] for e in events].count("run_paused") == 1
    approved = next(e["plan"] for e in events if e["type"] == "plan_approved")
    questions = [s["question"] for s in approved["subquestions"]]
    assert questions == ["What is the band gap of perovskite absorbers?", edited]
    assert {e["question"] for e in events if e["type"] == "search_started"} == set(questions)

    assert not (folder / "report.html").exists()
    assert cli(home, fixture_web, ["runs", "resume", folder.name, "--format", "html,json", "--quiet"]) == 0
    assert (folder / "report.html").is_file() and (folder / "report.json").is_file()
    assert cli(home, fixture_web, ["runs", "resume", "no-such-run"]) == 2
