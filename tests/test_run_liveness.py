"""Run liveness: a run whose process dies reads as interrupted (CLI ``runs``, ``runs --json``, the History
page) with one sentence naming the resume command, ``--resume`` finishes it, and a run that a live
session is executing is listed as running and cannot be executed a second time at once.

The killed run is a real subprocess (``tests.research_harness``: the real runner, store and fetcher
with the scripted brain) over the slow loopback fixture web, killed with SIGKILL mid-search; the
``runs`` and ``research --resume`` commands are the real CLI in this process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

import app as quarry
from agents.errors import RunBusyError
from agents.llm.testing import ScriptedChatModel
from agents.run.lock import LOCK_NAME, RunLock, lock_state
from agents.settings import Settings
from tests.cli_harness import scripted_app
from tests.research_brain import Brain
from tests.research_harness import build_parts, build_runner, resume_subquestions, small_options
from tests.ui_support import StepBackend
from ui import run_files
from ui.safe import md_escape
from ui.web.st_common import Ctx
from ui.web.worker import RunRegistry

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How do perovskite solar cells work?"


def _history(ctx: "Ctx") -> None:  # noqa: UP037  (runs as a bare script)
    from ui.web import st_history

    st_history.render(ctx)


def history_page(home: Path) -> AppTest:
    """The History page over the data directory ``home``, run by Streamlit's AppTest."""
    settings = Settings(home=home)
    ctx = Ctx(settings=settings, registry=RunRegistry(StepBackend(settings.runs_dir)), owner="alice")
    at = AppTest.from_function(_history, args=(ctx,), default_timeout=30)
    at.session_state["owner"] = "alice"
    return at.run()


def cli(home: Path, argv: list[str], capsys: pytest.CaptureFixture[str], app: Any = None) -> tuple[int, str, str]:
    """Run the real CLI on ``home``; returns (exit code, stdout, stderr)."""
    code = quarry.main(argv, app=app or quarry.App(settings=Settings(home=home)))
    printed = capsys.readouterr()
    return code, printed.out, printed.err


def listed(home: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    """``runs --json`` by run id."""
    code, out, err = cli(home, ["runs", "--json"], capsys)
    assert code == 0, err
    return {row["run_id"]: row for row in json.loads(out)}


def events(folder: Path) -> list[dict[str, Any]]:
    """The run's events.jsonl (a line cut by the kill is skipped)."""
    path = folder / "events.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    return [json.loads(line) for line in lines if line.strip().endswith("}")]


def start_child(home: Path, web: Any, run_id: str) -> subprocess.Popen[bytes]:
    """A research run in a child process; returns once it has fetched a page (still searching)."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.research_harness", str(home), web.base_url, QUESTION, run_id],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while not any(e["type"] == "page" and e.get("status") == "fetched" for e in events(home / "runs" / run_id)):
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            raise AssertionError(f"the child run never fetched a page: {child.communicate()[0].decode()}")
        time.sleep(0.05)
    return child


def test_sigkilled_run_reads_interrupted_everywhere_and_resumes(
    tmp_path: Path, fixture_web: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    home, run_id = tmp_path / "home", "20261122-100000-k1ll3d"
    folder = home / "runs" / run_id
    # One page answers at once, the others only after 15 s (under the fetch deadline): the child is
    # mid-search, waiting on them, for as long as the checks below take.
    pages = fixture_web.stall_pages(15.0, but=("/articles/perovskite-basics.html",))
    child = start_child(home, fixture_web, run_id)
    try:
        # While the child executes the run: listed as running, by that process, and not executable twice.
        row = listed(home, capsys)[run_id]
        assert row["status"] == "running" and row["note"].startswith(f"Running in process {child.pid} on ")
        code, _, err = cli(home, ["research", "--resume", run_id, "--quiet", "--format", "md"], capsys)
        assert code == 1 and "Traceback" not in err, err
        assert f"Run {run_id} is already running (process {child.pid} on " in err
        assert f"resume with `quarry research --resume {run_id}`." in err
        assert not any(e["type"] == "run_resumed" for e in events(folder))  # the refused resume wrote nothing
        code, _, err = cli(home, ["runs", "delete", run_id], capsys)
        assert code == 2 and "still running" in err and folder.is_dir()
        at = history_page(home)
        assert not at.exception and list(at.dataframe[0].value["status"]) == ["running"]
        assert at.button(key="hist_resume").disabled and at.button(key="hist_delete").disabled
        assert f"Running in process {child.pid}" in at.info[0].value
        assert child.poll() is None and not any(e["type"] == "run_finished" for e in events(folder))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    fixture_web.restore_pages(pages)

    # Killed: run.json still says "running" (nothing could update it), every reader says interrupted.
    assert json.loads((folder / "run.json").read_text())["status"] == "running"
    note = (f"The process running it stopped before the run finished (killed or shut down) and what it fetched "
            f"is kept; resume it with `quarry research --resume {run_id}`.")
    assert listed(home, capsys)[run_id] == {"run_id": run_id, "created": listed(home, capsys)[run_id]["created"],
                                            "status": "interrupted", "question": QUESTION, "note": note}
    code, out, _ = cli(home, ["runs"], capsys)
    assert code == 0 and "interrupted" in out and f"{run_id}: {note}" in out
    code, out, _ = cli(home, ["runs", "--json", "show", run_id], capsys)
    assert code == 0 and (json.loads(out)["status"], json.loads(out)["note"]) == ("interrupted", note)
    at = history_page(home)
    assert not at.exception and list(at.dataframe[0].value["status"]) == ["interrupted"]
    assert at.warning[0].value == md_escape(note) and not at.button(key="hist_resume").disabled

    # The resume command the sentence names finishes the run from its checkpoint.
    code, out, err = cli(home, ["research", "--resume", run_id, "--quiet", "--format", "md"], capsys,
                         app=scripted_app(home, fixture_web.base_url))
    assert code == 0, err
    assert str(folder / "report.md") in out
    types = [e["type"] for e in events(folder)]
    assert types.count("run_resumed") == 1 and types[-1] == "run_finished"
    row = listed(home, capsys)[run_id]
    assert row["status"] == "complete" and row["note"] == ""
    assert lock_state(folder) == "free"


def test_a_live_session_is_running_a_second_is_refused_and_a_cancelled_one_reads_interrupted(
    tmp_path: Path, fixture_web: Any
) -> None:
    home, run_id = tmp_path / "home", "20261122-110000-l1v3ly"
    folder = home / "runs" / run_id
    pages = fixture_web.stall_pages(15.0)  # every page waits: the session stays mid-search
    brain = Brain(subquestions=resume_subquestions())
    parts = build_parts(home, fixture_web.base_url, ScriptedChatModel(default=brain))
    runner = build_runner(home, parts)
    try:
        stream = runner.stream(QUESTION, small_options(), run_id=run_id)
        assert next(stream)["type"] == "run_started"
        assert lock_state(folder) == "held"
        (summary,) = run_files.list_runs(home / "runs")
        assert summary.status == "running" and summary.note.startswith(f"Running in process {os.getpid()} on ")
        with pytest.raises(RunBusyError, match=rf"^Run {run_id} is already running \(process {os.getpid()} on "):
            runner.resume(run_id)  # a second session in the same process
        with pytest.raises(RunBusyError):
            build_runner(home, parts).stream(QUESTION, small_options(), run_id=run_id)  # or a new start of that id
        assert isinstance(stream, Generator)
        stream.close()  # cancelled mid-run (what the browser UI's Stop does): run.json keeps "running"
        deadline = time.monotonic() + 20
        while lock_state(folder) != "free":
            assert time.monotonic() < deadline, "the cancelled session never released the run"
            time.sleep(0.02)
        assert json.loads((folder / "run.json").read_text())["status"] == "running"
        (summary,) = run_files.list_runs(home / "runs")
        assert summary.status == "interrupted" and f"`quarry research --resume {run_id}`" in summary.note
        fixture_web.restore_pages(pages)
        resumed = list(runner.resume(run_id))
    finally:
        runner.close()
    assert resumed[0]["type"] == "run_resumed" and resumed[-1]["type"] == "run_finished"
    (summary,) = run_files.list_runs(home / "runs")
    report = json.loads((folder / "report.json").read_text())
    assert (summary.status, summary.note, summary.has_report) == (report["status"], "", True)
    holder = json.loads((folder / LOCK_NAME).read_text())
    assert holder["pid"] == os.getpid() and holder["run_id"] == run_id  # kept for diagnostics


def test_recorded_statuses_without_a_live_process(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for run_id, status in (("old-running", "running"), ("done", "complete"), ("paused", "paused"),
                           ("ctrl-c", "interrupted")):
        (runs / run_id).mkdir(parents=True)
        (runs / run_id / "run.json").write_text(json.dumps({"run_id": run_id, "status": status}), encoding="utf-8")
    lock = RunLock.acquire(runs / "done", "done")  # a finished run that someone executes again: running
    try:
        rows = {r.run_id: (r.status, r.note) for r in run_files.list_runs(runs)}
    finally:
        lock.release()
        lock.release()  # idempotent
    assert rows["old-running"] == ("interrupted", run_files.run_state(runs / "old-running", "running")[1])
    assert "stopped before the run finished" in rows["old-running"][1]  # a run from before locks existed
    assert rows["done"][0] == "running" and rows["paused"] == ("paused", "")
    assert rows["ctrl-c"] == ("interrupted", "It was stopped before it finished; resume it with "
                                             "`quarry research --resume ctrl-c`.")
    after = {r.run_id: (r.status, r.note) for r in run_files.list_runs(runs)}
    assert after["done"] == ("complete", "") and not lock.held


def test_without_fcntl_the_module_imports_and_the_recorded_status_stands(tmp_path: Path) -> None:
    """Windows has no ``fcntl``: a process where importing it fails (as there) still runs and lists runs."""
    script = """
import json, sys
sys.modules["fcntl"] = None  # what Windows has: importing fcntl fails
from pathlib import Path
from agents.run.lock import RunLock, lock_state
from ui import run_files
runs = Path(sys.argv[1])
(runs / "r1").mkdir(parents=True)
(runs / "r1" / "run.json").write_text(json.dumps({"run_id": "r1", "status": "running"}))
lock = RunLock.acquire(runs / "r1", "r1")
again = RunLock.acquire(runs / "r1", "r1")
(row,) = run_files.list_runs(runs)
print(json.dumps([lock_state(runs / "r1"), row.status, row.note, lock.held]))
lock.release(); again.release()
"""
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "runs")], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == ["unknown", "running", "", True]
    assert json.loads((tmp_path / "runs" / "r1" / LOCK_NAME).read_text())["run_id"] == "r1"
