"""The background run worker: runs outlive pages, pause for review, resume with the edited plan."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.ui_support import StepBackend, sample_plan
from ui.web.live import fold
from ui.web.worker import RunRegistry, RunRequest


def test_run_pauses_for_review_then_finishes_with_the_edited_plan(tmp_path: Path) -> None:
    backend = StepBackend(tmp_path / "runs")
    registry = RunRegistry(backend)
    handle = registry.start(RunRequest(question="  How do perovskite cells degrade? "), owner="alice")
    assert handle.wait(5)
    assert handle.status == "review"
    assert handle.plan is not None and len(handle.plan["subquestions"]) == 2
    edited = sample_plan()
    edited["subquestions"][0]["question"] = "What does moisture do to perovskites?"
    registry.approve(handle.run_id, edited)
    assert handle.wait(5)
    assert handle.status == "complete"
    assert backend.approved[handle.run_id] == edited
    assert handle.report is not None and handle.report.run_id == handle.run_id
    view = fold(handle.events())
    assert view.state.subs["s1"].question == "What does moisture do to perovskites?"
    assert view.state.subs["s1"].state == "done"
    assert [p.name for p in view.phases] == ["plan", "search", "draft", "verify", "publish"]
    assert view.state.pages_fetched == 2 and view.state.tokens == 900
    assert (tmp_path / "runs" / handle.run_id / "report.json").is_file()


def test_each_owner_sees_only_its_own_runs() -> None:
    registry = RunRegistry(StepBackend())
    a = registry.start(RunRequest(question="first"), owner="alice")
    b = registry.start(RunRequest(question="second"), owner="bob")
    assert [h.run_id for h in registry.runs_for("alice")] == [a.run_id]
    assert [h.run_id for h in registry.runs_for("bob")] == [b.run_id]
    assert registry.get(b.run_id) is b  # a reload re-attaches by id
    assert a.run_id != b.run_id


def test_a_running_run_is_observable_and_can_be_stopped() -> None:
    gate = threading.Event()
    registry = RunRegistry(StepBackend(review=False, gate=gate))
    handle = registry.start(RunRequest(question="q", review=False), owner="o")
    deadline = threading.Event()
    while handle.event_count < 5 and not deadline.wait(0.01):
        pass
    assert handle.status == "running" and handle.active
    seen = handle.events(since=2)
    assert seen and seen[0]["type"] == "plan_approved"
    registry.cancel(handle.run_id)
    assert handle.wait(5)
    assert handle.status == "cancelled"


def test_a_failing_run_records_one_sentence() -> None:
    registry = RunRegistry(StepBackend(fail_with=RuntimeError("The model server went away\nTraceback...")))
    handle = registry.start(RunRequest(question="q"), owner="o")
    assert handle.wait(5)
    assert handle.status == "failed"
    assert handle.error == "The model server went away."
    assert handle.event_count == 2  # what happened before the failure is kept


def test_cancel_at_review_and_resume_later() -> None:
    backend = StepBackend()
    registry = RunRegistry(backend)
    handle = registry.start(RunRequest(question="q"), owner="o")
    assert handle.wait(5) and handle.status == "review"
    registry.cancel(handle.run_id)
    assert handle.status == "cancelled"
    with pytest.raises(ValueError, match="not waiting"):
        registry.approve(handle.run_id, sample_plan())
    again = registry.resume(handle.run_id, owner="o")
    assert again.wait(5) and again.status == "complete"


def test_bad_requests_are_refused() -> None:
    registry = RunRegistry(StepBackend())
    with pytest.raises(ValueError, match="Type a question"):
        registry.start(RunRequest(question="   "), owner="o")
    with pytest.raises(ValueError, match="open it from History"):
        registry.approve("nope", sample_plan())


def test_a_plan_is_approved_once() -> None:
    gate = threading.Event()
    registry = RunRegistry(StepBackend(gate=gate))
    handle = registry.start(RunRequest(question="q"), owner="o")
    assert handle.wait(5) and handle.status == "review"
    registry.approve(handle.run_id, sample_plan())
    with pytest.raises(ValueError, match="not waiting"):
        registry.approve(handle.run_id, sample_plan())  # a second tab, a moment later
    gate.set()
    assert handle.wait(5) and handle.status == "complete"


@pytest.mark.parametrize(
    ("recorded", "status"),
    [("interrupted", "interrupted"), ("running", "elsewhere"), ("failed", "failed"), ("unfinished", "cancelled")],
)
def test_a_run_attached_from_disk_keeps_what_the_runs_folder_says(recorded: str, status: str) -> None:
    registry = RunRegistry(StepBackend())
    note = "The process running it stopped before the run finished; resume it with `quarry research --resume r1`."
    handle = registry.adopt("r1", "o", question="q", events=[], recorded=recorded, note=note)
    assert handle.status == status and handle.error == note and not handle.active
    if status == "interrupted":  # resuming clears the note and runs it here
        registry.resume("r1", owner="o")
        assert handle.wait(5) and handle.error is None
