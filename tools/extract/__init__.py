"""Main-content extraction: HTML, text, Markdown and PDF into one ``Document``.

Guarantees: ``extract`` returns a ``Document`` whose ``text`` holds the page's main content
(paragraphs separated by blank lines, headings on their own lines) and whose ``markdown`` keeps
headings, lists, tables and code; links are absolute with their anchor text. Input that holds no
readable page (empty, binary, unparseable) raises ``FetchError`` with one sentence; nothing else
escapes. PDFs keep page numbers: ``Document.pages`` maps every page to its span of ``text``.

This module is the extractor seam (``extract``, ``extract_pdf``, ``extract_result``); the package
holds its parts: ``select`` runs the candidate extractors on one parsed page and keeps the best,
``dom`` (a DOM-region extractor), ``agree`` (precision checks against trafilatura's text),
``jsonld`` (JSON-LD as content), ``meta`` (page metadata) and ``blocks`` (the content blocks every
candidate becomes). The parts import nothing from the fetcher.
"""

from __future__ import annotations

import io
import logging
import re

from lxml import etree
from lxml import html as lxml_html

from tools.errors import FetchError
from tools.extract.blocks import absolute_url, normalize_text, render_markdown, render_text
from tools.extract.meta import iso_date, read_meta
from tools.extract.select import select_content
from tools.types import Document, FetchResult, PageSpan

__all__ = ["extract", "extract_pdf", "extract_result"]

_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MD_SYNTAX = re.compile(r"^\s{0,3}(#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)|[*_`]{1,3}|!?\[([^\]]*)\]\([^)]*\)", re.M)

# trafilatura and htmldate log every discarded page at WARNING; a library must not print them
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
logging.getLogger("htmldate").setLevel(logging.CRITICAL)


def _decode(data: bytes) -> str:
    """Bytes to text: BOM, then UTF-8, then the page's declared charset, then cp1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _CHARSET.search(data[:4096])
    if declared:
        try:
            return data.decode(declared.group(1).decode("ascii"), "replace")
        except LookupError:
            pass
    return data.decode("cp1252", "replace")


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    bad = len(_CONTROL.findall(sample)) + sample.count("\ufffd")
    return bad > max(8, len(sample) // 20)


def _parse(html: str | bytes) -> lxml_html.HtmlElement:
    text = _decode(html) if isinstance(html, bytes) else html
    if not text.strip():
        raise FetchError("The page is empty, so there is no content to extract; try another source.")
    if _looks_binary(text):
        raise FetchError("The page is binary data, not HTML; check its content type or try another source.")
    text = _CONTROL.sub("", text)
    if text.lstrip().startswith("<?xml"):
        text = re.sub(r"^\s*<\?xml[^>]*>", "", text)
    try:
        tree = lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError) as err:
        raise FetchError(f"The page could not be parsed as HTML ({err}); try another source.") from err
    return tree


def _base_url(tree: lxml_html.HtmlElement, url: str | None) -> str | None:
    base = tree.find(".//base[@href]")
    if base is not None:
        href = absolute_url(base.get("href") or "", url)
        if href:
            return href
    return url


def extract(html: str | bytes, url: str | None = None) -> Document:
    """The main content, metadata and links of an HTML page (``url`` makes links absolute)."""
    tree = _parse(html)
    base = _base_url(tree, url)
    meta = read_meta(tree, base)
    chosen = select_content(tree, base, meta)
    blocks = chosen.blocks
    title = meta.title
    if not title:
        title = next((b.text for b in blocks if b.kind == "heading"), "")
    return Document(
        url=url,
        title=title,
        text=render_text(blocks),
        markdown=render_markdown(blocks),
        author=meta.author,
        published=meta.published,
        language=meta.language,
        links=tuple(chosen.links),
        canonical_url=meta.canonical_url,
        metadata={"extractor": chosen.source, "page_type": chosen.page_type, "site_name": meta.site_name},
    )


def extract_pdf(data: bytes, url: str | None = None) -> Document:
    """Text of a PDF with one ``PageSpan`` per page, so a citation can name its page."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [normalize_text(page.extract_text() or "") for page in reader.pages]
        info = reader.metadata
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError) as err:
        raise FetchError(f"The PDF could not be read ({type(err).__name__}); it may be damaged or encrypted.") from err
    parts: list[str] = []
    spans: list[PageSpan] = []
    offset = 0
    for number, page_text in enumerate(pages, start=1):
        if parts:
            offset += 2  # the blank line between pages
        spans.append(PageSpan(number=number, start=offset, end=offset + len(page_text)))
        parts.append(page_text)
        offset += len(page_text)
    text = "\n\n".join(parts)
    title = str(info.title or "").strip() if info is not None else ""
    if not title:
        title = next((line.strip() for line in text.splitlines() if line.strip()), "")[:200]
    author = str(info.author or "").strip() or None if info is not None else None
    created = iso_date(str(info.get("/CreationDate", "") or "").replace("D:", "")) if info is not None else None
    if created is None and info is not None:
        raw = str(info.get("/CreationDate", "") or "")
        digits = re.sub(r"\D", "", raw)[:8]
        created = iso_date(f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}") if len(digits) == 8 else None
    return Document(
        url=url,
        title=title,
        text=text,
        markdown=text,
        author=author,
        published=created,
        pages=tuple(spans),
        metadata={"extractor": "pypdf", "page_count": len(pages)},
    )


def _plain_document(text: str, url: str | None, markdown: str | None = None) -> Document:
    body = normalize_text(text)
    title = next((line.strip("# ").strip() for line in body.splitlines() if line.strip()), "")[:200]
    return Document(url=url, title=title, text=body, markdown=normalize_text(markdown or text),
                    metadata={"extractor": "text"})


def extract_result(result: FetchResult) -> Document:
    """Extract a fetched resource by its content type: HTML/XHTML, plain text, Markdown or PDF."""
    ctype = result.content_type.lower()
    url = result.final_url or result.url
    if ctype == "application/pdf" or result.body[:5] == b"%PDF-":
        return extract_pdf(result.body, url)
    text = result.text if result.text is not None else _decode(result.body)
    if ctype in ("text/html", "application/xhtml+xml", "application/xml", "text/xml"):
        return extract(text, url)
    if ctype in ("text/markdown", "text/x-markdown"):
        return _plain_document(_MD_SYNTAX.sub(lambda m: m.group(2) or "", text), url, markdown=text)
    if ctype.startswith("text/"):
        if _looks_binary(text):
            raise FetchError(f"The resource at {url} is binary data labelled {ctype}; try another source.")
        return _plain_document(text, url)
    raise FetchError(f"Content type {ctype!r} at {url} cannot be extracted; only HTML, text, Markdown and PDF can.")

