"""The research graph: wiring only (nodes, edges, routing). State in ``state``, nodes in their modules.

plan_research → review_plan ─Send×N→ search_subquestion → build_graph ─┬─Send×N→ search_subquestion …
                                                                      └→ draft_report ─┬─Send×N→ (once)
                                                                                       └→ verify_report
                                                                                          → publish_report
"""

from __future__ import annotations

from typing import Any, Literal, cast

from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

from agents.context import RunContext
from agents.drafter import draft_report
from agents.kg import build_graph
from agents.planner import plan_research, review_plan
from agents.publish import publish_report
from agents.reading import read_urls
from agents.searcher import search_subquestion
from agents.state import ResearchState, SearchTask
from agents.verifier import verify_report


def _sends(state: ResearchState) -> list[Send]:
    allowance = state.get("allowance", {"pages": 0, "hops": 0})
    read = read_urls(state.get("fetches", []))
    return [
        Send(
            "search_subquestion",
            SearchTask(
                run_id=state["run_id"],
                question=state["question"],
                sub=sub,
                # the first "floor" sub-questions are the floor's own searches: their pages come first
                page_allowance=allowance.get("floor_pages", 0) if n < allowance.get("floor", 0) else allowance["pages"],
                hop_allowance=allowance["hops"],
                skip_urls=read,
            ),
        )
        for n, sub in enumerate(state.get("pending", []))
    ]


def route_after_review_plan(state: ResearchState) -> list[Send] | Literal["draft_report"]:
    """Fan the plan's sub-questions out to parallel search agents."""
    return _sends(state) or "draft_report"


def route_after_build_graph(state: ResearchState) -> list[Send] | Literal["draft_report"]:
    """Another search round for the follow-ups, or on to drafting."""
    return _sends(state) or "draft_report"


def route_after_draft_report(state: ResearchState) -> list[Send] | Literal["verify_report"]:
    """Thin sections go back for research once; otherwise verify."""
    return _sends(state) or "verify_report"


def build(checkpointer: Any = None) -> Any:
    """The compiled research graph (with ``checkpointer`` for pause and resume)."""
    g = StateGraph(ResearchState, context_schema=RunContext)
    g.add_node("plan_research", plan_research)
    g.add_node("review_plan", review_plan)
    # A Send target takes its own input type; langgraph's overloads only type nodes over the graph state.
    g.add_node("search_subquestion", cast(Any, search_subquestion), input_schema=SearchTask)
    g.add_node("build_graph", build_graph)
    g.add_node("draft_report", draft_report)
    g.add_node("verify_report", verify_report)
    g.add_node("publish_report", publish_report)
    g.add_edge(START, "plan_research")
    g.add_edge("plan_research", "review_plan")
    g.add_conditional_edges("review_plan", route_after_review_plan, ["search_subquestion", "draft_report"])
    g.add_edge("search_subquestion", "build_graph")
    g.add_conditional_edges("build_graph", route_after_build_graph, ["search_subquestion", "draft_report"])
    g.add_conditional_edges("draft_report", route_after_draft_report, ["search_subquestion", "verify_report"])
    g.add_edge("verify_report", "publish_report")
    g.add_edge("publish_report", END)
    return g.compile(checkpointer=checkpointer)


__all__ = ["SearchTask", "build"]
