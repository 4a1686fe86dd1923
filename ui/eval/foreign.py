"""``foreign_sections``: how many of a run's sections and planned queries were built from another question's pages.

The eval's measure of memory contamination (issue 24). A run's plan is made before it reads anything,
so an outline section or planned query that names the title of a page of *another* question of the
data set — a page this question does not have, whose name its question does not state — can only
have come from what memory held (or from the model's own knowledge, which the floor baseline rules
out). Counted over the plan's outline, the plan's sub-questions' queries and the report's section
titles, each distinct text once. Titles of one common word ("Film", "India") are not counted: every
question's pages may say them. Pure functions over the run folder; never raises.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from memory.relevance import common, folded_words, stems
from ui.eval.dataset import Item
from ui.eval.web import EvalWeb
from ui.run_files import read_json


def _phrase(text: str) -> str:
    return f" {' '.join(folded_words(text))} "


def run_texts(manifest: Any, report: Any) -> list[str]:
    """The plan's outline and queries and the report's section titles of a run, each distinct text once."""
    plan = manifest.get("plan") if isinstance(manifest, dict) else None
    texts: list[str] = []
    if isinstance(plan, dict):
        texts += [str(t) for t in plan.get("outline") or []]
        for sub in plan.get("subquestions") or []:
            if isinstance(sub, dict):
                texts += [str(q) for q in sub.get("queries") or []]
    if isinstance(report, dict):
        texts += [str(s.get("title") or "") for s in report.get("sections") or [] if isinstance(s, dict)]
    return list(dict.fromkeys(t.strip() for t in texts if t.strip()))


def _telling(title: str) -> bool:
    """Whether a page title says something only its pages say (not one common word)."""
    words = folded_words(title)
    return len(words) > 1 or any(not common(s) for s in stems(title))


def count_foreign(texts: Sequence[str], question: str, others: Iterable[str]) -> int:
    """How many ``texts`` name one of ``others`` (other questions' page titles) that ``question`` does not name."""
    asked = _phrase(question)
    names = [p for p in {_phrase(t) for t in others if _telling(t)} if p.strip() and p not in asked]
    return sum(1 for text in texts if any(name in _phrase(text) for name in names))


def foreign_sections(folder: Path, item: Item, web: EvalWeb) -> int:
    """The run's count of sections and planned queries built from another question's pages."""
    folder = Path(folder)
    own = {page.title for page in item.pages}
    texts = run_texts(read_json(folder / "manifest.json"), read_json(folder / "report.json"))
    return count_foreign(texts, item.question, (t for t in web.titles if t not in own)) if texts else 0
