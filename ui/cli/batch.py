"""Batch research: many questions from a file, one after another or ``--parallel N`` at once.

The file holds one question per line (blank lines and ``#`` comments skipped) or JSON lines with
per-question options: ``{"question": "...", "depth": 1, "breadth": 2, "max_pages": 10,
"max_minutes": 5, "max_tokens": 50000, "language": "fr", "format": "md,pdf", "out": "dir"}``.
Every question runs through the same ``execute`` (one app: one model pool, one memory); a failed
question is recorded and the batch goes on. The batch's exit code is 1 when any question failed,
else 3 when any ran out of budget, else 0; Ctrl-C stops the batch, leaving each started run
resumable.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from ui.errors import BadInputError
from ui.export import parse_formats
from ui.runner import (
    EXIT_BUDGET,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Budget,
    ResearchOutcome,
    ResearchRequest,
)

OPTION_TYPES: dict[str, type] = {"depth": int, "breadth": int, "max_pages": int, "max_minutes": float,
                                 "max_tokens": int, "language": str, "format": str, "out": str}

_KIND_NAMES: dict[type, str] = {int: "whole number", float: "number", str: "string"}


@dataclass(frozen=True)
class BatchItem:
    """One question of the batch and its own options (from a JSON line)."""

    line: int
    question: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class BatchResult:
    """One question's outcome (``outcome`` is None when it raised before running)."""

    item: BatchItem
    outcome: ResearchOutcome | None = None
    error: str | None = None

    @property
    def exit_code(self) -> int:
        """The question's exit code."""
        return self.outcome.exit_code if self.outcome is not None else EXIT_FAILED


def _item(lineno: int, text: str, path: Path) -> BatchItem:
    if not text.startswith("{"):
        return BatchItem(lineno, text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInputError(f"Line {lineno} of {path} is not valid JSON ({exc.msg}); fix it.") from exc
    question = data.pop("question", None) if isinstance(data, dict) else None
    if not isinstance(question, str) or not question.strip():
        raise BadInputError(f"Line {lineno} of {path} has no \"question\"; add one.")
    for key, value in data.items():
        kind = OPTION_TYPES.get(key)
        if kind is None:
            raise BadInputError(f"Line {lineno} of {path} has an unknown option {key!r}; "
                                f"use {', '.join(OPTION_TYPES)}.")
        if not isinstance(value, kind) and not (kind is float and isinstance(value, int)):
            raise BadInputError(f"Line {lineno} of {path}: {key!r} must be a {_KIND_NAMES[kind]}.")
    if "format" in data:
        parse_formats(data["format"])
    return BatchItem(lineno, question.strip(), data)


def read_batch(path: Path) -> list[BatchItem]:
    """The questions of a batch file; a ``BadInputError`` names the first bad line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"Cannot read the batch file {path} ({exc}); check the path.") from exc
    items = [_item(n, line.strip(), path) for n, line in enumerate(lines, 1)
             if line.strip() and not line.strip().startswith("#")]
    if not items:
        raise BadInputError(f"The batch file {path} holds no question; write one per line.")
    return items


def item_request(item: BatchItem, defaults: ResearchRequest) -> ResearchRequest:
    """The request for one question: the command line's options, then the line's own."""
    o = item.options
    b = defaults.budget
    budget = Budget(
        depth=o.get("depth", b.depth), breadth=o.get("breadth", b.breadth),
        max_pages=o.get("max_pages", b.max_pages), max_minutes=o.get("max_minutes", b.max_minutes),
        max_tokens=o.get("max_tokens", b.max_tokens),
    )
    out = Path(o["out"]) if "out" in o else (defaults.out / f"{item.line:03d}" if defaults.out else None)
    return ResearchRequest(
        question=item.question, formats=parse_formats(o["format"]) if "format" in o else defaults.formats,
        out=out, budget=budget, language=o.get("language", defaults.language), review=False,
    )


def run_batch(items: list[BatchItem], run_one: Callable[[BatchItem], ResearchOutcome], *, parallel: int = 1,
              on_done: Callable[[BatchResult], None] | None = None) -> list[BatchResult]:
    """Run every item (``parallel`` at a time); a question that fails does not stop the others."""
    results: list[BatchResult | None] = [None] * len(items)
    lock, stop = threading.Lock(), threading.Event()

    def one(index: int) -> None:
        if stop.is_set():
            return
        item = items[index]
        try:
            result = BatchResult(item, outcome=run_one(item))
        except BadInputError as err:
            result = BatchResult(item, error=str(err))
        if result.exit_code == EXIT_INTERRUPTED:
            stop.set()  # Ctrl-C stopped this run: start no other
        with lock:
            results[index] = result
            if on_done is not None:
                on_done(result)

    if parallel <= 1:
        for index in range(len(items)):
            one(index)
    else:
        pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="quarry-batch")
        try:
            for future in [pool.submit(one, i) for i in range(len(items))]:
                future.result()
        except KeyboardInterrupt:
            stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
    return [r for r in results if r is not None]


def batch_exit_code(results: list[BatchResult]) -> int:
    """1 when any question failed, 130 when interrupted, 3 when any ran out of budget, else 0."""
    codes = {r.exit_code for r in results}
    for code in (EXIT_INTERRUPTED, EXIT_FAILED, EXIT_BUDGET):
        if code in codes:
            return code
    return EXIT_OK if codes <= {EXIT_OK} else EXIT_FAILED


def summary_rows(results: list[BatchResult]) -> list[dict[str, Any]]:
    """One JSON-friendly row per question: line, question, status, exit code, run id, seconds, report, error."""
    rows = []
    for r in results:
        o = r.outcome
        report = (o.files.get("html") or o.files.get("md") or next(iter(o.files.values()), None)) if o else None
        rows.append({
            "line": r.item.line, "question": r.item.question, "status": o.status if o else "failed",
            "exit_code": r.exit_code, "run_id": o.run_id if o else "", "seconds": round(o.seconds, 1) if o else 0.0,
            "report": str(report) if report else "", "error": (o.error if o else r.error) or "",
        })
    return rows


def summary_table(results: list[BatchResult]) -> Table:
    """The summary table printed at the end of a batch."""
    table = Table(title="Batch summary", title_justify="left")
    for name, justify in (("#", "right"), ("question", "left"), ("status", "left"), ("run id", "left"),
                          ("time", "right"), ("report or error", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in summary_rows(results):
        style = {"complete": "green", "budget_exhausted": "yellow", "nothing_found": "yellow"}.get(row["status"], "red")
        table.add_row(str(row["line"]), Text(row["question"]), Text(row["status"], style=style), row["run_id"],
                      f"{row['seconds']:.1f}s", Text(row["report"] or row["error"]))
    return table
