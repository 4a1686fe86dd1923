"""Past runs in the data directory (``runs/<run_id>/``), read and deleted for the CLI and the browser UI.

Guarantees: readers never raise for a missing or malformed file (they return ``None`` or an empty
value, so a half-written run still lists); run ids are checked so no path outside ``runs/`` is ever
read or deleted. A run's status is live, not only recorded: one whose ``run.json`` says "running"
but whose process no longer holds the run lock (killed, or the machine lost power) is reported as
"interrupted" with a one-sentence note naming the resume command, and one that a live process is
executing is "running" whatever the files say (``run_state``).
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agents.report import Report
from agents.run.cost import read_events
from agents.run.lock import describe_holder, holder, lock_state

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")  # a plain folder name under runs/


@dataclass(frozen=True)
class RunSummary:
    """One past run as the history page lists it."""

    run_id: str
    question: str
    status: str
    created: str
    has_report: bool
    note: str = ""  # one sentence for the user: why it stopped and how to resume it, or who is running it


def resume_command(run_id: str) -> str:
    """The command that continues a run."""
    return f"quarry research --resume {run_id}"


def run_state(folder: Path, recorded: str) -> tuple[str, str]:
    """The run's live status and note, from its recorded status and whether a process holds its lock."""
    state = lock_state(folder)
    run_id = folder.name
    if state == "held":
        return "running", f"Running in {describe_holder(holder(folder))}."
    if recorded == "running" and state == "free":
        return "interrupted", (f"The process running it stopped before the run finished (killed or shut down) "
                               f"and what it fetched is kept; resume it with `{resume_command(run_id)}`.")
    if recorded == "interrupted":
        return "interrupted", f"It was stopped before it finished; resume it with `{resume_command(run_id)}`."
    return recorded, ""


def run_dir(runs_dir: Path, run_id: str) -> Path:
    """The folder of one run; raises ``ValueError`` for an id that is not a plain name."""
    if not RUN_ID.match(run_id):
        raise ValueError(f"{run_id!r} is not a run id; pick a run from the History page.")
    return runs_dir / run_id


def read_json(path: Path) -> Any:
    """The JSON in ``path``, or ``None`` when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def load_report(runs_dir: Path, run_id: str) -> Report | None:
    """The run's ``report.json`` as a ``Report``, or ``None``."""
    data = read_json(run_dir(runs_dir, run_id) / "report.json")
    if not isinstance(data, dict):
        return None
    try:
        return Report.model_validate(data)
    except ValidationError:
        return None


def load_sources(runs_dir: Path, run_id: str) -> list[dict[str, Any]]:
    """The run's ``sources.json`` entries (a list, or a dict holding ``sources``)."""
    data = read_json(run_dir(runs_dir, run_id) / "sources.json")
    if isinstance(data, dict):
        data = data.get("sources", [])
    return [s for s in data if isinstance(s, dict)] if isinstance(data, list) else []


def load_graph(runs_dir: Path, run_id: str) -> dict[str, Any] | None:
    """The run's ``graph.json`` (node-link data), or ``None``."""
    data = read_json(run_dir(runs_dir, run_id) / "graph.json")
    return data if isinstance(data, dict) else None


def list_runs(runs_dir: Path, *, missing_status: str = "unfinished") -> list[RunSummary]:
    """Every run folder, newest first, with its question and status (the CLI's ``runs`` and History).

    Each field comes from ``run.json``, else ``report.json``, else ``manifest.json``; the status
    prefers the report's, and a run that recorded none anywhere gets ``missing_status``.
    """
    if not runs_dir.is_dir():
        return []
    out = []
    for folder in runs_dir.iterdir():
        if not folder.is_dir() or not RUN_ID.match(folder.name):
            continue
        info, manifest, report = (read_dict(folder / name) for name in ("run.json", "manifest.json", "report.json"))
        recorded = report.get("status") or info.get("status") or manifest.get("status") or missing_status
        status, note = run_state(folder, str(recorded))
        out.append(RunSummary(
            run_id=folder.name,
            question=str(info.get("question") or report.get("question") or manifest.get("question") or ""),
            status=status,
            created=str(info.get("created") or report.get("created_at") or manifest.get("created_at") or ""),
            has_report=(folder / "report.json").is_file(),
            note=note,
        ))
    return sorted(out, key=lambda r: (r.created, r.run_id), reverse=True)


def read_dict(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``, or ``{}`` when it is missing, unreadable or not an object."""
    data = read_json(path)
    return data if isinstance(data, dict) else {}


def load_events(runs_dir: Path, run_id: str) -> list[dict[str, Any]]:
    """The run's ``events.jsonl`` (skipping unreadable lines), oldest first."""
    return read_events(run_dir(runs_dir, run_id) / "events.jsonl")


def paused_plan(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The plan a run paused with for review, when its last session ended at the review pause."""
    finals = [e for e in events if e.get("type") in ("run_finished", "run_paused", "run_failed")]
    if finals and finals[-1].get("type") == "run_paused" and isinstance(finals[-1].get("plan"), dict):
        return dict(finals[-1]["plan"])
    return None


def delete_checkpoints(checkpoints_path: Path, run_id: str) -> bool:
    """Remove a run's checkpoints (LangGraph thread id = run id); False when there is no store."""
    if not checkpoints_path.is_file():
        return False
    from langgraph.checkpoint.sqlite import SqliteSaver

    with SqliteSaver.from_conn_string(str(checkpoints_path)) as saver:
        saver.delete_thread(run_id)
    return True


def delete_run(runs_dir: Path, run_id: str, checkpoints_path: Path | None = None) -> bool:
    """Remove a run's folder (and its checkpoints when the store is given); True when there was one."""
    folder = run_dir(runs_dir, run_id)
    if checkpoints_path is not None:
        delete_checkpoints(checkpoints_path, run_id)
    if not folder.is_dir():
        return False
    shutil.rmtree(folder)
    return True


def export_files(runs_dir: Path, run_id: str) -> list[Path]:
    """The report files already written in the run folder (report.md, .html, .pdf, .json)."""
    folder = run_dir(runs_dir, run_id)
    return sorted(p for p in folder.glob("report.*") if p.is_file()) if folder.is_dir() else []
