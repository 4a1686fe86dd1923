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

from tools.extract_blocks import Block, blocks_from_xml, render_text, word_count
from tools.extract_dom import best_region, content_links, dedupe, inside, prune, prune_consent, repeated_units, segment
from tools.extract_jsonld import jsonld_blocks
from tools.extract_meta import PageMeta
from tools.types import Link

UNIT_SHARE = 0.5  # repeated units must hold at least this share of the region's words ...
UNIT_COUNT = 5  # ... and be at least this many, for the page to read as posts/cards/rows
UNIT_GAIN_DISCUSSION = 0.5  # on a discussion page a region of posts wins unless it lost half of the text;
UNIT_GAIN = 1.3  # elsewhere (article sections are units too) it must add a third to trafilatura's text
LONGER = 2.0  # a region this much longer holds what trafilatura missed (its own rule for readability)
THIN_WORDS = 40  # trafilatura below this many words has fallen back to a page dump: the pruned region wins


@dataclass
class Choice:
    """The content chosen for a page and where it came from."""

    blocks: list[Block]
    links: list[Link] = field(default_factory=list)
    source: str = "trafilatura"
    page_type: str = "article"  # "article" | "product" | "items" (posts, cards, rows) | "page" (other region)


def trafilatura_candidate(tree: lxml_html.HtmlElement, url: str | None, fast: bool = True) -> Choice | None:
    """Trafilatura's main content of ``tree`` (it works on its own copy; ``tree`` is left intact)."""
    try:
        doc = trafilatura.bare_extraction(
            tree,
            url=url,
            include_comments=False,
            include_tables=True,
            include_formatting=False,
            include_links=False,
            with_metadata=False,
            fast=fast,
        )
    except (ValueError, TypeError, RecursionError, AttributeError, IndexError):
        return None
    if doc is None or isinstance(doc, dict) or doc.body is None:
        return None
    return Choice(blocks=blocks_from_xml(doc.body), source="trafilatura")


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
    return Choice(blocks=chosen, source="dom", page_type="items" if units else "page"), units


def select_content(tree: lxml_html.HtmlElement, url: str | None, meta: PageMeta) -> Choice:
    """The best content of the page: trafilatura, unless the DOM region is clearly better.

    The region wins when it is made of repeated units (posts, cards, rows), when it is much longer
    than trafilatura's text, or when trafilatura came back thin; never on a product page.
    """
    product = meta.is_product()
    prune_consent(tree)
    # no DOM region may replace a product page's text, so there trafilatura keeps its own fallbacks
    traf = trafilatura_candidate(tree, url, fast=not product)
    dom, units = dom_candidate(tree, url)
    t_words = word_count(traf.blocks) if traf else 0
    d_words = word_count(dom.blocks)
    # on a product page repeated units are reviews or related products, and a longer region is more of them
    longer = d_words > LONGER * t_words
    gain = UNIT_GAIN_DISCUSSION if meta.is_discussion(url) else UNIT_GAIN
    use_dom = not product and ((units and d_words >= gain * t_words) or longer)
    chosen = dom if traf is None or use_dom or (t_words < THIN_WORDS and d_words > 0) else traf
    chosen.page_type = "product" if product else chosen.page_type if chosen is dom else "article"
    extra = jsonld_blocks(meta.jsonld, chosen.blocks)
    if extra:
        at = 1 if chosen.blocks and chosen.blocks[0].kind == "heading" else 0  # after the page's own title
        chosen.blocks = chosen.blocks[:at] + extra + chosen.blocks[at:]
        chosen.source += "+jsonld"
    chosen.blocks = dedupe(chosen.blocks)
    chosen.links = content_links(tree, render_text(chosen.blocks), url)
    return chosen
