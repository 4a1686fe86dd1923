"""List, show, resume and delete past research runs (``runs/<run_id>/`` in the data directory).

``runs`` lists them (id, date, status, question); ``runs show ID`` prints one run's summary and
files; ``runs resume ID`` continues a paused, failed or interrupted run from its last checkpoint
(same options and exit codes as ``research --resume``); ``runs delete ID`` removes the run folder
and its checkpoints, while memory keeps what the run learned unless ``--forget`` is given.
Statuses are live (``ui.run_files.run_state``): a run whose process was killed lists as
"interrupted" with one sentence naming the resume command, and a run another process is still
executing lists as "running" and cannot be deleted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from agents.run.cost import summary_line
from agents.run.lock import describe_holder, holder, lock_state
from ui import run_files
from ui.cli.commands.memory import clean
from ui.errors import BadInputError, RunNotFoundError, UIError
from ui.run_files import RunSummary

if TYPE_CHECKING:
    from app import App

HELP = "list past runs; show, resume or delete one"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``runs``."""
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.add_parser("list", help="list past runs (the default)")
    show = sub.add_parser("show", help="show one run: question, status, budget use, files")
    show.add_argument("run_id", metavar="ID")
    resume = sub.add_parser("resume", help="continue a run from its last checkpoint")
    resume.add_argument("run_id", metavar="ID")
    from ui.cli.engine import add_output_arguments

    add_output_arguments(resume)
    delete = sub.add_parser("delete", help="delete a run's folder and checkpoints")
    delete.add_argument("run_id", metavar="ID")
    delete.add_argument("--forget", action="store_true",
                        help="also remove from memory the sources this run fetched")


def run_folder(runs_dir: Path, run_id: str) -> Path:
    """The folder of an existing run; ``RunNotFoundError`` when there is none."""
    if not run_files.RUN_ID.match(run_id):
        raise BadInputError(f"{run_id!r} is not a run id; list runs with `quarry runs`.")
    folder = runs_dir / run_id
    if not folder.is_dir():
        raise RunNotFoundError(f"There is no run {run_id!r} in {runs_dir}; list runs with `quarry runs`.")
    return folder


def list_runs(runs_dir: Path) -> list[RunSummary]:
    """Every run folder, newest first (the same reader as the browser's History page)."""
    return run_files.list_runs(runs_dir, missing_status="unknown")


def show_run(runs_dir: Path, run_id: str) -> dict[str, Any]:
    """One run's summary: question, status, options, budget use, verification, files, follow-ups."""
    from ui.followup import load_followups

    folder = run_folder(runs_dir, run_id)
    info, report, manifest = (run_files.read_dict(folder / n) for n in ("run.json", "report.json", "manifest.json"))
    tokens = manifest.get("tokens", {})
    status, note = run_files.run_state(folder, str(report.get("status") or info.get("status", "unknown")))
    return {
        "run_id": run_id, "question": info.get("question") or report.get("question", ""),
        "status": status, "note": note,
        "created": info.get("created", ""), "updated": info.get("updated", ""),
        "options": info.get("options", {}), "pages_fetched": manifest.get("pages_fetched"),
        "queries": len(manifest.get("queries", [])),
        "tokens": sum(int(u.get("prompt_tokens", 0)) + int(u.get("completion_tokens", 0)) for u in tokens.values())
        if isinstance(tokens, dict) else None,
        "cost": summary_line(manifest["cost"]) if isinstance(manifest.get("cost"), dict) else None,
        "phases": manifest.get("phases", {}), "budget_out": manifest.get("budget_out", []),
        "verification": report.get("verification", {}), "references": len(report.get("references", [])),
        "folder": str(folder), "files": sorted(p.name for p in folder.iterdir() if p.is_file()),
        "followups": [f.to_json() for f in load_followups(folder)],
    }


def forget_sources(memory: Any, folder: Path) -> int:
    """Remove from memory the sources the run fetched itself (not those it reused); returns chunks removed."""
    path = folder / "sources.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    ids = dict.fromkeys(str(s["source_id"]) for s in data
                        if isinstance(s, dict) and s.get("status") == "fetched" and s.get("source_id"))
    return sum(int(memory.forget_source(sid)) for sid in ids)


def _print_list(rows: list[RunSummary], console: Console) -> None:
    if not rows:
        console.print("No runs yet: start one with `quarry research \"your question\"`.")
        return
    table = Table(title="Runs", title_justify="left")
    for name in ("id", "date", "status", "question"):
        table.add_column(name)
    for row in rows:
        table.add_row(row.run_id, row.created, row.status, Text(row.question))
    console.print(table)
    for row in rows:
        if row.status == "interrupted" and row.note:
            console.print(Text(f"{row.run_id}: {row.note}"), soft_wrap=True)


def _print_show(data: dict[str, Any], console: Console) -> None:
    table = Table(show_header=False, title=f"Run {data['run_id']}", title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value")
    for key, value in data.items():
        if key == "followups":
            continue
        shown = value if isinstance(value, str) else json.dumps(value, default=str)
        table.add_row(key, Text(shown))
    console.print(table)
    for exchange in data.get("followups", []):  # the follow-up questions asked about it (`quarry ask`)
        from ui.cli.commands.ask import print_followup
        from ui.followup import Followup

        console.print(Text(f"Follow-up: {clean(str(exchange.get('question', '')))}", style="bold"))
        print_followup(Followup.from_json(exchange), console)


def run(args: argparse.Namespace, app: App) -> int:
    """Dispatch ``runs`` and its actions; returns the exit code (2 for an unknown run id)."""
    try:
        return _dispatch(args, app)
    except UIError as err:
        print(f"quarry: {err}", file=sys.stderr)
        return err.exit_code


def _dispatch(args: argparse.Namespace, app: App) -> int:
    runs_dir = app.settings.runs_dir
    console = Console()
    action = args.action or "list"
    if action == "list":
        rows = list_runs(runs_dir)
        if args.json:
            print(json.dumps([{"run_id": r.run_id, "created": r.created, "status": r.status, "question": r.question,
                               "note": r.note} for r in rows], indent=2))
        else:
            _print_list(rows, console)
        return 0
    if action == "show":
        data = show_run(runs_dir, args.run_id)
        print(json.dumps(data, indent=2, default=str)) if args.json else _print_show(data, console)
        return 0
    if action == "resume":
        run_folder(runs_dir, args.run_id)
        from ui.cli.engine import run_research

        args.resume, args.question, args.batch = args.run_id, None, None
        return run_research(args, app)
    folder = run_folder(runs_dir, args.run_id)
    if lock_state(folder) == "held":
        raise BadInputError(f"Run {args.run_id} is still running ({describe_holder(holder(folder))}); "
                            "stop it before deleting it.")
    forgotten = forget_sources(app.memory(), folder) if args.forget else 0
    shutil.rmtree(folder)
    run_files.delete_checkpoints(app.settings.checkpoints_path, args.run_id)
    note = f"{forgotten} chunks forgotten from memory" if args.forget else "memory keeps what it learned"
    print(f"Deleted run {args.run_id} and its checkpoints; {note}.")
    return 0
