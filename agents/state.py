"""The research graph's state: plain JSON-like TypedDicts, checkpointed after every step.

Every value is made of dicts, lists, strings and numbers so the SQLite checkpointer can store it and a
resumed run reads back exactly what was written. Keys that parallel search agents write (``Send``
branches) carry a reducer, so N branches finishing in the same step merge instead of colliding.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, NotRequired, TypedDict


def merge_unique(left: list[Any] | None, right: list[Any] | None) -> list[Any]:
    """Reducer: ``left`` followed by the items of ``right`` it does not already hold, order kept."""
    out = list(left or [])
    seen = {_key(item) for item in out}
    for item in right or []:
        key = _key(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def merge_by_id(left: list[dict[str, Any]] | None, right: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Reducer for records with an ``id``: a later record with the same id replaces the earlier one."""
    out = list(left or [])
    index = {item["id"]: pos for pos, item in enumerate(out)}
    for item in right or []:
        pos = index.get(item["id"])
        if pos is None:
            index[item["id"]] = len(out)
            out.append(item)
        else:
            out[pos] = item
    return out


def _key(item: Any) -> Any:
    if isinstance(item, dict):
        return item.get("id", repr(sorted(item.items())))
    return item


class SubQuestion(TypedDict):
    """One sub-question of the plan and the queries to try for it."""

    id: str
    question: str
    queries: list[str]
    section: str  # the outline section it serves ("" when general)
    round: int


class Plan(TypedDict):
    """The planner's output, possibly edited by the user at the review pause."""

    brief: str
    outline: list[str]
    subquestions: list[SubQuestion]


class FindingRecord(TypedDict):
    """A finding as the graph carries it (mirrors ``memory.types.Finding``)."""

    id: str
    question: str
    text: str
    chunk_ids: list[str]
    origin: NotRequired[str]  # "floor" (quoted by the floor) or "model"; a record without it counts as the floor's


class ToolCallRecord(TypedDict):
    """One tool call a search agent made: what, with which arguments, how long, what came of it."""

    subquestion: str
    tool: str
    arguments: dict[str, Any]
    duration_s: float
    ok: bool
    outcome: str  # "3 results", "text (412 chars)" or the error


class FetchRecord(TypedDict):
    """One URL a search agent asked for and what became of it (for sources.json and the manifest)."""

    url: str
    status: str  # "fetched" | "memory" | "failed" | "refused"
    source_id: str
    fetched_at: str
    http_status: int
    content_hash: str
    error: str


class SearchReport(TypedDict):
    """What one search agent did for its sub-question."""

    id: str
    question: str
    section: str
    queries: list[str]
    pages: int
    findings: int
    hops: int


class ResearchState(TypedDict, total=False):
    """The whole run's state."""

    run_id: str
    question: str
    language: str
    review: bool  # pause after planning for the user to approve or edit the plan (set when the run starts)
    memory_notes: list[str]  # what memory already held when the run started
    plan: Plan
    round: int
    pending: list[SubQuestion]  # the sub-questions of the current search round
    asked: Annotated[list[str], merge_unique]  # every sub-question text searched so far (dedup)
    searches: Annotated[list[SearchReport], operator.add]
    findings: Annotated[list[FindingRecord], merge_by_id]
    fetches: Annotated[list[FetchRecord], operator.add]
    tool_calls: Annotated[list[ToolCallRecord], operator.add]
    queries: Annotated[list[str], operator.add]
    pages_fetched: Annotated[int, operator.add]
    hops_used: Annotated[int, operator.add]
    kg_seen: list[str]  # finding ids the knowledge-graph agent has already read
    facts: Annotated[list[dict[str, Any]], merge_by_id]  # relations of this run, with provenance
    contradictions: list[dict[str, Any]]
    gaps: list[str]
    followups: list[SubQuestion]
    redraft_used: bool
    sections: list[dict[str, Any]]  # agents.report.Section dumps
    # the short answer: {"text", "sentences": [{"text", "chunk_ids", "status"}]}; as drafted, also "shown" (ids)
    answer: dict[str, Any]
    verification: dict[str, int]  # checked, supported, changed, removed
    budget_out: Annotated[list[str], merge_unique]  # budgets that ran out ("pages", "tokens", "time", "rounds")
    allowance: dict[str, int]  # pages and hops each search agent of the current round may use
    report: dict[str, Any]  # agents.report.Report dump
    notes: Annotated[list[str], merge_unique]  # budget and outcome notes for the report


class SearchTask(TypedDict):
    """What ``Send`` hands one search agent."""

    run_id: str
    question: str
    sub: SubQuestion
    page_allowance: int
    hop_allowance: int
    skip_urls: NotRequired[list[str]]  # normalized URLs this run has already read (not offered again)
