"""Ingest a folder of your own documents into memory: ``index DIR``.

Markdown, text, HTML, PDF and DOCX files under DIR (recursively) become local sources the ``local``
search backend and research runs can cite by file and page. Indexing is incremental: a file whose
bytes have not changed since it was indexed is skipped by hash; a changed file replaces its old
version. A file that cannot be read (damaged PDF, unsupported content) is skipped with a message
naming it, and the rest are still ingested.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memory.ids import file_sha256
from ui.cli.commands.memory import clean

if TYPE_CHECKING:
    from app import App

HELP = "ingest a folder of Markdown, text, HTML, PDF and DOCX files into memory (incremental)"
INDEX_RUN = "local-index"


@dataclass
class IndexReport:
    """What ``index_directory`` did: files added, unchanged, replaced, skipped (with reasons)."""

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    chunks: int = 0


def index_directory(
    memory: Any, directory: Path, *, run_id: str = INDEX_RUN, on_file: Callable[[str, str], None] | None = None
) -> IndexReport:
    """Ingest every supported file under ``directory`` into ``memory`` (a ``memory.store.Memory``)."""
    from memory.errors import MemoryStoreError
    from tools.documents import load_file, supported
    from tools.errors import DocumentError

    report = IndexReport()
    files = sorted(p for p in directory.rglob("*") if p.is_file() and supported(p) and not p.name.startswith("."))
    for path in files:
        key = str(path.resolve())
        try:
            digest = file_sha256(path)
            old = memory.source_by_url(key)
            if old is not None and old.metadata.get("file_hash") == digest:
                report.unchanged.append(key)
                _tell(on_file, "unchanged", key)
                continue
            doc = load_file(path)
            if old is not None:
                memory.forget_source(old.id)
            _, chunks = memory.add_source(
                key,
                doc.title,
                doc.text,
                run_id=run_id,
                pages=doc.pages,
                kind="local",
                metadata={"file_hash": digest, "size": path.stat().st_size, "author": doc.author},
            )
        except (DocumentError, MemoryStoreError, OSError) as exc:
            report.skipped[key] = str(exc)
            _tell(on_file, "skipped", f"{key}: {exc}")
            continue
        (report.replaced if old is not None else report.added).append(key)
        report.chunks += len(chunks)
        _tell(on_file, "replaced" if old is not None else "added", key)
    return report


def _tell(on_file: Callable[[str, str], None] | None, status: str, detail: str) -> None:
    if on_file is not None:
        on_file(status, detail)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``index``."""
    parser.add_argument("directory", type=Path, metavar="DIR", help="folder to ingest (recursively)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary and skipped files")


def run(args: argparse.Namespace, app: App) -> int:
    """Ingest DIR; exit 2 when DIR is not a folder, else 0 (skipped files are reported)."""
    directory: Path = args.directory.expanduser()
    if not directory.is_dir():
        print(f"quarry: {directory} is not a folder; give the folder holding your documents.", file=sys.stderr)
        return 2

    def show(status: str, detail: str) -> None:
        if status == "skipped":
            print(f"skipped {clean(detail)}", file=sys.stderr)
        elif not args.quiet:
            print(f"{status:<9} {clean(detail)}")

    report = index_directory(app.memory(), directory, on_file=show)
    print(
        f"indexed {len(report.added)} new and {len(report.replaced)} changed files ({report.chunks} chunks); "
        f"{len(report.unchanged)} unchanged, {len(report.skipped)} skipped"
    )
    return 0
