"""Exports: every format written; HTML escaped and script-free with working citation links;
Markdown and JSON faithful; the PDF has the text and the knowledge-graph figure (rendered with
poppler's pdftoppm and checked pixel by pixel)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from agents.report import Report
from tests.export_samples import (
    HOSTILE_URL,
    coloured_pixels,
    parse,
    poppler,
    sample_graph,
    sample_report,
    sample_sources,
)
from ui.errors import BadInputError
from ui.export import FORMATS, RunBundle, export, load_bundle, parse_formats, safe_url
from ui.export import html as html_export
from ui.export import markdown as md_export
from ui.export.common import graph_from_json
from ui.export.figure import render_svg


@pytest.fixture
def bundle() -> RunBundle:
    return RunBundle(report=sample_report(), sources=sample_sources(), graph=sample_graph())


def test_every_format_is_written(bundle: RunBundle, tmp_path: Path) -> None:
    written = export(bundle, tmp_path / "out", FORMATS)
    assert set(written) == set(FORMATS)
    for fmt, path in written.items():
        assert path == tmp_path / "out" / f"report.{fmt}"
        assert path.stat().st_size > 200, fmt
    assert not list((tmp_path / "out").glob("*.part"))
    assert written["pdf"].read_bytes().startswith(b"%PDF-")


def test_html_escapes_hostile_content(bundle: RunBundle) -> None:
    page = html_export.render(bundle)
    doc = parse(page)
    names = [tag for tag, _ in doc.tags]
    assert "script" not in names and "img" not in names and "b" not in names and "iframe" not in names
    for tag, attrs in doc.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for key in ("href", "src", "action", "formaction"):
            value = attrs.get(key)
            if value is not None:
                assert value.startswith(("#", "https://", "http://")), (tag, key, value)
    assert "javascript:" not in "".join(v or "" for _, a in doc.tags for v in a.values())
    text = "".join(doc.text)
    assert '<script>alert("pwned")</script>' in text  # shown as text, not run
    assert HOSTILE_URL in text  # the bad URL is visible but not a link
    csp = [a for t, a in doc.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in (csp[0]["content"] or "")
    assert "script-src" not in (csp[0]["content"] or "")


def test_html_citation_links_resolve(bundle: RunBundle) -> None:
    doc = parse(html_export.render(bundle))
    ids = {a["id"] for _, a in doc.tags if a.get("id")}
    anchors = [a["href"] for t, a in doc.tags if t == "a" and (a.get("href") or "").startswith("#")]
    assert anchors, "no citation links"
    assert all(href[1:] in ids for href in anchors if href)
    assert {"#ref-1", "#ref-2", "#ref-3"} <= set(anchors)
    external = {a["href"] for t, a in doc.tags if t == "a" and (a.get("href") or "").startswith("http")}
    assert {"https://example.org/a?x=1&y=2", "http://example.net/study.pdf", "https://example.com/uncited"} <= external
    cite_titles = [a.get("title") for t, a in doc.tags if t == "a" and a.get("href") == "#ref-1"]
    assert cite_titles[0] and 'onmouseover="x()"' in cite_titles[0]  # the quote, as attribute text


def test_html_has_inline_svg_figure(bundle: RunBundle) -> None:
    page = html_export.render(bundle)
    doc = parse(page)
    names = [t for t, _ in doc.tags]
    assert "figure" in names and "svg" in names and names.count("circle") == 5
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page


def test_svg_is_deterministic_and_bounded() -> None:
    graph = graph_from_json(sample_graph())
    assert render_svg(graph) == render_svg(graph)
    big = graph_from_json({"nodes": [{"id": str(i)} for i in range(100)],
                           "links": [{"source": str(i), "target": str(i + 1)} for i in range(99)]})
    assert render_svg(big, max_nodes=30).count("<circle") == 30
    assert render_svg(graph_from_json(None)) == ""


def test_html_without_graph_or_references() -> None:
    report = Report(run_id="r0", question="Nothing?", title="Nothing?", status="nothing_found",
                    notes=["Nothing was found."])
    page = html_export.render(RunBundle(report=report))
    assert "<svg" not in page and "Nothing was found." in page


def test_markdown_citations_and_references(bundle: RunBundle) -> None:
    text = md_export.render(bundle)
    assert text.startswith("# Heat pumps in cold climates\n")
    assert "Air-source heat pumps keep a COP above 2 at -15 °C. [1][2]" in text
    assert "## Installation &lt;script>bad()&lt;/script>" in text
    assert "1. [&lt;script>alert(\"pwned\")&lt;/script>&lt;img src=x onerror=\"alert(1)\">Heat pumps]" in text
    assert "(<https://example.org/a?x=1&y=2>)" in text
    assert "2. [Cold-climate field study](<http://example.net/study.pdf>), p. 3, 4, accessed 2026-11-22" in text
    assert "](javascript" not in text and f"3. Click me (`{HOSTILE_URL}`)" in text
    assert "4 claims checked: 3 supported, 1 changed, 1 removed." in text


def test_json_round_trips(bundle: RunBundle, tmp_path: Path) -> None:
    path = export(bundle, tmp_path, ["json"])["json"]
    again = Report.model_validate_json(path.read_text(encoding="utf-8"))
    assert again == bundle.report
    assert again.sections[0].sentences[0].citations[1].chunk_id == "c2"


def test_load_bundle_from_run_folder(tmp_path: Path) -> None:
    from tests.export_samples import write_run_folder

    folder = write_run_folder(tmp_path / "runs", sample_report("run-x"))
    loaded = load_bundle(folder)
    assert loaded.report.run_id == "run-x" and len(loaded.sources) == 4 and loaded.graph


def test_parse_formats() -> None:
    assert parse_formats("md, HTML,pdf,md") == ("md", "html", "pdf")
    assert parse_formats("markdown") == ("md",)
    with pytest.raises(BadInputError, match="Unknown report format 'docx'"):
        parse_formats("md,docx")
    with pytest.raises(BadInputError):
        parse_formats(" , ")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JaVaScRiPt:x", "data:text/html,x", "file:///etc/passwd",
                                 "/relative", "http://", "https://a.b/\nx", "vbscript:x", ""])
def test_safe_url_refuses(url: str) -> None:
    assert safe_url(url) is None


def test_pdf_has_text_and_figure(bundle: RunBundle, tmp_path: Path) -> None:
    pdf = export(bundle, tmp_path, ["pdf"])["pdf"]
    text = subprocess.run([poppler("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Heat pumps in cold climates" in text
    assert "Knowledge graph" in text and "Cold-climate field study" in text
    assert '<script>alert("pwned")</script>' in text  # escaped text, printed literally
    subprocess.run([poppler("pdftoppm"), "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages
    # The figure's nodes are the only saturated colour in the document (text is black, links blue
    # only in the browser: print CSS makes them ink). Count strongly orange/green pixels.
    coloured = coloured_pixels(pages, lambda r, g, b: (r > 200 and 110 < g < 170 and b < 80)
                               or (g > 140 and r < 120 and b < 110))
    assert coloured > 20, "the knowledge-graph figure is missing from the PDF"
