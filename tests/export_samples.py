"""Sample run data for the export, CLI and runs tests: a report with hostile web content, its
sources and knowledge graph, and a run folder laid out as ``agents/publish.py`` writes it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from PIL import Image

from agents.report import Citation, Contradiction, Reference, Report, Section, Sentence, Verification

HOSTILE_TITLE = '<script>alert("pwned")</script><img src=x onerror="alert(1)">Heat pumps'
HOSTILE_URL = "javascript:alert(document.cookie)"


def sample_report(run_id: str = "run-sample", question: str = "How do heat pumps perform in cold climates?") -> Report:
    """A two-section report citing three sources, one with a hostile title and one with a script URL."""
    refs = [
        Reference(n=1, source_id="src-a", title=HOSTILE_TITLE, url="https://example.org/a?x=1&y=2",
                  accessed="2026-11-22"),
        Reference(n=2, source_id="src-b", title="Cold-climate field study", url="http://example.net/study.pdf",
                  pages=[3, 4], accessed="2026-11-22"),
        Reference(n=3, source_id="src-c", title="Click me", url=HOSTILE_URL, accessed="2026-11-22"),
    ]
    q1 = 'COP falls as outdoor air gets colder <b onmouseover="x()">bold</b>.'
    sections = [
        Section(title="Efficiency in the cold", sentences=[
            Sentence(text="Air-source heat pumps keep a COP above 2 at -15 °C.",
                     citations=[Citation(chunk_id="c1", ref=1, quote=q1),
                                Citation(chunk_id="c2", ref=2, quote="Measured COP 2.1 at -15 C.", page=3)]),
            Sentence(text="Defrost cycles cost 5-10% of output.",
                     citations=[Citation(chunk_id="c3", ref=2, quote="Defrost losses were 5-10%.", page=4)],
                     status="rewritten"),
        ]),
        Section(title="Installation <script>bad()</script>", sentences=[
            Sentence(text="Sizing matters more than brand.",
                     citations=[Citation(chunk_id="c4", ref=3, quote="Sizing dominates.")]),
        ]),
        Section(title="Costs", sentences=[]),
    ]
    return Report(
        run_id=run_id, question=question, title="Heat pumps in cold climates", summary="Short answer: well.",
        sections=sections, references=refs,
        verification=Verification(checked=4, supported=3, changed=1, removed=1),
        contradictions=[Contradiction(subject="heat pump", relation="min temperature",
                                      objects=["-25 °C", "-15 °C"], source_ids=["src-a", "src-b"])],
        notes=["The page budget ran out after 40 pages; the report uses what was read."],
        created_at="2026-11-22T07:00:00Z",
    )


def sample_graph() -> dict[str, Any]:
    """Node-link JSON with a hostile entity name."""
    nodes = [
        {"id": "e1", "name": "Heat pump", "type": "technology"},
        {"id": "e2", "name": "COP", "type": "metric"},
        {"id": "e3", "name": "<script>alert(2)</script>", "type": "organization"},
        {"id": "e4", "name": "Defrost cycle", "type": "technology"},
        {"id": "e5", "name": "Norway", "type": "place"},
    ]
    edges = [
        {"source": "e1", "target": "e2", "relation": "has metric"},
        {"source": "e1", "target": "e4", "relation": "uses"},
        {"source": "e3", "target": "e1", "relation": "sells <b>"},
        {"source": "e1", "target": "e5", "relation": "installed in"},
    ]
    return {"directed": True, "multigraph": True, "graph": {}, "nodes": nodes, "edges": edges}


def sample_sources() -> list[dict[str, Any]]:
    """sources.json entries: the three cited sources and one read but not cited."""
    return [
        {"id": "src-a", "url": "https://example.org/a?x=1&y=2", "title": HOSTILE_TITLE},
        {"id": "src-b", "url": "http://example.net/study.pdf", "title": "Cold-climate field study"},
        {"id": "src-c", "url": HOSTILE_URL, "title": "Click me"},
        {"id": "src-d", "url": "https://example.com/uncited", "title": "An uncited <i>page</i>"},
    ]


def write_run_folder(runs_dir: Path, report: Report, *, status: str | None = None) -> Path:
    """A finished run folder as publish writes it: report.json/.md, sources, graph, manifest, events."""
    folder = runs_dir / report.run_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    (folder / "report.md").write_text(f"# {report.title}\n", encoding="utf-8")
    (folder / "sources.json").write_text(json.dumps(sample_sources()), encoding="utf-8")
    (folder / "graph.json").write_text(json.dumps(sample_graph()), encoding="utf-8")
    manifest = {"run_id": report.run_id, "question": report.question, "status": status or report.status,
                "created_at": report.created_at}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    events = [{"type": "run_started", "run_id": report.run_id, "ts": 1.0, "question": report.question},
              {"type": "run_finished", "run_id": report.run_id, "ts": 2.0, "status": report.status}]
    (folder / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return folder


class Collector(HTMLParser):
    """Every start tag with its attributes, and the document's text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Collector:
    """The tags and text of an HTML page."""
    collector = Collector()
    collector.feed(page)
    return collector


def poppler(name: str) -> str:
    """The path of a poppler-utils tool (pdftotext, pdftoppm); fails clearly when missing."""
    path = shutil.which(name)
    assert path, f"{name} is missing: install Debian's poppler-utils (tests/system-packages.txt)"
    return path


def coloured_pixels(pngs: Iterable[Path], match: Callable[[int, int, int], bool]) -> int:
    """How many pixels of the images ``match`` (r, g, b)."""
    count = 0
    for png in pngs:
        pixels: Iterable[tuple[int, int, int]] = Image.open(png).convert("RGB").get_flattened_data()  # type: ignore[assignment]
        count += sum(1 for r, g, b in pixels if match(r, g, b))
    return count
