"""Indexing a folder of the user's own documents into memory, incrementally.

Guarantees: ``index_directory(memory, folder)`` ingests the Markdown, text, HTML, PDF and DOCX files
under ``folder`` (recursively, hidden files skipped) as local sources the ``local`` search backend
and research runs can cite by file and page; a file whose bytes have not changed since it was
indexed is skipped by hash, a changed file replaces its old version, and a file that cannot be read
is recorded in ``IndexReport.skipped`` with its reason while the rest are still ingested. The
``index DIR`` command, ``research --corpus`` and the browser's corpus folder all call it, so every
way in ingests alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memory.ids import file_sha256

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
