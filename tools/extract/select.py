"""Candidate selection: run the extractors on one parsed page and keep the best-scoring content.

Candidates are trafilatura (main-content heuristics, strongest on articles and documentation), a
DOM-region extractor (``tools.extract.dom``, strongest where content is many same-shaped units:
forum posts, collection cards, listing rows) and JSON-LD fields (product and article data the
visible page may only hint at). On article pages the region is judged by precision as well as
length (``tools.extract.agree``). ``select_content`` never raises on odd markup: a failing
candidate is dropped, and an empty choice is returned when nothing is left.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import trafilatura
from lxml import etree
from lxml import html as lxml_html

from tools.extract.agree import LINK_SHARE, furniture, is_article, kept_share, link_share, marked
from tools.extract.blocks import Block, blocks_from_xml, render_text, word_count
from tools.extract.dom import (
    DomBlock,
    best_region,
    content_links,
    dedupe,
    inside,
    prune,
    prune_consent,
    repeated_units,
    segment,
)
from tools.extract.jsonld import jsonld_blocks
from tools.extract.meta import PageMeta
from tools.types import Link

DUMP_KEPT = 0.5  # a thin trafilatura text with less of its words left on the pruned page is a page dump
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


@dataclass
class Region:
    """The DOM region of a page: every block of the pruned page, the best region and its shape."""

    blocks: list[DomBlock]
    element: etree._Element
    units: bool  # made of repeated same-shaped units (posts, cards, rows)

    def choice(self, agree_with: str | None = None) -> Choice:
        """The region's blocks as a candidate; with ``agree_with``, without the furniture it lacks."""
        held = inside(self.blocks, self.element)
        if agree_with is not None:
            drop = furniture(held, self.element, agree_with)
            held = [b for i, b in enumerate(held) if i not in drop]
        return Choice(blocks=[b.block for b in held], source="dom", page_type="items" if self.units else "page")


def dom_region(tree: lxml_html.HtmlElement) -> Region:
    """The best-scoring DOM region of ``tree`` (pruned in place) and whether it is made of repeated units."""
    prune(tree)
    body = tree.find("body")
    root = body if body is not None else tree
    blocks = segment(root)
    region = best_region(blocks, root)
    share, count = repeated_units(region)
    return Region(blocks, region, share >= UNIT_SHARE and count >= UNIT_COUNT)


def _dom_choice(region: Region, t_text: str, meta: PageMeta, url: str | None) -> Choice | None:
    """The DOM candidate when it should replace trafilatura's text ``t_text``, else None."""
    t_words = len(t_text.split())
    discussion = meta.is_discussion(url)
    article = is_article(meta, region.element.getroottree().getroot()) and not discussion
    if t_words < THIN_WORDS:  # trafilatura came back thin: a longer region is better, and so is any region
        whole = region.choice()  # when trafilatura's text is mostly what pruning removed (a page dump)
        d_words = word_count(whole.blocks)
        if article and link_share(inside(region.blocks, region.element)) >= LINK_SHARE:
            return None  # the link lists beside a short article are not the article
        return whole if d_words > t_words or (d_words and kept_share(region.blocks, t_text) < DUMP_KEPT) else None
    if meta.is_product():  # there repeated units are reviews or related products, and more region is more of them
        return None
    if article and marked(region.element):  # the comment thread or related list of an article
        return None
    # on an article a region wins only by what it adds to trafilatura's text, not by its furniture
    own = region.choice(agree_with=t_text if article else None)
    if region.units:
        gain = UNIT_GAIN_DISCUSSION if discussion else UNIT_GAIN
        if word_count(own.blocks) >= gain * t_words:
            return own
    return own if word_count(own.blocks) > LONGER * t_words else None


def select_content(tree: lxml_html.HtmlElement, url: str | None, meta: PageMeta) -> Choice:
    """The best content of the page: trafilatura, unless the DOM region is clearly better.

    The region wins when it is made of repeated units (posts, cards, rows), when it is much longer
    than trafilatura's text, or when trafilatura came back thin; never on a product page. On a page
    marked as an article the region is weighed (and kept) without its furniture, and a region
    named as comments or related content does not win.
    """
    product = meta.is_product()
    prune_consent(tree)
    # no DOM region may replace a product page's text, so there trafilatura keeps its own fallbacks
    traf = trafilatura_candidate(tree, url, fast=not product)
    region = dom_region(tree)
    dom = region.choice() if traf is None else _dom_choice(region, render_text(traf.blocks), meta, url)
    chosen = dom if dom is not None else traf if traf is not None else region.choice()
    chosen.page_type = "product" if product else chosen.page_type if chosen is dom else "article"
    extra = jsonld_blocks(meta.jsonld, chosen.blocks)
    if extra:
        at = 1 if chosen.blocks and chosen.blocks[0].kind == "heading" else 0  # after the page's own title
        chosen.blocks = chosen.blocks[:at] + extra + chosen.blocks[at:]
        chosen.source += "+jsonld"
    # a region may hold hidden copies of single posts (mobile and desktop); trafilatura's text only of passages
    chosen.blocks = dedupe(chosen.blocks, runs_only=not chosen.source.startswith("dom"))
    chosen.links = content_links(tree, render_text(chosen.blocks), url)
    return chosen
