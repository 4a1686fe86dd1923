"""Value objects that cross the tools boundary: search results, fetched pages, extracted documents.

They are plain frozen dataclasses (JSON-friendly through ``dataclasses.asdict``) so the agents,
memory ingest, the UI and the manifest can all carry them without importing any tool's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SearchResult:
    """One hit from a search backend (or a search-like plugin tool)."""

    title: str
    url: str
    snippet: str
    rank: int  # 1-based position in the backend's answer
    backend: str  # e.g. "duckduckgo", "searxng", "local", "plugin:arxiv"


@dataclass(frozen=True)
class Link:
    """A hyperlink found in a document: absolute URL and its anchor text."""

    url: str
    text: str


@dataclass(frozen=True)
class PageSpan:
    """A page of a paged document (PDF): 1-based number and its [start, end) offsets in ``text``."""

    number: int
    start: int
    end: int


@dataclass(frozen=True)
class Document:
    """Main content extracted from a page or file (``tools.extract``)."""

    url: str | None
    title: str
    text: str  # plain text: paragraphs separated by blank lines, headings on their own lines
    markdown: str  # headings, lists, tables and code kept
    author: str | None = None
    published: str | None = None  # ISO 8601 date when known
    language: str | None = None  # BCP 47 code when known
    links: tuple[Link, ...] = ()
    canonical_url: str | None = None
    pages: tuple[PageSpan, ...] = ()  # empty unless the source is paged (PDF)
    metadata: dict[str, Any] = field(default_factory=dict)

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding character ``offset`` of ``text``, if paged."""
        for span in self.pages:
            if span.start <= offset < span.end:
                return span.number
        return None


@dataclass(frozen=True)
class FetchResult:
    """A fetched resource: the final URL after redirects, its body and what the fetcher learned."""

    url: str  # as requested
    final_url: str  # after redirects
    status: int
    content_type: str  # media type without parameters, e.g. "text/html"
    body: bytes
    text: str | None  # decoded text for textual types (charset detected), None for PDF
    fetched_at: str  # ISO 8601 UTC
    from_cache: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    elapsed_s: float = 0.0
    truncated: bool = False  # the body was cut at the fetcher's size cap
