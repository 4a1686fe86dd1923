"""Batch files and the batch loop: plain lines and JSON lines with options, bad lines named, a
failing question that does not stop the others, parallel runs, the summary and its exit code."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from rich.console import Console

from ui.cli.batch import BatchItem, batch_exit_code, item_request, read_batch, run_batch, summary_rows, summary_table
from ui.errors import BadInputError
from ui.runner import Budget, ResearchOutcome, ResearchRequest


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "batch.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_read_plain_and_jsonl(tmp_path: Path) -> None:
    path = write(tmp_path, "# questions\nWhat is a heat pump?\n\n"
                           '{"question": "Why defrost?", "depth": 0, "max_pages": 5, "format": "md,pdf"}\n')
    items = read_batch(path)
    assert [i.question for i in items] == ["What is a heat pump?", "Why defrost?"]
    assert items[0].line == 2 and items[1].line == 4 and items[1].options["max_pages"] == 5
    defaults = ResearchRequest(formats=("html",), budget=Budget(depth=2, breadth=3), out=tmp_path / "out")
    req = item_request(items[1], defaults)
    assert req.formats == ("md", "pdf") and req.budget == Budget(depth=0, breadth=3, max_pages=5)
    assert req.out == tmp_path / "out" / "004" and req.question == "Why defrost?"
    assert item_request(items[0], defaults).formats == ("html",)


@pytest.mark.parametrize(("text", "message"), [
    ('{"question": "x", "colour": 1}\n', "unknown option 'colour'"),
    ('{"question": "x", "depth": "deep"}\n', "'depth' must be a whole number"),
    ('{"depth": 1}\n', 'has no "question"'),
    ("{not json\n", "is not valid JSON"),
    ('{"question": "x", "format": "docx"}\n', "Unknown report format"),
    ("# only a comment\n\n", "holds no question"),
])
def test_bad_batch_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        read_batch(write(tmp_path, text))


def test_missing_batch_file(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="Cannot read the batch file"):
        read_batch(tmp_path / "nope.txt")


def outcome(item: BatchItem, status: str, code: int, tmp_path: Path) -> ResearchOutcome:
    return ResearchOutcome(run_id=f"run-{item.line}", status=status, exit_code=code, folder=tmp_path,
                           files={"md": tmp_path / f"{item.line}.md"} if code != 1 else {},
                           error="The model failed." if code == 1 else None)


def test_failure_does_not_stop_the_batch(tmp_path: Path) -> None:
    items = [BatchItem(1, "good"), BatchItem(2, "bad"), BatchItem(3, "bad input"), BatchItem(4, "good too")]
    seen: list[str] = []

    def one(item: BatchItem) -> ResearchOutcome:
        seen.append(item.question)
        if item.question == "bad input":
            raise BadInputError("The corpus folder x does not exist; check the path.")
        if item.question == "bad":
            return outcome(item, "failed", 1, tmp_path)
        return outcome(item, "complete", 0, tmp_path)

    done: list[int] = []
    results = run_batch(items, one, on_done=lambda r: done.append(r.item.line))
    assert seen == ["good", "bad", "bad input", "good too"] and done == [1, 2, 3, 4]
    assert [r.exit_code for r in results] == [0, 1, 1, 0]
    assert batch_exit_code(results) == 1
    rows = summary_rows(results)
    assert rows[1]["error"] == "The model failed." and rows[2]["error"].startswith("The corpus folder")
    assert rows[0]["report"].endswith("1.md")
    console = Console(record=True, width=150)
    console.print(summary_table(results))
    text = console.export_text()
    assert "good too" in text and "failed" in text and "run-4" in text


def test_parallel_runs_at_once(tmp_path: Path) -> None:
    active, peak, lock = 0, 0, threading.Lock()

    def one(item: BatchItem) -> ResearchOutcome:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.2)
        with lock:
            active -= 1
        return outcome(item, "budget_exhausted" if item.line == 2 else "complete", 3 if item.line == 2 else 0,
                       tmp_path)

    results = run_batch([BatchItem(i, f"q{i}") for i in range(1, 5)], one, parallel=4)
    assert peak == 4 and [r.item.line for r in results] == [1, 2, 3, 4]
    assert batch_exit_code(results) == 3


def test_interrupted_question_stops_the_batch(tmp_path: Path) -> None:
    def one(item: BatchItem) -> ResearchOutcome:
        if item.line == 2:
            return ResearchOutcome(run_id="run-2", status="interrupted", exit_code=130, folder=tmp_path,
                                   error="Stopped; resume with `quarry research --resume run-2`.")
        return outcome(item, "complete", 0, tmp_path)

    results = run_batch([BatchItem(i, f"q{i}") for i in range(1, 5)], one)
    assert [r.item.line for r in results] == [1, 2]  # nothing started after Ctrl-C
    assert batch_exit_code(results) == 130
