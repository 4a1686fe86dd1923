"""Ask a follow-up question about a finished run: ``quarry ask RUN_ID "question"``.

The answer comes from the run's memory and knowledge graph first (cited, each sentence checked by the
verifier's screen), and only when memory does not hold it from a short research round on the follow-up
(quick mode, its own time budget, ``--max-minutes``), whose sources join the run. Each exchange is
appended to ``runs/<run_id>/followups.jsonl`` and listed by ``quarry runs show``; ``report.md`` is
unchanged. Exit codes: 0 answered, 1 the research round failed, 2 bad input (unknown run, empty or
over-long question; nothing is written).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from ui.cli import engine
from ui.cli.commands.memory import clean

if TYPE_CHECKING:
    from app import App
    from ui.followup import Followup

HELP = "ask a follow-up question about a finished run (memory first, then a short research round)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``ask``."""
    parser.add_argument("run_id", metavar="RUN_ID", help="the run to ask about (see `quarry runs`)")
    parser.add_argument("question", help="the follow-up question")
    parser.add_argument("--max-minutes", type=float, help="time budget of the research round, if one is needed")
    parser.add_argument("--no-research", action="store_true", help="answer from memory only, never fetch")
    parser.add_argument("--json", action="store_true", help="print the exchange as JSON")
    engine.add_model_arguments(parser)


def print_followup(exchange: Followup, console: Console) -> None:
    """The answer, its cited sentences and sources, in the terminal (stored text made inert)."""
    if not exchange.sentences or exchange.answer != exchange.sentences[0]["text"]:
        console.print(Text(clean(exchange.answer), style="bold"))
    for sentence in exchange.sentences:
        refs = "".join(f"[{n}]" for n in sentence.get("refs", []))
        console.print(Text(f"- {clean(sentence['text'])} {refs}"), soft_wrap=True)
    for ref in exchange.references:
        console.print(Text(f"[{ref['n']}] {clean(ref['title'])} — {clean(ref['url'])}"), soft_wrap=True)
    where = ("from the run's memory" if exchange.origin == "memory"
             else f"researched in run {exchange.research_run}" if exchange.origin == "research" else "not found")
    console.print(Text(f"({where})", style="dim"))


@engine.exit_on_user_errors
def run(args: argparse.Namespace, app: App) -> int:
    """Answer one follow-up; returns the exit code."""
    from ui.followup import ask_followup

    engine.apply_overrides(app, args, model_and_search=False)
    exchange = ask_followup(app, args.run_id, args.question, max_minutes=args.max_minutes,
                            research=not args.no_research)
    if args.json:
        print(json.dumps(exchange.to_json(), indent=2, ensure_ascii=False))
    else:
        print_followup(exchange, Console())
    if exchange.research_run:
        print(f"quarry: memory did not hold the answer; researched it in run {exchange.research_run}.",
              file=sys.stderr)
    return 0
