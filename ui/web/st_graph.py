"""The knowledge-graph page: the run's entities and relations, interactive.

Guarantees: drawn with Vega-Lite (``st.altair_chart``), which renders names as SVG/canvas text,
never HTML; nodes are sized by degree, contradictions drawn in red; clicking a node (or picking it
from the list) shows its facts and their sources. Nothing here loads a page's images or scripts.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import networkx as nx
import pandas as pd
import streamlit as st

from agents.report import Report
from ui import run_files
from ui.safe import md_escape, md_link
from ui.web.st_common import Ctx, current_report, current_run_id, no_run_message
from ui.web.views import GraphView, graph_view

MAX_NODES = 150  # the whole memory's graph is cut to its best-connected entities to stay readable


def chart(view: GraphView) -> Any:
    """Edges as rules, nodes as circles sized by degree; red marks contradictions."""
    colour = alt.condition("datum.contradiction", alt.value("#d62728"), alt.value("#4c78a8"))
    edges = pd.DataFrame(view.edges or [{"x": 0.0, "y": 0.0, "x2": 0.0, "y2": 0.0, "contradiction": False}])
    nodes = pd.DataFrame(view.nodes)
    pick = alt.selection_point(name="node", fields=["id"], on="click")
    scale = alt.Scale(zero=False, nice=False, padding=36)  # keep nodes and labels off the edges
    rules = alt.Chart(edges).mark_rule(opacity=0.5).encode(
        x=alt.X("x:Q", axis=None, scale=scale), y=alt.Y("y:Q", axis=None, scale=scale), x2="x2:Q", y2="y2:Q",
        color=colour,
    )
    dots = alt.Chart(nodes).mark_circle(opacity=0.9).encode(
        x="x:Q", y="y:Q",
        size=alt.Size("degree:Q", scale=alt.Scale(range=[80, 900]), legend=None),
        color=colour,
        tooltip=[alt.Tooltip("name:N"), alt.Tooltip("type:N"), alt.Tooltip("degree:Q")],
    ).add_params(pick)
    labels = alt.Chart(nodes).mark_text(dy=-12, fontSize=11).encode(x="x:Q", y="y:Q", text="name:N")
    return alt.layer(rules, dots, labels).properties(height=480)


def memory_graph(app: Any, limit: int = MAX_NODES) -> dict[str, Any]:
    """The whole memory's graph as node-link data, cut to the ``limit`` best-connected entities."""
    graph = app.memory().graph()
    if graph.number_of_nodes() > limit:
        keep = sorted(graph.nodes, key=lambda n: (-graph.degree(n), str(n)))[:limit]
        graph = graph.subgraph(keep).copy()
    data: dict[str, Any] = nx.node_link_data(graph, edges="edges")
    return data


def selected_node(state: Any) -> str | None:
    """The node id a chart click selected, if any."""
    try:
        points = state["selection"]["node"]
    except (KeyError, TypeError):
        return None
    if isinstance(points, list) and points and isinstance(points[0], dict):
        value = points[0].get("id")
        return str(value) if value else None
    return None


def render(ctx: Ctx) -> None:
    """Draw the graph of the viewed run and the facts of the chosen node."""
    st.title("Knowledge graph")
    run_id = current_run_id()
    if not run_id:
        no_run_message()
        return
    report = current_report(ctx)
    whole = ctx.app is not None and st.toggle("Whole memory (every run)", key="kg_whole")
    data: dict[str, Any] | None
    if whole:
        data = memory_graph(ctx.app)
    else:
        try:
            data = run_files.load_graph(ctx.runs_dir, run_id)
        except ValueError:
            data = None
    view = graph_view(data, report)
    if not view.nodes:
        st.info("Memory holds no graph yet." if whole else "No graph yet: it is written when the run publishes.")
        return
    st.caption(f"{len(view.nodes)} entities, {len(view.edges)} facts; red marks a contradiction between sources.")
    state = st.altair_chart(chart(view), on_select="rerun", key="kg_chart", width="stretch")
    ids = [n["id"] for n in sorted(view.nodes, key=lambda n: (-n["degree"], n["name"]))]
    clicked = selected_node(state)
    if clicked in ids and clicked != st.session_state.get("kg_clicked"):
        st.session_state["kg_node"] = clicked  # a click on the chart picks the entity below
    st.session_state["kg_clicked"] = clicked
    if st.session_state.get("kg_node") not in ids:
        st.session_state["kg_node"] = ids[0]
    names = {n["id"]: n["name"] for n in view.nodes}
    chosen = st.selectbox("Entity", ids, format_func=lambda i: names.get(i, i), key="kg_node")
    try:
        sources = run_files.load_sources(ctx.runs_dir, run_id)
    except ValueError:
        sources = []
    facts_panel(view, chosen, report, sources)


def source_labels(report: Report | None, sources: list[dict[str, Any]]) -> dict[str, str]:
    """Escaped Markdown per source id: ``[n]`` and a link when cited, else the page's title and link."""
    labels = {}
    for src in sources:
        sid = str(src.get("source_id") or "")
        if sid:
            labels[sid] = md_link(str(src.get("title") or src.get("url") or sid), src.get("url"))
    for ref in report.references if report else []:
        labels[ref.source_id] = f"\\[{ref.n}\\] " + md_link(ref.title or ref.url, ref.url)
    return labels


def facts_panel(
    view: GraphView, node_id: str, report: Report | None, sources: list[dict[str, Any]] | None = None
) -> None:
    """The chosen node's facts, each with the sources it came from."""
    node = view.node(node_id)
    if node is None:
        return
    st.subheader(md_escape(node["name"]))
    if node["type"]:
        st.caption(f"type: {md_escape(node['type'])} · degree {node['degree']}")
    labels = source_labels(report, sources or [])
    facts = view.facts(node_id)
    if not facts:
        st.text("No facts recorded for this entity.")
    for fact in facts:
        flag = " ⚠ contradiction" if fact["contradiction"] else ""
        st.markdown(f"- {md_escape(fact['subject'])} — *{md_escape(fact['relation'])}* — "
                    f"{md_escape(fact['object'])}{flag}")
        links = [labels.get(sid) or md_escape(sid) for sid in fact["sources"]]
        if links:
            st.caption("sources: " + "; ".join(links))
