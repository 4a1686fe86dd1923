"""Candidate selection: run the extractors on one parsed page and keep the best-scoring content.

Candidates are trafilatura (main-content heuristics, strongest on articles and documentation), a
DOM-region extractor (``tools.extract_dom``, strongest where content is many same-shaped units:
forum posts, collection cards, listing rows) and JSON-LD fields (product and article data the
visible page may only hint at). ``select_content`` never raises on odd markup: a failing
candidate is dropped, and an empty choice is returned when nothing is left.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import trafilatura
from lxml import html as lxml_html

from tools.extract_blocks import Block, blocks_from_xml, links_from_xml, word_count
from tools.extract_dom import best_region, inside, prune, region_links, repeated_units, segment
from tools.extract_jsonld import jsonld_blocks
from tools.extract_meta import PageMeta
from tools.types import Link

UNIT_SHARE = 0.5  # repeated units must hold at least this share of the region's words ...
UNIT_COUNT = 5  # ... and be at least this many, for the page to read as posts/cards/rows
THIN_WORDS = 40  # below this many words a candidate is too thin to stand on its own


@dataclass
class Choice:
    """The content chosen for a page and where it came from."""

    blocks: list[Block]
    links: list[Link] = field(default_factory=list)
    source: str = "trafilatura"
    page_type: str = "article"


def trafilatura_candidate(tree: lxml_html.HtmlElement, url: str | None) -> Choice | None:
    """Trafilatura's main content of ``tree`` (it works on its own copy; ``tree`` is left intact)."""
    try:
        doc = trafilatura.bare_extraction(
            tree,
            url=url,
            include_comments=False,
            include_tables=True,
            include_formatting=True,
            include_links=True,
            with_metadata=False,
        )
    except (ValueError, TypeError, RecursionError, AttributeError, IndexError):
        return None
    if doc is None or isinstance(doc, dict) or doc.body is None:
        return None
    return Choice(blocks=blocks_from_xml(doc.body), links=links_from_xml(doc.body, url), source="trafilatura")


def dom_candidate(tree: lxml_html.HtmlElement, url: str | None) -> tuple[Choice, bool]:
    """The best-scoring DOM region of ``tree`` (pruned in place) and whether it is made of repeated units."""
    prune(tree)
    body = tree.find("body")
    root = body if body is not None else tree
    blocks = segment(root)
    region = best_region(blocks, root)
    share, count = repeated_units(region)
    units = share >= UNIT_SHARE and count >= UNIT_COUNT
    chosen = [b.block for b in inside(blocks, region)]
    links = region_links(region, url)
    return Choice(blocks=chosen, links=links, source="dom", page_type="units" if units else "page"), units


def select_content(tree: lxml_html.HtmlElement, url: str | None, meta: PageMeta) -> Choice:
    """The best content of the page: trafilatura, unless the page is made of units or it came back thin."""
    traf = trafilatura_candidate(tree, url)
    dom, units = dom_candidate(tree, url)
    t_words = word_count(traf.blocks) if traf else 0
    d_words = word_count(dom.blocks)
    if traf is None or (units and d_words >= t_words * 0.5) or (t_words < THIN_WORDS and d_words > t_words):
        chosen = dom
    else:
        chosen = traf
    extra = jsonld_blocks(meta.jsonld, chosen.blocks)
    if extra:
        chosen.blocks = extra + chosen.blocks
        chosen.source += "+jsonld"
    return chosen
