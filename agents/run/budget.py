"""Budgets of one research run and the pure checks on them.

``Limits`` holds the run's caps (sub-questions per round, reflection rounds, pages, link hops, model
tokens, wall clock). The checks here are plain functions over numbers, so the graph's routing and
the search agents can ask "may I?" without side effects, and so the report can say *which* budget
ran out. A run whose budget runs out still drafts from what it has.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Limits:
    """The caps of one run (from ``settings.budget`` and CLI flags)."""

    breadth: int = 4  # sub-questions per round
    depth: int = 2  # reflection rounds after the first
    max_pages: int = 40
    max_hops: int = 1  # links followed per search agent
    max_tokens: int = 400_000
    max_minutes: float = 30.0
    max_tool_calls: int = 3  # tool calls one search agent makes per sub-question
    results_per_query: int = 8
    read_per_agent: int = 4  # pages one search agent reads (before hops), within the page budget
    chunks_per_prompt: int = 8  # passages shown to a model at once
    kg_batch: int = 6  # findings the knowledge-graph agent reads per model call
    kg_batches: int = 4  # model calls of the knowledge-graph agent per round
    text_chars: int = 300  # longest free text a model may write in one field (sentences, findings)
    max_sections: int = 6  # outline sections the planner may propose
    max_items: int = 8  # longest list a model may write in one answer (findings, sentences, facts)
    # The call structure (agents.run.modes presets these): which decisions get a model call of their own.
    model_tools: bool = False  # the searcher asks the model for tool calls (always when plugin tools are offered)
    model_picks: bool = False  # the searcher asks the model which results to read (else the top-ranked are read)
    graph_calls: bool = False  # the graph agent extracts facts in calls of its own (else the searcher writes them)
    one_call_draft: bool = True  # the answer and every section in one drafting call (else one call a section)
    answer_call: bool = False  # one-call drafting asks first for the short answer from the best passages alone
    judge: bool = True  # the model judges sentences the verifier's lexical screen cannot settle
    research_calls: bool = True  # planning and searching call the model (else the floors plan, search and note)
    length: str = "standard"  # the report's length: short, standard or long (drafter prompts, the editor's caps)
    mode: str = ""  # the preset these limits came from (agents.run.modes: quick, standard, deep; "" none)
    mode_reason: str = ""  # why that mode (asked for, or the auto choice for this machine and model)

    @classmethod
    def from_settings(cls, budget: Any, **overrides: Any) -> Limits:
        """Build from ``settings.budget`` (a ``BudgetSettings``), with optional overrides."""
        values = {
            "breadth": budget.breadth,
            "depth": budget.depth,
            "max_pages": budget.max_pages,
            "max_hops": budget.max_hops,
            "max_tokens": budget.max_tokens,
            "max_minutes": budget.max_minutes,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass
class Clock:
    """The wall-clock budget of one session of a run (a resumed run gets a fresh allowance)."""

    max_minutes: float
    started: float = field(default_factory=time.monotonic)

    def elapsed_s(self) -> float:
        """Seconds since this session started."""
        return time.monotonic() - self.started

    def left_s(self) -> float:
        """Seconds left before the wall-clock budget runs out (never negative)."""
        return max(0.0, self.max_minutes * 60.0 - self.elapsed_s())

    def expired(self) -> bool:
        """True once the wall-clock budget is spent."""
        return self.left_s() <= 0.0


def pages_left(limits: Limits, pages_fetched: int) -> int:
    """Pages the run may still fetch."""
    return max(0, limits.max_pages - pages_fetched)


def page_allowance(limits: Limits, pages_fetched: int, agents: int, floor: int = 0) -> int:
    """Pages each of the model's search agents may fetch this round: the ``agents - floor`` after the first
    ``floor`` (the floor's), in what the floor's claim leaves (``floor_claim``); with no floor, a fair share."""
    floor = max(0, min(floor, agents))
    if agents - floor <= 0:
        return 0
    room = pages_left(limits, pages_fetched) - floor_claim(limits, pages_fetched, floor)
    return min(limits.read_per_agent, max(room, 0) // (agents - floor))


def floor_pages(limits: Limits, pages_fetched: int, floor: int) -> int:
    """Pages each of the ``floor`` search agents of the floor's own searches (the question, the second hop's
    names) may fetch: what they would read with no model sub-question beside them."""
    return min(limits.read_per_agent, pages_left(limits, pages_fetched) // floor) if floor > 0 else 0


def floor_claim(limits: Limits, pages_fetched: int, floor: int) -> int:
    """Pages the floor's searches keep first: what they read this round, and at least half of the pages left
    (so the next round's floor, the second hop, still has its share); none without a floor's search."""
    left = pages_left(limits, pages_fetched)
    return min(left, max(floor_pages(limits, pages_fetched, floor) * floor, (left + 1) // 2)) if floor > 0 else 0


def round_allowance(limits: Limits, pages_fetched: int, agents: int, floor: int = 0) -> dict[str, int]:
    """What each search agent of a round may use: pages to read and links to follow.

    The first ``floor`` agents are the floor's (the question's own search, the second hop's bridge names):
    they get ``floor_pages`` each ("floor_pages", "floor"); a model sub-question never takes a page the
    floor would have read. The others share the rest ("pages"). With ``floor`` 0, every agent a fair share.
    """
    floor = max(0, min(floor, agents))
    pages = page_allowance(limits, pages_fetched, agents, floor)
    own = floor_pages(limits, pages_fetched, floor)
    spare = pages_left(limits, pages_fetched) - pages * (agents - floor) - own * floor
    return {"pages": pages, "hops": min(limits.max_hops, max(spare, 0) // max(agents, 1)), "floor_pages": own,
            "floor": floor}


def tokens_used(usage: Mapping[str, Any]) -> int:
    """Total model tokens over every role's ``Usage``."""
    return sum(int(u.total_tokens) for u in usage.values())


# Research (search rounds, graph building) stops at this share of the token and time budgets, so
# that drafting and verifying always have something left to work with.
RESEARCH_SHARE = 0.75


def exhausted(limits: Limits, *, pages_fetched: int, tokens: int, clock: Clock, share: float = 1.0) -> list[str]:
    """The names of the budgets that have run out ("pages", "tokens", "time"); ``share`` scales tokens and time."""
    out: list[str] = []
    if pages_left(limits, pages_fetched) <= 0:
        out.append("pages")
    if tokens >= limits.max_tokens * share:
        out.append("tokens")
    if clock.elapsed_s() >= clock.max_minutes * 60.0 * share:
        out.append("time")
    return out


def may_search_again(limits: Limits, *, round_no: int, exhausted_now: list[str], followups: int) -> bool:
    """Whether the reflection loop may start another search round."""
    return followups > 0 and round_no < limits.depth and not exhausted_now


def budget_note(name: str, limits: Limits) -> str:
    """One sentence for the report saying which budget ran out."""
    notes = {
        "pages": f"The page budget ran out after {limits.max_pages} pages; the report uses what was read.",
        "tokens": f"The model-token budget ({limits.max_tokens} tokens) ran out; the report uses what was read.",
        "time": f"The time budget ({limits.max_minutes:g} minutes) ran out; the report uses what was read.",
        "rounds": f"The reflection budget ({limits.depth} rounds) ran out with open questions left.",
    }
    return notes[name]


def refusal_note(name: str, limits: Limits, calls: int) -> str:
    """One sentence for the report saying that ``calls`` model calls did not fit the ``name`` budget."""
    if name == "time":
        budget = f"time budget ({limits.max_minutes:g} minutes)"
    else:
        budget = f"model-token budget ({limits.max_tokens} tokens)"
    steps = "call" if calls == 1 else "calls"
    return (f"The {budget} left no room for {calls} model {steps}; those steps took their model-free floor "
            "(sections list their best-supported findings, verification keeps what the lexical screen supports).")


def snapshot(limits: Limits, *, pages_fetched: int, tokens: int, clock: Clock, round_no: int) -> dict[str, Any]:
    """What is left of each budget, for progress events."""
    return {
        "pages_left": pages_left(limits, pages_fetched),
        "tokens_left": max(0, limits.max_tokens - tokens),
        "seconds_left": round(clock.left_s(), 1),
        "rounds_left": max(0, limits.depth - round_no),
    }
