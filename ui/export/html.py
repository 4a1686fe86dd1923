"""Render a report as one self-contained, script-free HTML page.

Guarantees: every string from a page, a search result or a model is HTML-escaped (Jinja2
autoescaping; the graph figure escapes its own labels); only http(s) URLs become links; the page
carries a Content-Security-Policy that forbids scripts and every external load, so nothing a
fetched page said can run or phone home. Citations link to the reference list (``#ref-N``) and
the reference list links to the sources. The knowledge graph is an inline SVG figure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from agents.report import Report, Sentence
from ui.export.common import RunBundle, graph_from_json, safe_url, source_url
from ui.export.figure import pick_nodes, render_svg
from ui.manifest import QUARRY_VERSION

MAX_GRAPH_NODES = 40
_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=False,
)


def _cites(sentence: Sentence) -> list[dict[str, Any]]:
    by_ref: dict[int, str] = {}
    for c in sentence.citations:
        by_ref.setdefault(c.ref, " ".join(c.quote.split())[:300])
    return [{"n": n, "quote": by_ref[n]} for n in sorted(by_ref)]


def _references(report: Report) -> list[dict[str, Any]]:
    return [
        {
            "n": r.n,
            "title": r.title or r.url or r.source_id,
            "href": safe_url(r.url),
            "url": r.url,
            "pages": ", ".join(str(p) for p in r.pages),
            "accessed": r.accessed,
        }
        for r in report.references
    ]


def _also_read(bundle: RunBundle) -> list[dict[str, Any]]:
    cited = {r.source_id for r in bundle.report.references} | {r.url for r in bundle.report.references}
    out, seen = [], set(cited)
    for src in bundle.sources:
        url = source_url(src)
        sid = str(src.get("id") or src.get("source_id") or "")
        if src.get("status") in ("failed", "refused") or sid in seen or url in seen:
            continue
        seen.update({sid, url})
        out.append({"title": str(src.get("title") or url or sid), "href": safe_url(url)})
    return out


def render(bundle: RunBundle, *, version: str = QUARRY_VERSION) -> str:
    """The bundle as an HTML document string."""
    report = bundle.report
    graph = graph_from_json(bundle.graph)
    shown = len(pick_nodes(graph, MAX_GRAPH_NODES))
    sections = [
        {"title": s.title, "sentences": [{"text": x.text, "status": x.status, "cites": _cites(x)}
                                         for x in s.sentences]}
        for s in report.sections
    ]
    answer = {
        "text": report.answer.text if report.answer.sentences and report.answer.text
        != report.answer.sentences[0].text else "",
        "sentences": [{"text": x.text, "status": x.status, "cites": _cites(x)} for x in report.answer.sentences],
    }
    return _ENV.get_template("report.html.j2").render(
        report=report,
        answer=answer,
        title=report.title or report.question,
        show_question=bool(report.title) and report.question != report.title,
        sections=sections,
        references=_references(report),
        also_read=_also_read(bundle),
        svg=Markup(render_svg(graph, max_nodes=MAX_GRAPH_NODES)),  # labels escaped in figure.py
        graph_cut=shown < graph.number_of_nodes(),
        graph_shown=shown,
        graph_total=graph.number_of_nodes(),
        version=version,
    )
