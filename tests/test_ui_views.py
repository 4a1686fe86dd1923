"""Escaping, links and the data the report, sources and graph pages draw."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui_support import HOSTILE_TITLE, sample_graph, sample_report, write_run
from ui import run_files
from ui.safe import md_escape, md_link, safe_url
from ui.web.views import filter_rows, graph_view, reference_lines, section_citations, section_markdown, source_rows


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "file:///etc/passwd",
                                 "http://", "ftp://x/y", "http://a b/", "JaVaScRiPt:alert(1)"])
def test_unsafe_urls_are_refused(url: str) -> None:
    assert safe_url(url) is None
    assert md_link("x", url) == "x"


def test_markdown_escape_leaves_no_markup() -> None:
    escaped = md_escape('<script>x</script> ![i](http://h/p.png) [a](javascript:b) **b** $x$ :red[c]\n# h')
    assert "\\<script\\>" in escaped and "\\!\\[i\\]\\(" in escaped and "\\*\\*b\\*\\*" in escaped
    assert "\\$x\\$" in escaped and "\\# h" in escaped and "\n" not in escaped


def test_section_markdown_links_citations_with_their_passage() -> None:
    report = sample_report()
    text = section_markdown(report.sections[0], report)
    assert '[\\[1\\]](http://127.0.0.1:1/a.html "Moisture ingress is the main degradation path.")' in text
    assert "javascript" not in text.replace("javascript\\:", "")  # the hostile link survives only as text
    assert "\\[click me\\]\\(javascript\\:alert\\(1\\)\\)" in text
    assert "\\<img src" in text


def test_section_citations_and_references() -> None:
    report = sample_report()
    cites = section_citations(report.sections[0], report)
    assert [(c.ref, c.url) for c in cites] == [(1, "http://127.0.0.1:1/a.html"), (2, None)]
    assert cites[1].quote == "<script>steal()</script> passage two"  # data; escaped where drawn
    lines = reference_lines(report)
    assert lines[0].startswith("1\\. [Perovskite stability review](http://127.0.0.1:1/a.html)")
    assert "\\<script\\>" in lines[1] and "](javascript" not in lines[1]


def test_source_rows_count_citations_and_filter(tmp_path: Path) -> None:
    report = sample_report()
    folder = write_run(tmp_path, report)
    rows = source_rows(report, run_files.load_sources(tmp_path, folder.name))
    assert [(r["ref"], r["citations"], r["sections"]) for r in rows] == [
        (1, 2, "Degradation, Mitigation"), (2, 1, "Degradation"), (None, 0, "")]
    assert rows[0]["domain"] == "127.0.0.1" and rows[1]["url"] is None and rows[1]["title"] == HOSTILE_TITLE
    assert rows[0]["fetched"] == "2026-11-22T07:00:01Z"
    assert [r["title"] for r in filter_rows(rows, "unused")] == ["Unused page"]
    assert len(filter_rows(rows, "", cited_only=True)) == 2
    assert [r["ref"] for r in filter_rows(rows, "mitigation")] == [1]


def test_graph_view_sizes_and_flags_contradictions() -> None:
    view = graph_view(sample_graph(), sample_report())
    degree = {n["name"]: n["degree"] for n in view.nodes}
    assert degree == {"Perovskite": 3, "5 years": 1, "20 years": 1, "Moisture": 1}
    flagged = {n["name"] for n in view.nodes if n["contradiction"]}
    assert flagged == {"Perovskite", "5 years", "20 years"}
    facts = view.facts("e1")
    assert len(facts) == 3 and sum(f["contradiction"] for f in facts) == 2
    assert graph_view(None).nodes == []


def test_run_files_list_read_and_delete(tmp_path: Path) -> None:
    write_run(tmp_path, sample_report("r1"))
    (tmp_path / "r2").mkdir()
    (tmp_path / "r2" / "report.json").write_text("{not json", encoding="utf-8")
    runs = run_files.list_runs(tmp_path)
    assert [r.run_id for r in runs] == ["r1", "r2"]
    assert runs[0].question == "How do perovskite cells degrade?" and runs[1].status == "unfinished"
    assert run_files.load_report(tmp_path, "r2") is None
    with pytest.raises(ValueError, match="not a run id"):
        run_files.run_dir(tmp_path, "../etc")
    assert run_files.delete_run(tmp_path, "r1") and not (tmp_path / "r1").exists()


def test_chart_selection_and_source_labels() -> None:
    from ui.web.st_graph import chart, selected_node, source_labels

    assert selected_node({"selection": {"node": [{"id": "e4", "name": "Moisture"}]}}) == "e4"
    assert selected_node({"selection": {"node": []}}) is None and selected_node(None) is None
    labels = source_labels(sample_report(), [
        {"source_id": "src3", "title": "Unused <b>page</b>", "url": "http://127.0.0.1:1/unused.html"},
        {"source_id": "src4", "title": "Bad link", "url": "javascript:alert(1)"},
    ])
    assert labels["src1"] == "\\[1\\] [Perovskite stability review](http://127.0.0.1:1/a.html)"
    assert labels["src3"] == "[Unused \\<b\\>page\\<\\/b\\>](http://127.0.0.1:1/unused.html)"
    assert labels["src4"] == "Bad link"
    spec = chart(graph_view(sample_graph(), sample_report())).to_dict()
    assert len(spec["layer"]) == 3 and spec["layer"][1]["mark"]["type"] == "circle"


def test_bare_urls_and_addresses_stay_plain_text() -> None:
    for text in ("see http://127.0.0.1:9/x.png now", "mail evil@example.com", "visit WWW.example.com"):
        escaped = md_escape(text)
        assert "\u2060" in escaped
        assert escaped.replace("\u2060", "").replace("\\", "") == text
    assert "\u2060" not in md_escape("a: b. c")


def test_every_export_download_builds_its_file(tmp_path: Path) -> None:
    from ui.web.st_report import MIME, export_builders

    folder = write_run(tmp_path, sample_report("r1"))
    builders = export_builders(folder)
    assert set(builders) == set(MIME) == {"md", "html", "pdf", "json"}
    assert b"Perovskite degradation" in builders["md"]()
    html = builders["html"]().decode("utf-8")
    assert "Perovskite degradation" in html and '<script>alert("title")' not in html
    assert builders["json"]().lstrip().startswith(b"{")
    assert builders["pdf"]().startswith(b"%PDF")


def test_one_link_rule_for_the_ui_and_the_exports() -> None:
    from ui import safe
    from ui.export import common

    assert safe.safe_url is common.safe_url
    assert common.safe_url(" https://example.org/a?b=1 ") == "https://example.org/a?b=1"
    for bad in ("javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", "https:///no-host",
                "https://exa mple.org/", "https://example.org/\x00", "//example.org/", None, ""):
        assert common.safe_url(bad) is None, bad
