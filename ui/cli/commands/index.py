"""Ingest a folder of your own documents into memory: ``index DIR``.

Markdown, text, HTML, PDF and DOCX files under DIR (recursively) become local sources the ``local``
search backend and research runs can cite by file and page. Indexing is incremental: a file whose
bytes have not changed since it was indexed is skipped by hash; a changed file replaces its old
version. A file that cannot be read (damaged PDF, unsupported content) is skipped with a message
naming it, and the rest are still ingested. The ingest itself is ``ui.corpus.index_directory``,
shared with ``research --corpus`` and the browser UI.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ui.cli.commands.memory import clean
from ui.corpus import index_directory

if TYPE_CHECKING:
    from app import App

HELP = "ingest a folder of Markdown, text, HTML, PDF and DOCX files into memory (incremental)"


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
