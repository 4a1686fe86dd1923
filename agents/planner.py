"""The planner: a question (and what memory holds on it) becomes a brief, an outline and sub-questions.

Guarantees: the plan has at least one outline section and at most ``breadth`` sub-questions, each
with one to three queries and a section that exists in the outline; sub-question ids are derived
from their text, so an edited or resumed plan keeps stable ids. The review pause (``interrupt``)
returns the plan to the caller and continues with whatever valid plan comes back.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from typing import Any

from langgraph.types import interrupt

from agents.context import Rt, ask, emit
from agents.floor_plan import floor_plan
from agents.lexical import normalize_question
from agents.prompt_fit import Group, fit
from agents.run.budget import round_allowance
from agents.state import Plan, ResearchState, SubQuestion

MAX_SECTIONS = 6


def plan_schema(breadth: int, text_chars: int = 300, sections: int = MAX_SECTIONS) -> dict[str, Any]:
    """JSON schema of the planner's answer, bounded by the breadth budget and the answer size."""
    short = min(80, text_chars)
    sub = {
        "type": "object",
        "properties": {
            # Bounds that forbid the degenerate answers small models give ("a", "en"): a sub-question of
            # a few words, queries of at least one word.
            "question": {"type": "string", "minLength": 15, "maxLength": min(150, text_chars)},
            "queries": {  # keyword queries: two short ones say it (each written token costs ten read ones)
                "type": "array",
                "items": {"type": "string", "minLength": 3, "maxLength": min(60, text_chars)},
                "minItems": 1,
                "maxItems": 2,
            },
            "section": {"type": "string", "maxLength": short},
        },
        "required": ["question", "queries", "section"],
    }
    return {
        "title": "Plan",
        "type": "object",
        "properties": {
            "brief": {"type": "string", "maxLength": min(160, text_chars)},  # steers the drafter; never printed
            "outline": {
                "type": "array",
                "items": {"type": "string", "minLength": 1, "maxLength": short},
                "minItems": 1,
                "maxItems": max(1, min(sections, MAX_SECTIONS)),
            },
            "subquestions": {"type": "array", "items": sub, "minItems": 1, "maxItems": breadth},
        },
        "required": ["brief", "outline", "subquestions"],
    }


def subquestion_id(text: str) -> str:
    """A stable id for a sub-question, derived from its normalized text."""
    return "sq-" + hashlib.sha1(normalize_question(text).encode()).hexdigest()[:10]


def make_subquestions(
    raw: list[dict[str, Any]], outline: list[str], *, round_no: int, limit: int, skip: Sequence[str] = ()
) -> list[SubQuestion]:
    """Clean raw sub-questions: dedupe (also against ``skip``), fix sections, cap queries and count."""
    seen = {normalize_question(q) for q in skip}
    sections = {s.casefold(): s for s in outline}
    out: list[SubQuestion] = []
    for item in raw:
        text = str(item.get("question", "")).strip()
        key = normalize_question(text)
        if not key or key in seen:
            continue
        seen.add(key)
        queries = [str(q).strip() for q in item.get("queries", []) if str(q).strip()][:3] or [text]
        section = sections.get(str(item.get("section", "")).strip().casefold(), outline[0] if outline else "")
        out.append(
            SubQuestion(id=subquestion_id(text), question=text, queries=queries, section=section, round=round_no)
        )
        if len(out) >= limit:
            break
    return out


def make_plan(answer: dict[str, Any], question: str, breadth: int) -> Plan:
    """Turn the planner's (or the user's edited) answer into a valid ``Plan``."""
    outline: list[str] = []
    for title in answer.get("outline", []):
        title = str(title).strip()
        if title and title.casefold() not in {t.casefold() for t in outline}:
            outline.append(title)
    outline = outline[:MAX_SECTIONS] or ["Findings"]
    raw = list(answer.get("subquestions", []))
    subs = make_subquestions(raw, outline, round_no=0, limit=breadth)
    if not subs:
        subs = make_subquestions([{"question": question, "queries": [question]}], outline, round_no=0, limit=1)
    return Plan(brief=str(answer.get("brief", "")).strip(), outline=outline, subquestions=subs)


def edited_plan(value: Any, current: Plan, question: str, breadth: int) -> Plan:
    """The plan to continue with after review: the user's edit when valid, else the current plan."""
    if not isinstance(value, dict):
        return current
    merged = {**current, **value}
    subs: list[dict[str, Any]] = [
        dict(s) if isinstance(s, dict) else {"question": str(s)} for s in merged.get("subquestions", [])
    ]
    for s in subs:
        s.setdefault("queries", [s.get("question", "")])
        s.setdefault("section", "")
    return make_plan({**merged, "subquestions": subs}, question, breadth)


def memory_notes(hits: list[Any], limit: int = 5) -> list[str]:
    """Short notes on what memory already holds (title and the start of each passage).

    ``hits`` are those memory returned under the relevance bar (``memory.relevance``): none means the
    planner is told memory holds nothing on the question.
    """
    notes = []
    for hit in hits[:limit]:
        text = " ".join(hit.chunk.text.split())[:300]
        notes.append(f"{hit.source.title}: {text}")
    return notes


async def plan_research(state: ResearchState, runtime: Rt) -> dict[str, Any]:
    """Node: write the brief, outline and first sub-questions."""
    ctx = runtime.context
    run_id, question = state["run_id"], state["question"]
    emit(runtime, run_id, "phase", phase="plan")
    # Only what memory holds on this question: an earlier run's pages clear the relevance bar or stay out.
    hits = await asyncio.to_thread(ctx.memory.search, question, 5, relevant_to=question, run_id=run_id)
    notes = memory_notes(hits)
    fixed = {"question": question, "breadth": ctx.limits.breadth, "language": ctx.language}
    packed = await fit(runtime, run_id, "planner", "planner", fixed, [Group("memory_notes", notes)])
    schema = plan_schema(ctx.limits.breadth, ctx.limits.text_chars, ctx.limits.max_sections)
    answer = await ask(runtime, run_id, "planner", packed.messages, schema) if packed else None
    # The floor: the question is always searched; what the model planned is kept where it is usable.
    plan = make_plan(floor_plan(answer or {}, question, ctx.limits.breadth), question, ctx.limits.breadth)
    emit(runtime, run_id, "plan", plan=dict(plan), tokens=ctx.tokens())
    return {"plan": plan, "memory_notes": notes, "round": 0}


def review_plan(state: ResearchState, runtime: Rt) -> dict[str, Any]:
    """Node: with review on, pause for the user to approve or edit the plan; then queue its searches."""
    ctx = runtime.context
    plan = state["plan"]
    if state.get("review"):
        value = interrupt({"type": "plan_review", "run_id": state["run_id"], "plan": dict(plan)})
        plan = edited_plan(value, plan, state["question"], ctx.limits.breadth)
        emit(runtime, state["run_id"], "plan_approved", plan=dict(plan))
    pending = plan["subquestions"]
    allowance = round_allowance(ctx.limits, state.get("pages_fetched", 0), len(pending), floor=1)  # the question's
    return {"plan": plan, "pending": pending, "allowance": allowance}
