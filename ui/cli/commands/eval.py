"""Measure research quality offline: research every question of a data set over a loopback test web, then score it.

DATASET is HotpotQA or MuSiQue JSON lines (as in their releases), or the generic format, one object
a line: ``{"question": ..., "answer": ..., "aliases": [...], "pages": [{"title": ..., "text": ...}],
"supporting": [titles]}`` (``aliases`` optional; ``id``, ``type`` and ``hops`` optional). The pages
are served on 127.0.0.1 as a small web site with a search endpoint; each question is researched with
the configured model (``--model``, ``--llm openai --base-url …``) through the same runner as
``research``, each in a data directory of its own, and scored from its run folder: supporting pages
read and cited, the short answer against the gold one (exact match, F1), the answer anywhere in the
report, citations supported by their passages, nothing cited that was not fetched, words, time and
tokens, and the cost (model calls, prompt and completion tokens, per phase and role). ``--mode`` runs
every question in one mode (default: ``budget.mode``, else what fits this machine and model).
``--baseline floor`` also runs every question with no model at all. Results: a table and one JSON object;
``eval.json`` and ``eval.html`` in ``--out`` (default: ``<data dir>/evals/<time>``), rewritten after every
question. Exit codes: 0 done, 2 bad input, 130 interrupted (what was scored is kept).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from agents.publish import write_text
from ui.cli import engine
from ui.errors import BadInputError
from ui.preflight import check_models
from ui.run_files import read_json
from ui.runner import EXIT_INTERRUPTED, Budget

if TYPE_CHECKING:
    from app import App

HELP = "measure research quality on a question-answering data set, offline, against a no-model floor"

METRICS = ("finished", "read_recall", "cited_recall", "answer_em", "answer_f1", "answer_in_report",
           "citation_support", "unfetched", "report_words", "wall_s", "tokens", "calls", "prompt_tokens",
           "completion_tokens", "model_s", "cited_precision", "dup_sentences", "not_found")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``eval``."""
    parser.add_argument("dataset", type=Path, help="HotpotQA, MuSiQue or generic JSON lines (see above)")
    parser.add_argument("--n", type=engine._positive(int), help="evaluate N questions (default: all)")
    parser.add_argument("--skip", type=int, default=0, metavar="K", help="skip the first K questions")
    parser.add_argument("--model", help="chat model: a GGUF path or a Hugging Face reference owner/repo/file.gguf")
    engine.add_model_arguments(parser)
    parser.add_argument("--max-pages", type=engine._positive(int), help="page budget of each run")
    parser.add_argument("--max-tokens", type=engine._positive(int), help="model-token budget of each run")
    parser.add_argument("--max-minutes", type=engine._positive(float), help="wall-clock budget of each run")
    parser.add_argument("--depth", type=int, choices=range(0, 11), metavar="N", help="reflection rounds (0-10)")
    parser.add_argument("--breadth", type=int, choices=range(1, 33), metavar="N", help="sub-questions per round")
    engine.add_mode_argument(parser)
    parser.add_argument("--baseline", choices=("floor",), help="also run every question with no model (the floor)")
    parser.add_argument("--shared-memory", action="store_true",
                        help="one memory for all questions of a configuration (default: one per question)")
    parser.add_argument("--out", type=Path, help="write eval.json, eval.html and the runs here")
    parser.add_argument("--json", action="store_true", help="print only the result JSON on stdout")


@engine.exit_on_user_errors
def run(args: argparse.Namespace, app: App) -> int:
    """Load the data set, run the eval with progress, print the table and the JSON; returns the exit code."""
    from ui.eval.dataset import load_dataset
    from ui.eval.harness import EvalOptions, run_eval
    from ui.eval.html import render_eval_html

    if args.skip < 0:
        raise BadInputError("--skip must be 0 or more.")
    skipped: list[str] = []
    items = load_dataset(args.dataset, n=args.n, skip=args.skip, skipped=skipped)
    if skipped:  # one warning line: unusable lines are counted, not fatal
        print(f"quarry: warning: skipped {len(skipped)} unusable lines of {args.dataset} ({skipped[0]}"
              f"{'; …' if len(skipped) > 1 else ''}).", file=sys.stderr)
    engine.apply_overrides(app, args)
    check_models(app.settings)  # a truncated or missing model file is bad input, before any run
    out = args.out or app.settings.home / "evals" / time.strftime("%Y%m%d-%H%M%S")
    if out.exists() and not out.is_dir():
        raise BadInputError(f"--out {out} is a file, not a folder; choose a folder.")
    budget = Budget(depth=args.depth, breadth=args.breadth, max_pages=args.max_pages,
                    max_minutes=args.max_minutes, max_tokens=args.max_tokens)
    options = EvalOptions(out=out, dataset=str(args.dataset), budget=budget, baseline=args.baseline,
                          shared_memory=args.shared_memory, mode=args.mode)
    total = len(items) * (2 if args.baseline and app.settings.llm.backend != "none" else 1)
    with _progress(total) as on_row:
        try:
            result = run_eval(app, items, options, on_row)
        except KeyboardInterrupt:
            print(f"quarry: eval interrupted; what was scored is in {out / 'eval.json'}.", file=sys.stderr)
            _write_html(out, render_eval_html)
            return EXIT_INTERRUPTED
    write_text(out / "eval.html", render_eval_html(result))
    summary = {**{k: v for k, v in result.items() if k != "configs"},
               "configs": {name: c["summary"] for name, c in result["configs"].items()},
               "files": {"json": str(out / "eval.json"), "html": str(out / "eval.html")},
               "skipped_lines": len(skipped)}
    if not args.json:
        Console().print(summary_table(summary))
    print(json.dumps(summary), flush=True)
    return 0


def _write_html(out: Path, render: Any) -> None:
    result = read_json(out / "eval.json")
    if isinstance(result, dict):
        write_text(out / "eval.html", render(result))


def summary_table(summary: dict[str, Any]) -> Table:
    """Means per metric (rows) and configuration (columns)."""
    table = Table(title=f"Eval: {Path(str(summary.get('dataset', ''))).name}", title_justify="left")
    table.add_column("metric")
    configs = summary["configs"]
    for name in configs:
        table.add_column(name, justify="right")
    for metric in METRICS:
        cells = []
        for conf in configs.values():
            value = conf.get("means", {}).get(metric)
            cells.append("–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value))
        table.add_row(metric, *cells)
    table.add_row("questions", *(str(c.get("n", 0)) for c in configs.values()))
    table.add_row("median wall_s", *(f"{c.get('wall_s_median', 0):.1f}" for c in configs.values()))
    return table


def _means_text(result: dict[str, Any]) -> str:
    parts = []
    for name, conf in result.get("configs", {}).items():
        means = conf["summary"].get("means") or {}
        if not conf["summary"].get("n"):
            continue
        parts.append(f"{name}: read {means.get('read_recall') or 0:.2f} f1 {means.get('answer_f1') or 0:.2f} "
                     f"in-report {means.get('answer_in_report') or 0:.2f}")
    return " | ".join(parts)


class _progress:
    """A rich progress bar on a terminal (question i/N and the running means), else one plain line per run."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.live = sys.stderr.isatty()
        self.bar: Progress | None = None
        self.task: Any = None

    def __enter__(self) -> Any:
        if self.live:
            self.bar = Progress(TextColumn("eval"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                TextColumn("{task.fields[means]}"), console=Console(stderr=True))
            self.bar.start()
            self.task = self.bar.add_task("eval", total=self.total, means="")
        return self.on_row

    def on_row(self, index: int, row: dict[str, Any], result: dict[str, Any]) -> None:
        """One run was scored."""
        self.done += 1
        if self.bar is not None:
            self.bar.update(self.task, advance=1, means=_means_text(result))
            return
        print(f"[{self.done}/{self.total}] q{index} {row['config']}: finished {row['finished']} "
              f"read_recall {row['read_recall'] or 0:.2f} answer_f1 {row['answer_f1'] or 0:.2f} "
              f"({row['wall_s']:.1f} s) — {_means_text(result)}", file=sys.stderr, flush=True)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
