"""Research a question: plan, search in parallel, build the knowledge graph, draft, verify, publish.

Writes ``runs/<run_id>/`` in the data directory (report.md, report.json, sources.json, graph.json,
manifest.json, events.jsonl) and, with ``--out DIR``, the report files there too. ``--review``
pauses after planning so you can approve or edit the sub-questions; ``--resume RUN_ID`` continues a
paused or interrupted run from its last checkpoint without fetching again what it already read.
Exit codes: 0 report written, 1 run failed (resumable), 2 bad input, 3 report written but a budget
ran out, 130 interrupted (resumable).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ui.cli import engine
from ui.runner import EXIT_BAD_INPUT

if TYPE_CHECKING:
    from app import App

HELP = "research a question and write a cited, verified report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``research``: the basic ones here, the rest shared with ``runs resume`` and batches."""
    parser.add_argument("question", nargs="?", help="the question to research")
    parser.add_argument("--model", help="chat model: a GGUF path or a Hugging Face reference owner/repo/file.gguf")
    parser.add_argument("--search", help="search backends in order, comma-separated (e.g. local,duckduckgo)")
    parser.add_argument("--corpus", type=Path, help="also research the documents in this folder")
    parser.add_argument("--out", type=Path, help="also write the report files (and manifest) into DIR")
    parser.add_argument("--max-minutes", type=float, help="wall-clock budget of the run (minutes, per session)")
    engine.add_mode_argument(parser)
    parser.add_argument("--review", action="store_true", help="pause after planning to approve or edit the plan")
    parser.add_argument("--resume", metavar="RUN_ID", help="continue a paused or interrupted run")
    engine.add_output_arguments(parser)
    engine.add_model_arguments(parser)
    engine.add_batch_arguments(parser)


def run(args: argparse.Namespace, app: App) -> int:
    """Start or resume a run (or a batch); returns the exit code."""
    if args.max_minutes is not None and args.max_minutes <= 0:
        print("quarry: --max-minutes must be a positive number of minutes.", file=sys.stderr)
        return EXIT_BAD_INPUT
    return engine.run_research(args, app)
