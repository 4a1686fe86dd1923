"""The ``research`` command's engine: options, settings overrides, progress, exit codes, batches.

``ui/cli/commands/research.py`` declares the command; this module holds what it shares with
``runs resume`` and the batch mode: ``add_output_arguments`` / ``add_run_arguments`` (flags),
``run_research(args, app)`` (one run, a resume, or ``--batch``) returning the exit code
(0 written, 1 failed, 2 bad input, 3 budget ran out, 130 Ctrl-C — see ``ui.runner``). With
``--json`` stdout carries only JSON lines (every event, then one ``result`` object per run);
human messages go to stderr. A run's last line says what it cost (model calls, tokens, wall time: the
manifest's ``cost``, summed over every session); the JSON ``result`` line carries the same as ``cost``.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from agents.errors import ModelLoadError, ModelNotFoundError
from agents.run import cost as run_cost
from agents.run.budget import Limits
from agents.run.modes import MODES, limits_for
from ui.cli.batch import (
    BatchItem,
    BatchResult,
    batch_exit_code,
    item_request,
    read_batch,
    run_batch,
    summary_rows,
    summary_table,
)
from ui.cli.progress import make_progress
from ui.errors import BadInputError, UIError
from ui.export import DEFAULT_FORMATS, parse_formats
from ui.preflight import announce_default_model, check_models, check_question
from ui.progress import ProgressState
from ui.run_files import read_json
from ui.runner import EXIT_BAD_INPUT, Budget, ResearchOutcome, ResearchRequest, Reviewer, execute

if TYPE_CHECKING:
    from app import App


def _positive(kind: type) -> Any:
    def convert(text: str) -> Any:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0, not {text}")
        return value
    convert.__name__ = kind.__name__
    return convert


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags shared by ``research`` and ``runs resume``: formats, output folder, progress, budgets."""
    parser.add_argument("--format", default=",".join(DEFAULT_FORMATS),
                        help="report formats, comma-separated: md,html,pdf,json (default: md,html,json)")
    if not any(a.dest == "out" for a in parser._actions):
        parser.add_argument("--out", type=Path, help="also write the report files (and manifest) into DIR")
    quiet = parser.add_mutually_exclusive_group()
    quiet.add_argument("--quiet", action="store_true", help="no progress display; print only the result")
    quiet.add_argument("--json", action="store_true", help="progress as JSON lines on stdout (one event each)")
    if not any(a.dest == "max_minutes" for a in parser._actions):
        parser.add_argument("--max-minutes", type=_positive(float), help="wall-clock budget per session")
    parser.add_argument("--max-pages", type=_positive(int), help="page budget (pages fetched)")
    parser.add_argument("--max-tokens", type=_positive(int), help="model-token budget")
    parser.add_argument("--depth", type=int, choices=range(0, 11), metavar="N", help="reflection rounds (0-10)")
    parser.add_argument("--breadth", type=int, choices=range(1, 33), metavar="N", help="sub-questions per round")
    parser.add_argument("--language", help="write the report in this language (e.g. en, fr, de)")
    parser.add_argument("--length", choices=("short", "standard", "long"),
                        help="the report's length: sentences per section and sections (default: budget.length)")


def add_mode_argument(parser: argparse.ArgumentParser) -> None:
    """``--mode quick|standard|deep``: a preset of every budget (flags such as ``--depth`` override it)."""
    parser.add_argument("--mode", choices=MODES,
                        help="quick: one round, one drafting call, no model judge; standard; deep: more rounds and "
                             "pages, a model call per decision (default: budget.mode, else what fits this machine)")


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags choosing the chat model's backend (``--llm openai --base-url URL --llm-model NAME``)."""
    parser.add_argument("--llm", choices=("llama", "openai", "none"),
                        help="chat-model backend (default: settings; none: no model, the floor alone)")
    parser.add_argument("--base-url", help="OpenAI-compatible server URL, e.g. http://127.0.0.1:8080/v1")
    parser.add_argument("--llm-model", help="the served model's name on the OpenAI-compatible server")


def add_batch_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the batch mode."""
    parser.add_argument("--batch", type=Path, metavar="FILE",
                        help="research every question in FILE (one per line, or JSON lines with options)")
    parser.add_argument("--parallel", type=_positive(int), default=1, metavar="N",
                        help="with --batch: run N questions at once (one model, one memory)")


def _mode(args: argparse.Namespace) -> str:
    return "json" if getattr(args, "json", False) else "quiet" if getattr(args, "quiet", False) else "auto"


def apply_overrides(app: App, args: argparse.Namespace, *, model_and_search: bool = True) -> None:
    """Fold ``--llm``/``--base-url``/``--llm-model`` (and ``--model``/``--search``) into the app's settings."""
    s = app.settings
    llm: dict[str, Any] = {}
    if getattr(args, "llm", None):
        llm["backend"] = args.llm
    if getattr(args, "base_url", None):
        llm["base_url"] = args.base_url
    model = getattr(args, "llm_model", None) or (getattr(args, "model", None) if model_and_search else None)
    if model:
        llm["model"] = model
    backend = llm.get("backend", s.llm.backend)
    if backend == "openai" and not llm.get("base_url", s.llm.base_url):
        raise BadInputError("--llm openai needs --base-url URL (an OpenAI-compatible server).")
    if backend == "llama" and getattr(args, "model", None):
        _check_model_path(args.model)
    update: dict[str, Any] = {}
    if llm:
        update["llm"] = s.llm.model_copy(update=llm)
    search = getattr(args, "search", None) if model_and_search else None
    if isinstance(search, str) and search:
        update["search"] = s.search.model_copy(update={"backends": [b.strip() for b in search.split(",") if b.strip()]})
    if update:
        app.settings = s.model_copy(update=update)


def _check_model_path(model: str) -> None:
    from agents.llm.hub import is_hub_reference

    if not is_hub_reference(model) and not Path(model).expanduser().is_file():
        raise BadInputError(f"The model file {model} does not exist; give a GGUF path or owner/repo/file.gguf.")


def validate(args: argparse.Namespace) -> tuple[str, ...]:
    """Check the inputs that need no run (formats, corpus, output folder); returns the formats."""
    formats = parse_formats(getattr(args, "format", None) or ",".join(DEFAULT_FORMATS))
    minutes = getattr(args, "max_minutes", None)
    if minutes is not None and minutes <= 0:
        raise BadInputError("--max-minutes must be a positive number of minutes.")
    corpus = getattr(args, "corpus", None)
    if corpus and not Path(corpus).is_dir():
        raise BadInputError(f"The corpus folder {corpus} does not exist or is not a folder; check the path.")
    out = getattr(args, "out", None)
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise BadInputError(f"--out {out} is a file, not a folder; choose a folder.")
    return formats


def request_from(args: argparse.Namespace, formats: tuple[str, ...]) -> ResearchRequest:
    """The ``ResearchRequest`` the flags describe."""
    budget = Budget(depth=getattr(args, "depth", None), breadth=getattr(args, "breadth", None),
                    max_pages=getattr(args, "max_pages", None), max_minutes=getattr(args, "max_minutes", None),
                    max_tokens=getattr(args, "max_tokens", None), length=getattr(args, "length", None))
    return ResearchRequest(
        question=" ".join(getattr(args, "question", None) or []) if isinstance(getattr(args, "question", None), list)
        else (getattr(args, "question", None) or ""),
        resume=getattr(args, "resume", None), formats=formats, out=getattr(args, "out", None), budget=budget,
        language=getattr(args, "language", None), review=bool(getattr(args, "review", False)),
    )


def terminal_review(plan: dict[str, Any]) -> dict[str, Any]:
    """Show the plan in the terminal; the user approves it or edits, drops or adds sub-questions."""
    subs = [dict(s) for s in plan.get("subquestions", [])]
    err = Console(stderr=True)
    while True:
        err.print("\n[bold]Plan[/bold] (sub-questions):")
        for i, sub in enumerate(subs, 1):
            err.print(f"  {i}. ", end="")
            err.out(str(sub.get("question", "")), highlight=False)
        err.print("Enter approves; 'N new text' replaces N; 'd N' drops N; 'a text' adds: ", end="")
        answer = input().strip()  # the prompt went to stderr: stdout may be carrying --json lines
        if not answer:
            return {**plan, "subquestions": subs}
        head, _, rest = answer.partition(" ")
        if head == "d" and rest.strip().isdigit() and 1 <= int(rest) <= len(subs):
            subs.pop(int(rest) - 1)
        elif head == "a" and rest.strip():
            subs.append({"id": f"sq-user-{len(subs) + 1}", "question": rest.strip(), "queries": [rest.strip()],
                         "section": "", "round": 0})
        elif head.isdigit() and 1 <= int(head) <= len(subs) and rest.strip():
            subs[int(head) - 1].update(question=rest.strip(), queries=[rest.strip()])
        else:
            err.print("Not understood; try again.")


def index_corpus(app: App, folder: Path, *, quiet: bool = False) -> None:
    """``--corpus DIR``: ingest the folder into memory (incrementally) and search it with ``local`` first."""
    from ui.corpus import index_directory

    backends = list(app.settings.search.backends)
    if "local" not in backends:
        search = app.settings.search.model_copy(update={"backends": ["local", *backends]})
        app.settings = app.settings.model_copy(update={"search": search})
    report = index_directory(app.memory(), folder.expanduser())
    if not quiet:
        print(f"corpus {folder}: {len(report.added)} new, {len(report.replaced)} changed, "
              f"{len(report.unchanged)} unchanged, {len(report.skipped)} skipped files", file=sys.stderr)


def _limits(app: App, mode: str | None = None) -> Limits:
    """The run's limits: the mode (``--mode``, ``budget.mode`` or the one that fits), then settings, then flags."""
    return limits_for(app.settings, mode=mode, results_per_query=app.settings.search.results_per_query)


def run_manifest(outcome: ResearchOutcome) -> dict[str, Any]:
    """The run's ``manifest.json`` (empty when there is none yet)."""
    data = read_json(outcome.folder / "manifest.json")
    return data if isinstance(data, dict) else {}


def _result_line(outcome: ResearchOutcome) -> dict[str, Any]:
    manifest = run_manifest(outcome)
    spent = manifest.get("cost")
    return {"type": "result", "run_id": outcome.run_id, "status": outcome.status, "exit_code": outcome.exit_code,
            "folder": str(outcome.folder), "files": {k: str(v) for k, v in outcome.files.items()},
            "error": outcome.error, "seconds": round(outcome.seconds, 2),
            "mode": (manifest.get("mode") or {}).get("name"),
            "cost": run_cost.brief(spent) if isinstance(spent, dict) else None}


def report_outcome(outcome: ResearchOutcome, mode: str) -> None:
    """Tell the user how the run ended (a JSON ``result`` line with ``--json``)."""
    if mode == "json":
        print(json.dumps(_result_line(outcome)), flush=True)
        return
    if outcome.error:
        where = "" if outcome.run_id in outcome.error else f" (run {outcome.run_id})"
        print(f"quarry: {outcome.error}{where}", file=sys.stderr)
    if outcome.files:
        label = {"complete": "Report written", "nothing_found": "Nothing found; report written",
                 "budget_exhausted": "Budget ran out; report written"}.get(outcome.status, outcome.status)
        print(f"{label} (run {outcome.run_id}):")
        for path in outcome.files.values():
            print(f"  {path}")
    spent = run_manifest(outcome).get("cost")
    if isinstance(spent, dict):
        print(run_cost.summary_line(spent))


def run_one(app: App, args: argparse.Namespace, request: ResearchRequest, reviewer: Reviewer | None = None) -> int:
    """One run (or resume) with a progress display; returns the exit code."""
    mode = _mode(args)
    limits = _limits(app, getattr(args, "mode", None))
    sink = make_progress(mode, state=ProgressState(limits=vars(request.budget.limits(limits)),  # type: ignore[arg-type]
                                                   question=request.question))
    try:
        outcome = execute(app.runner(), request, sink, base=limits,
                          reviewer=(reviewer or terminal_review) if request.review else None, settings=app.settings)
    finally:
        sink.close()
    report_outcome(outcome, mode)
    return outcome.exit_code


def run_batch_command(app: App, args: argparse.Namespace, defaults: ResearchRequest) -> int:
    """``--batch FILE``: every question, a line per finished one, and a summary table."""
    items = read_batch(Path(args.batch))
    mode = _mode(args)
    runner, limits = app.runner(), _limits(app, getattr(args, "mode", None))
    json_sink = make_progress("json") if mode == "json" else None

    def one(item: BatchItem) -> ResearchOutcome:
        request = item_request(item, defaults)
        return execute(runner, request, json_sink or (lambda event: None), base=limits, settings=app.settings)

    def done(result: BatchResult) -> None:
        if mode == "json":
            if result.outcome is not None:
                print(json.dumps({**_result_line(result.outcome), "line": result.item.line}), flush=True)
            else:
                print(json.dumps({"type": "result", "line": result.item.line, "status": "failed",
                                  "exit_code": result.exit_code, "error": result.error}), flush=True)
        elif mode != "quiet":
            row = summary_rows([result])[0]
            print(f"[{row['line']}] {row['status']}: {row['question']} {row['run_id']}", file=sys.stderr, flush=True)

    finished: list[BatchResult] = []

    def record(result: BatchResult) -> None:
        finished.append(result)
        done(result)

    try:
        results = run_batch(items, one, parallel=args.parallel, on_done=record)
    except KeyboardInterrupt:  # parallel runs stop at their last checkpoint when the app closes
        results = sorted(finished, key=lambda r: r.item.line)
        print("quarry: batch interrupted; resume unfinished runs with `quarry runs resume ID`.", file=sys.stderr)
    if mode == "json":
        print(json.dumps({"type": "batch_summary", "exit_code": batch_exit_code(results),
                          "results": summary_rows(results)}), flush=True)
    else:
        Console().print(summary_table(results))
    return batch_exit_code(results)


def exit_on_user_errors(command: Callable[..., int]) -> Callable[..., int]:
    """Wrap a command: a missing or broken model, or bad input, is one ``quarry: …`` sentence and its exit code."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> int:
        try:
            return command(*args, **kwargs)
        except (ModelNotFoundError, ModelLoadError) as err:
            print(f"quarry: {err}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except UIError as err:
            print(f"quarry: {err}", file=sys.stderr)
            return err.exit_code

    return run


@exit_on_user_errors
def run_research(args: argparse.Namespace, app: App, *, configure: Callable[[App, argparse.Namespace], None]
                 | None = None, reviewer: Reviewer | None = None) -> int:
    """``research`` (and ``runs resume``): validate, apply overrides, then one run or a batch.

    ``configure`` (the command's own settings hook for ``--model``/``--search``) runs first when given;
    ``reviewer`` shows the plan at a ``--review`` pause (default: ``terminal_review``).
    """
    formats = validate(args)
    if configure is not None:
        configure(app, args)
    apply_overrides(app, args, model_and_search=configure is None)
    request = request_from(args, formats)
    if getattr(args, "batch", None):
        if request.question or request.resume:
            raise BadInputError("Give either a question, --resume ID or --batch FILE, not several.")
    elif not request.question and not request.resume:
        raise BadInputError("Give a question to research, --resume RUN_ID or --batch FILE.")
    check_question(request.question)
    check_models(app.settings)
    note = announce_default_model(app.settings)
    if note and _mode(args) != "quiet":
        print(f"quarry: {note}", file=sys.stderr)
    if getattr(args, "corpus", None) is not None:
        index_corpus(app, Path(args.corpus), quiet=_mode(args) != "auto")
    if getattr(args, "batch", None):
        return run_batch_command(app, args, request)
    return run_one(app, args, request, reviewer)

