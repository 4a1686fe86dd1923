"""The user's own files as ``Document``s: Markdown, plain text, HTML, PDF and DOCX.

Guarantees: ``load_file`` returns a ``Document`` whose ``url`` is the file's absolute path and whose
``text`` has paragraphs separated by blank lines and headings on their own lines; PDFs keep one
``PageSpan`` per page so a citation names the page; Markdown and text files are kept verbatim (a
quoted passage matches the file). A file that cannot be read — unsupported, damaged, encrypted, not
text — raises ``DocumentError`` with one sentence naming the file; nothing else is raised.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from tools.errors import DocumentError, FetchError
from tools.types import Document

SUFFIXES = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def supported(path: Path) -> bool:
    """Whether ``load_file`` reads files with this suffix."""
    return path.suffix.lower() in SUFFIXES


def load_file(path: str | Path) -> Document:
    """Read one local document (.md, .txt, .html, .pdf, .docx) into a ``Document``."""
    file = Path(path).expanduser().resolve()
    kind = SUFFIXES.get(file.suffix.lower())
    if kind is None:
        raise DocumentError(f"{file.name} is not a supported document; use Markdown, text, HTML, PDF or DOCX.")
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise DocumentError(
            f"Cannot read {file} ({exc.strerror or exc}); check that it exists and is readable."
        ) from exc
    if kind == "pdf":
        doc = _pdf(data, str(file))
    elif kind == "docx":
        doc = _docx(data, str(file))
    elif kind == "html":
        doc = _html(data, str(file))
    else:
        doc = _text(data, str(file), markdown=kind == "markdown")
    if not doc.text.strip():
        raise DocumentError(f"{file.name} holds no readable text; it may be empty or scanned images only.")
    if not doc.title:
        doc = Document(**{**doc.__dict__, "title": file.stem})
    return doc


def _decode(data: bytes, name: str) -> str:
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError(f"{name} is binary data, not text; convert it to text or PDF first.")
    for encoding in ("utf-8-sig", "utf-16") if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("cp1252", errors="replace")


def _html(data: bytes, path: str) -> Document:
    from tools.extract import extract

    try:
        doc = extract(data, url=Path(path).as_uri())
    except FetchError as exc:
        raise DocumentError(f"{Path(path).name} could not be read as HTML ({exc}).") from exc
    return Document(**{**doc.__dict__, "url": path})


def _text(data: bytes, path: str, *, markdown: bool) -> Document:
    text = _decode(data, Path(path).name).replace("\r\n", "\n").replace("\r", "\n")
    heading = _MD_HEADING.search(text) if markdown else None
    title = heading.group(1).strip() if heading else next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return Document(url=path, title=title[:200], text=text, markdown=text, metadata={"extractor": "file"})


def _pdf(data: bytes, path: str) -> Document:
    from tools.extract import extract_pdf

    try:
        return extract_pdf(data, url=path)
    except FetchError as exc:
        raise DocumentError(f"{Path(path).name} could not be read as a PDF; it may be damaged or encrypted.") from exc


def _docx(data: bytes, path: str) -> Document:
    import io

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(f"{Path(path).name} could not be read as a DOCX file; it may be damaged.") from exc
    blocks: list[str] = []
    markdown: list[str] = []
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name if para.style is not None else "") or ""
        level = int(style.rsplit(" ", 1)[1]) if style.startswith("Heading ") and style[-1].isdigit() else 0
        blocks.append(text)
        markdown.append(f"{'#' * min(level, 6)} {text}" if level else text)
    for table in document.tables:
        rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows]
        if rows:
            blocks.append("\n".join(rows))
            markdown.append("\n".join(rows))
    title = (document.core_properties.title or "").strip() or (blocks[0][:200] if blocks else "")
    return Document(
        url=path,
        title=title,
        text="\n\n".join(blocks),
        markdown="\n\n".join(markdown),
        author=(document.core_properties.author or None),
        metadata={"extractor": "python-docx"},
    )
