"""Local documents: each file type into a Document, and ``index DIR`` into memory (incremental, corrupt skipped)."""

from __future__ import annotations

import argparse
from pathlib import Path

import docx
import pytest

from agents.settings import MemorySettings, Settings
from app import App, main
from memory.embeddings import HashingEmbedder
from memory.store import Filters, Memory
from tests.fixture_pages import PDF_PAGES, make_pdf
from tools.documents import load_file
from tools.errors import DocumentError
from ui.corpus import index_directory

MD = "# Field notes\n\nThe heron waited by the reeds.\n\n## Later\n\nIt caught a fish at dawn.\n"


def _corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "notes.md").write_text(MD, encoding="utf-8")
    (root / "plain.txt").write_text("Tidal mills ground grain using the ebb.\n", encoding="utf-8")
    (root / "page.html").write_text(
        "<html><head><title>Lighthouses</title></head><body><nav>Home | About</nav><article><h1>Lighthouses</h1>"
        "<p>Fresnel lenses let a small lamp be seen for twenty nautical miles from the coast at night.</p>"
        "<p>Keepers trimmed the wicks every few hours through the night to keep the flame bright.</p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    (root / "report.pdf").write_bytes(make_pdf(PDF_PAGES))
    word = docx.Document()
    word.add_heading("Beekeeping log", level=1)
    word.add_paragraph("The hives were inspected in April and two queens were marked.")
    word.save(str(root / "log.docx"))
    sub = root / "sub"
    sub.mkdir()
    (sub / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nthis is not a pdf")
    (sub / "image.png").write_bytes(b"\x89PNG\r\n")  # unsupported: ignored, not an error
    return root


def test_each_file_type_loads(tmp_path: Path) -> None:
    root = _corpus(tmp_path / "docs")
    md = load_file(root / "notes.md")
    assert md.title == "Field notes" and md.text == MD and md.url == str((root / "notes.md").resolve())
    assert load_file(root / "plain.txt").text.startswith("Tidal mills")
    html = load_file(root / "page.html")
    assert "Fresnel lenses" in html.text and "Home | About" not in html.text
    pdf = load_file(root / "report.pdf")
    assert [p.number for p in pdf.pages] == [1, 2]
    assert pdf.page_at(pdf.text.index("damp heat")) == 2
    word = load_file(root / "log.docx")
    assert word.text.startswith("Beekeeping log\n\nThe hives") and word.markdown.startswith("# Beekeeping log")


def test_unreadable_files_raise_document_error(tmp_path: Path) -> None:
    root = _corpus(tmp_path / "docs")
    with pytest.raises(DocumentError, match=r"broken\.pdf could not be read as a PDF"):
        load_file(root / "sub" / "broken.pdf")
    with pytest.raises(DocumentError, match="not a supported document"):
        load_file(root / "sub" / "image.png")
    with pytest.raises(DocumentError, match="Cannot read"):
        load_file(root / "missing.md")
    (root / "bad.docx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DocumentError, match="DOCX"):
        load_file(root / "bad.docx")
    (root / "empty.txt").write_text("  \n")
    with pytest.raises(DocumentError, match="no readable text"):
        load_file(root / "empty.txt")


def test_index_is_incremental_and_skips_corrupt_files(tmp_path: Path) -> None:
    root = _corpus(tmp_path / "docs")
    store = Memory.open(tmp_path / "chroma", embedder=HashingEmbedder())
    first = index_directory(store, root)
    assert len(first.added) == 5 and list(first.skipped) == [str((root / "sub" / "broken.pdf").resolve())]
    assert "could not be read as a PDF" in next(iter(first.skipped.values()))
    hit = store.search("damp heat hours", k=1, filters=Filters(kind="local"))[0]
    assert hit.source.url.endswith("report.pdf") and hit.chunk.page == 2
    second = index_directory(store, root)
    assert len(second.unchanged) == 5 and not second.added and not second.replaced
    (root / "plain.txt").write_text("Tidal mills ground grain using the flood and the ebb.\n", encoding="utf-8")
    third = index_directory(store, root)
    assert [Path(p).name for p in third.replaced] == ["plain.txt"]
    assert store.stats()["sources_by_kind"]["local"] == 5
    assert "flood" in store.search("tidal mills", k=1)[0].chunk.text
    store.close()


def test_index_and_memory_commands(tmp_path: Path, tiny_gguf: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _corpus(tmp_path / "docs")
    settings = Settings(home=tmp_path / "home", memory=MemorySettings(embedding_model=str(tiny_gguf), chunk_tokens=64))
    app = App(settings=settings)  # the real path: llama.cpp embeddings from a tiny generated GGUF
    from ui.cli.commands import index as index_cmd
    from ui.cli.commands import memory as memory_cmd

    assert index_cmd.run(argparse.Namespace(directory=root, quiet=False), app) == 0
    out = capsys.readouterr()
    assert "indexed 5 new" in out.out and "skipped" in out.err and "broken.pdf" in out.err
    args = argparse.Namespace(
        action="search", query=["heron", "reeds"], k=5, kind="local", run_id=None, mmr=False, json=False
    )
    assert memory_cmd.run(args, app) == 0
    assert "notes.md" in capsys.readouterr().out  # BM25 finds it even with random-weight embeddings
    forget = argparse.Namespace(action="forget", source=str((root / "notes.md").resolve()), json=False)
    assert memory_cmd.run(forget, app) == 0
    assert memory_cmd.run(forget, app) == 1
    assert memory_cmd.run(argparse.Namespace(action="stats", json=True), app) == 0
    assert '"local": 4' in capsys.readouterr().out
    assert memory_cmd.run(argparse.Namespace(action="reindex", json=True), app) == 0
    assert '"chunks":' in capsys.readouterr().out
    app.close()
    assert main(["index", str(tmp_path / "nowhere")]) == 2
