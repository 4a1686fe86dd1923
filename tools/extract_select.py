"""Candidate selection: run the extractors on one parsed page and keep the best-scoring content.

Candidates are trafilatura (main-content heuristics, strongest on articles and documentation), a
DOM-region extractor (``tools.extract_dom``, strongest where content is many short blocks: forums,
collections, listings, products) and JSON-LD fields (product and article data the visible page
may only hint at). ``select_content`` never raises on odd markup: a failing candidate is dropped.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field

import trafilatura
from lxml import html as lxml_html

from tools.extract_blocks import Block, blocks_from_xml, links_from_xml
from tools.extract_meta import PageMeta
from tools.types import Link


@dataclass
class Choice:
    """The content chosen for a page and where it came from."""

    blocks: list[Block]
    links: list[Link] = field(default_factory=list)
    source: str = "trafilatura"
    page_type: str = "article"


def trafilatura_candidate(tree: lxml_html.HtmlElement, url: str | None) -> Choice | None:
    """Trafilatura's main content of ``tree`` (a copy; ``tree`` is left intact)."""
    try:
        doc = trafilatura.bare_extraction(
            deepcopy(tree),
            url=url,
            include_comments=True,
            include_tables=True,
            include_formatting=True,
            include_links=True,
            with_metadata=False,
        )
    except (ValueError, TypeError, RecursionError, AttributeError):
        return None
    if doc is None or isinstance(doc, dict) or doc.body is None:
        return None
    blocks = blocks_from_xml(doc.body)
    links = links_from_xml(doc.body, url)
    if doc.commentsbody is not None and len(doc.commentsbody):
        blocks += blocks_from_xml(doc.commentsbody)
        links += links_from_xml(doc.commentsbody, url)
    return Choice(blocks=blocks, links=links, source="trafilatura")


def select_content(tree: lxml_html.HtmlElement, url: str | None, meta: PageMeta) -> Choice:
    """The best content of the page: candidates scored against each other."""
    chosen = trafilatura_candidate(tree, url)
    if chosen is None:
        return Choice(blocks=[], source="none")
    return chosen
