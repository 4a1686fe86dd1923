"""Precision checks between trafilatura's text and a DOM region: agreement and furniture.

Trafilatura is precise on articles and the DOM region is complete on structured pages; these
helpers say how far the two agree and which of the region's blocks are furniture (comment
threads, related stories, share bars, link lists) rather than content trafilatura missed. A region
block *agrees* when its text appears in trafilatura's text. Guarantees: every function is total on
odd markup (no exceptions, no recursion) and only reads the tree.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter

from lxml import etree

from tools.extract.dom import DomBlock, signature
from tools.extract.meta import ARTICLE_TYPES, PageMeta, jsonld_types

MATCH_CHARS = 48  # a block agrees when this much of its text (letters and digits only) is in the other text
MATCH_WORDS = 4  # shorter blocks ("Share", "Read more") match anywhere and say nothing
COVER = 0.6  # agreeing blocks must hold this share of trafilatura's words to locate it in the page
LINK_SHARE = 0.5  # a block with this share of link words is navigation or a teaser, not missed content
_NON_WORD = re.compile(r"\W+")
_WORD = re.compile(r"\w+")
# class/id tokens of what follows an article without being it: comment threads, "related" and share bars
_MARKERS = {
    "comment", "comments", "commentlist", "respond", "disqus", "replies", "related", "recommended",
    "recommendations", "taboola", "outbrain", "zergnet", "share", "sharing", "sharebar", "social", "newsletter",
    "sponsored", "cookie", "consent",
}


def _key(text: str) -> str:
    return _NON_WORD.sub("", text.lower())


def agreeing(blocks: list[DomBlock], text: str) -> list[DomBlock]:
    """The blocks of ``blocks`` whose text appears in ``text`` (blocks under four words never agree)."""
    flat = _key(text)
    out: list[DomBlock] = []
    for b in blocks:
        if b.words < MATCH_WORDS:
            continue
        key = _key(b.block.plain())
        if key and (key[:MATCH_CHARS] in flat and key[-MATCH_CHARS:] in flat):
            out.append(b)
    return out


def kept_share(blocks: list[DomBlock], text: str) -> float:
    """The share of the distinct words of ``text`` that occur in ``blocks`` (1 when ``text`` has none)."""
    words = set(_WORD.findall(text.lower()))
    if not words:
        return 1.0
    seen: set[str] = set()
    for b in blocks:
        seen.update(_WORD.findall(b.block.plain().lower()))
    return len(words & seen) / len(words)


def link_share(blocks: list[DomBlock]) -> float:
    """The share of the words of ``blocks`` that are link text (0 when they have no words)."""
    words = sum(b.words for b in blocks)
    return sum(b.link_words for b in blocks) / words if words else 0.0


def common_ancestor(elements: list[etree._Element]) -> etree._Element | None:
    """The deepest element that holds every one of ``elements`` (None when they share no tree)."""
    if not elements:
        return None
    path = [*reversed(list(elements[0].iterancestors())), elements[0]]
    for el in elements[1:]:
        mine = set(el.iterancestors())
        mine.add(el)
        while path and path[-1] not in mine:
            path.pop()
    return path[-1] if path else None


def marked(el: etree._Element, stop: etree._Element | None = None) -> bool:
    """Whether ``el`` or an ancestor below ``stop`` is named as a comment thread, related list or share bar.

    ``body`` and ``html`` are never looked at: their classes describe the page ("has-comments").
    """
    node: etree._Element | None = el
    while node is not None and node is not stop and node.tag not in ("body", "html"):
        raw = f"{node.get('class') or ''} {node.get('id') or ''}".lower()
        if raw.strip() and set(raw.replace("-", " ").replace("_", " ").split()) & _MARKERS:
            return True
        node = node.getparent()
    return False


def in_teasers(el: etree._Element, stop: etree._Element, titled: set[etree._Element],
               shapes: dict[etree._Element, Counter[tuple[str, str]]]) -> bool:
    """Whether ``el`` lies in one of three or more same-shaped compound siblings below ``stop`` that has a link title.

    ``titled``: the elements holding a block that is mostly link text (a teaser's headline);
    ``shapes`` caches each parent's count of child shapes across calls.
    """
    node = el
    while node is not stop:
        parent = node.getparent()
        if parent is None:
            return False
        if len(node) >= 2 and node in titled:
            counts = shapes.get(parent)
            if counts is None:
                counts = shapes[parent] = Counter(signature(k) for k in parent if isinstance(k.tag, str))
            if counts[signature(node)] >= 3:
                return True
        node = parent
    return False


def furniture(blocks: list[DomBlock], region: etree._Element, text: str) -> set[int]:
    """Indexes of the ``blocks`` that are page furniture rather than content missed by ``text``.

    A block is furniture when it sits in a comment thread, related list or share bar inside
    ``region``, when most of its words are link text, or when it lies outside the smallest element
    holding trafilatura's text in a run of same-shaped units headed by links (teasers of other
    stories); blocks that agree with ``text`` never are.
    """
    agree = agreeing(blocks, text)
    mine = {id(b) for b in agree}
    total = len(text.split())
    core = common_ancestor([b.element for b in agree]) if sum(b.words for b in agree) >= COVER * total else None
    held = set(core.iter()) if core is not None else set()
    linky = [i for i, b in enumerate(blocks) if id(b) not in mine and b.link_words >= LINK_SHARE * b.words]
    titled: set[etree._Element] = set()
    for i in linky:
        if blocks[i].words >= MATCH_WORDS:
            titled.update(blocks[i].element.iterancestors())
            titled.add(blocks[i].element)
    shapes: dict[etree._Element, Counter[tuple[str, str]]] = {}
    out = set(linky)
    for i, b in enumerate(blocks):
        if id(b) in mine or i in out:
            continue
        stray = core is not None and b.element not in held and in_teasers(b.element, region, titled, shapes)
        if stray or marked(b.element, region):
            out.add(i)
    return out


def is_article(meta: PageMeta, tree: etree._Element) -> bool:
    """Whether the page declares itself an article: Open Graph type, JSON-LD type or one ``<article>``."""
    if (meta.og_type or "").lower() == "article":
        return True
    if len(list(itertools.islice(tree.iter("article"), 2))) == 1:  # many would be cards or teasers
        return True
    types = set().union(set(), *(jsonld_types(o) for o in meta.jsonld), set(meta.microdata))
    return bool(types & ARTICLE_TYPES)
