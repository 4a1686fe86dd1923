"""Report, sources and knowledge graph shaped for the browser pages (pure functions, no Streamlit).

Guarantees: every string that came from a page or a model leaves here either Markdown-escaped
(``*_md`` values, built with ``ui.safe``) or as plain data for a table or chart (which render text,
never HTML); every link is http(s) or absent. Citation numbers are the report's reference numbers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from agents.report import Citation, Report, Section
from ui.safe import domain, flat, md_escape, md_link, safe_url, shorten


@dataclass(frozen=True)
class CitedPassage:
    """A citation as the report page's popover shows it."""

    ref: int
    title: str
    url: str | None  # http(s) only
    location: str  # the URL or file path (and page) as plain text
    quote: str


def references_by_number(report: Report) -> dict[int, Any]:
    """The report's references keyed by their number."""
    return {ref.n: ref for ref in report.references}


def section_markdown(section: Section, report: Report) -> str:
    """One section's paragraph: escaped sentences, each followed by its citation markers.

    A marker links to its source (http/https only) with the quoted passage as its hover title.
    """
    refs = references_by_number(report)
    parts: list[str] = []
    for sentence in section.sentences:
        markers = []
        for n, cites in _group_by_ref(sentence.citations).items():
            quote = " … ".join(flat(c.quote) for c in cites)
            ref = refs.get(n)
            markers.append(md_link(f"[{n}]", ref.url if ref else None, title=shorten(quote, 600)))
        parts.append(md_escape(sentence.text) + ("" if not markers else " " + "".join(markers)))
    return " ".join(parts)


def _group_by_ref(citations: list[Citation]) -> dict[int, list[Citation]]:
    grouped: dict[int, list[Citation]] = defaultdict(list)
    for cite in citations:
        grouped[cite.ref].append(cite)
    return dict(sorted(grouped.items()))


def section_citations(section: Section, report: Report) -> list[CitedPassage]:
    """The distinct passages a section cites, in reference order."""
    refs = references_by_number(report)
    seen: set[tuple[int, str]] = set()
    out: list[CitedPassage] = []
    for sentence in section.sentences:
        for cite in sentence.citations:
            key = (cite.ref, cite.chunk_id)
            if key in seen:
                continue
            seen.add(key)
            ref = refs.get(cite.ref)
            location = ref.url if ref else ""
            page = cite.page or None
            if page:
                location = f"{location}, page {page}"
            out.append(
                CitedPassage(
                    ref=cite.ref,
                    title=ref.title if ref else f"Source {cite.ref}",
                    url=safe_url(ref.url) if ref else None,
                    location=location,
                    quote=flat(cite.quote),
                )
            )
    return sorted(out, key=lambda c: c.ref)


def reference_lines(report: Report) -> list[str]:
    """The reference list as escaped Markdown lines: number, title (linked when http/https), date."""
    lines = []
    for ref in report.references:
        pages = f", pages {', '.join(str(p) for p in ref.pages)}" if ref.pages else ""
        where = "" if safe_url(ref.url) else f" — {md_escape(ref.url)}"
        accessed = f" \\(accessed {md_escape(ref.accessed)}\\)"
        lines.append(f"{ref.n}\\. {md_link(ref.title or ref.url, ref.url)}{where}{pages}{accessed}")
    return lines


def source_rows(report: Report | None, sources: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """One row per source: title, domain, URL, fetched time, sections using it, citation count."""
    sections_by_ref: dict[int, set[str]] = defaultdict(set)
    counts: Counter[int] = Counter()
    refs = report.references if report else []
    for section in report.sections if report else []:
        for sentence in section.sentences:
            for cite in sentence.citations:
                counts[cite.ref] += 1
                sections_by_ref[cite.ref].add(section.title)
    good = [s for s in sources or [] if s.get("status", "fetched") != "failed"]
    fetched = {str(s.get("source_id") or s.get("id") or ""): s for s in good}
    by_url = {str(s.get("url", "")): s for s in sources or []}
    rows: list[dict[str, Any]] = []
    listed: set[str] = set()
    for ref in refs:
        info = fetched.get(ref.source_id) or by_url.get(ref.url) or {}
        listed.update({ref.source_id, ref.url})
        rows.append(_row(ref.title, ref.url, info.get("fetched_at") or ref.accessed,
                         sorted(sections_by_ref.get(ref.n, set())), counts.get(ref.n, 0), ref.n,
                         str(info.get("status") or "fetched")))
    for src in sources or []:
        sid, url = str(src.get("source_id") or src.get("id") or ""), str(src.get("url", ""))
        if (sid and sid in listed) or url in listed:
            continue
        listed.update({sid, url})
        rows.append(_row(str(src.get("title", "")), url, src.get("fetched_at", ""), [], 0, None,
                         str(src.get("status") or "")))
    return rows


def _row(
    title: str, url: str, fetched: Any, sections: list[str], citations: int, ref: int | None, status: str
) -> dict[str, Any]:
    return {
        "status": flat(status),
        "ref": ref,
        "title": flat(title) or flat(url),
        "domain": domain(url) or ("local file" if url and not safe_url(url) else ""),
        "url": safe_url(url),
        "location": flat(url),
        "fetched": flat(fetched or ""),
        "sections": ", ".join(flat(s) for s in sections),
        "citations": citations,
    }


def filter_rows(rows: list[dict[str, Any]], text: str = "", cited_only: bool = False) -> list[dict[str, Any]]:
    """Rows whose title, domain, location or sections contain ``text`` (case-insensitive)."""
    needle = text.strip().lower()
    out = []
    for row in rows:
        if cited_only and not row["citations"]:
            continue
        hay = " ".join(str(row[k]) for k in ("title", "domain", "location", "sections")).lower()
        if needle in hay:
            out.append(row)
    return out


@dataclass
class GraphView:
    """The knowledge graph ready to draw: positioned nodes and edges, contradictions marked."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)

    def node(self, node_id: str) -> dict[str, Any] | None:
        """One node by id."""
        return next((n for n in self.nodes if n["id"] == node_id), None)

    def facts(self, node_id: str) -> list[dict[str, Any]]:
        """Every edge touching the node, as a fact: subject, relation, object, sources, contradiction."""
        return [e for e in self.edges if node_id in (e["source"], e["target"])]


def graph_view(data: dict[str, Any] | None, report: Report | None = None) -> GraphView:
    """Build the drawable graph from ``graph.json`` (node-link data) and the report's contradictions."""
    if not data:
        return GraphView()
    graph = nx.MultiDiGraph()
    for node in data.get("nodes", []):
        nid = str(node.get("id", ""))
        if nid:
            graph.add_node(nid, name=flat(node.get("name") or node.get("label") or nid),
                           type=flat(node.get("type", "")), sources=list(node.get("source_ids", []) or []))
    for edge in data.get("links", data.get("edges", [])):
        src, dst = str(edge.get("source", "")), str(edge.get("target", ""))
        if src in graph and dst in graph:
            graph.add_edge(src, dst, relation=flat(edge.get("relation") or edge.get("label") or ""),
                           sources=list(edge.get("source_ids", []) or []),
                           evidence=list(edge.get("evidence_chunk_ids") or edge.get("chunk_ids") or []))
    return _positioned(graph, _contradicted(report))


def _contradicted(report: Report | None) -> set[tuple[str, str]]:
    marks: set[tuple[str, str]] = set()
    for c in report.contradictions if report else []:
        marks.add((flat(c.subject).lower(), flat(c.relation).lower()))
    return marks


def _positioned(graph: nx.MultiDiGraph, contradicted: set[tuple[str, str]]) -> GraphView:
    pos = nx.spring_layout(graph, seed=7) if graph.number_of_nodes() else {}
    view = GraphView()
    hot: set[str] = set()
    for src, dst, attrs in graph.edges(data=True):
        name = graph.nodes[src]["name"]
        flagged = (name.lower(), attrs["relation"].lower()) in contradicted
        if flagged:
            hot.update({src, dst})
        view.edges.append({
            "source": src, "target": dst, "subject": name, "relation": attrs["relation"],
            "object": graph.nodes[dst]["name"], "sources": attrs["sources"], "evidence": attrs["evidence"],
            "contradiction": flagged,
            "x": float(pos[src][0]), "y": float(pos[src][1]), "x2": float(pos[dst][0]), "y2": float(pos[dst][1]),
        })
    for nid, attrs in graph.nodes(data=True):
        view.nodes.append({
            "id": nid, "name": attrs["name"], "type": attrs["type"], "degree": int(graph.degree(nid)),
            "contradiction": nid in hot, "x": float(pos[nid][0]), "y": float(pos[nid][1]),
            "sources": attrs["sources"],
        })
    return view
