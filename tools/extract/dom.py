"""A DOM-region extractor: boilerplate pruning, block segmentation and region scoring on lxml trees.

It complements trafilatura where pages are made of many short blocks (forum posts with their
authors, product cards, listings). Guarantees: ``prune`` only removes elements that are
boilerplate by tag, ARIA role or a whole class/id token; ``segment`` turns any tree into
``DomBlock`` values without recursing deeper than ``MAX_DEPTH``; nothing here raises on odd markup.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from lxml import etree
from lxml import html as lxml_html

from tools.extract.blocks import Block, absolute_url, clean_inline
from tools.types import Link

MAX_DEPTH = 180
LINK_PENALTY = 1.5  # a word of navigation costs more than a word of content earns
TITLE_LINK_WORDS = 3.0  # links this long on average are item titles, not navigation
TITLE_LINK_CREDIT = 0.5  # ... and count half as much as plain text does
BLOCK_PENALTY = 2.0  # a block must carry a few words to count as content
_DROP_TAGS = {
    "script", "style", "template", "svg", "iframe", "canvas", "object", "embed", "button",
    "select", "option", "input", "textarea", "nav", "dialog", "menu", "link", "meta", "head", "map", "video",
    "audio", "picture", "source", "img",
}
_SOFT_ROLES = {"navigation", "banner", "contentinfo", "search", "menu", "menubar", "toolbar", "complementary"}
_HARD_TOKENS = {
    "cookie", "cookies", "consent", "gdpr", "cmp", "onetrust", "cookiebot", "modal", "popup", "overlay", "offcanvas",
}
_HARD_ROLES = {"dialog", "alertdialog"}
_SOFT_TOKENS = {
    "newsletter", "subscribe", "subscription", "share", "sharing", "social", "socials", "related", "recommended",
    "recommendations", "breadcrumb", "breadcrumbs", "sidebar", "footer", "navbar", "nav", "navigation", "menu",
    "megamenu", "advert", "advertisement", "ads", "ad", "adslot", "promo", "sponsored", "skip", "toolbar",
    "signup", "login", "drawer", "masthead", "visually", "sr", "tooltip",
}
# a wrapper named after what it wraps ("content-sidebar-wrap", "page-footer-container") is not boilerplate
_KEEP_TOKENS = {"content", "main", "body", "wrap", "wrapper", "container", "post", "article", "entry", "page",
                "layout", "story", "text", "thread", "topic", "product"}
_BLOCK_TAGS = {
    "p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "table", "tr", "td", "th",
    "thead", "tbody", "tfoot", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "figure", "figcaption",
    "header", "footer", "aside", "form", "fieldset", "address", "details", "summary", "center", "body", "hr",
    "caption", "legend", "label",
}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


@dataclass
class DomBlock:
    """A block of page text with the element that holds it and how much of it is link text."""

    block: Block
    element: etree._Element
    words: int
    link_words: int
    links: int = 0


def _tokens(el: etree._Element) -> set[str]:
    cls, ident = el.get("class"), el.get("id")
    if not cls and not ident:
        return set()
    return set(f"{cls or ''} {ident or ''}".lower().replace("-", " ").replace("_", " ").split())


def _link_dense(el: etree._Element) -> bool:
    """Whether ``el`` reads like navigation: few words, or mostly link text."""
    words = len(el.text_content().split()) if isinstance(el, lxml_html.HtmlElement) else 0
    if words < 40:
        return True
    links = sum(len(a.text_content().split()) for a in el.iter("a") if isinstance(a, lxml_html.HtmlElement))
    return links >= 0.4 * words


def _is_boilerplate(el: etree._Element, protected: bool) -> bool:
    """Whether ``el`` is boilerplate; ``protected``: it sits inside an ``article`` or ``main``."""
    tag = el.tag
    if tag in _DROP_TAGS:
        return not (tag == "script" and (el.get("type") or "").lower() == "application/ld+json")
    if tag == "noscript":  # a no-JS rendering of the page (Discourse) is content; a tracking pixel is not
        return len(el.text_content().split()) < 30
    if tag in ("body", "html", "main", "article"):
        return False
    role = (el.get("role") or "").lower()
    if role == "main":
        return False
    tokens = _tokens(el)
    if (tokens & _HARD_TOKENS and not tokens & _KEEP_TOKENS) or role in _HARD_ROLES:
        return True
    if tag in ("footer", "header") and not protected:  # the page's own header and footer, not an article's
        return tag == "footer" or _link_dense(el)
    soft = tag == "aside" or role in _SOFT_ROLES or bool(tokens & _SOFT_TOKENS and not tokens & _KEEP_TOKENS)
    return soft and _link_dense(el)


def prune(tree: lxml_html.HtmlElement) -> None:
    """Remove boilerplate elements from ``tree`` in place (their tails are kept)."""
    doomed: list[etree._Element] = []
    stack: list[tuple[etree._Element, bool]] = [(tree, False)]
    while stack:
        el, protected = stack.pop()
        if not isinstance(el.tag, str):
            continue
        if _is_boilerplate(el, protected):
            doomed.append(el)
            continue
        inner = protected or el.tag in ("article", "main")
        stack.extend((child, inner) for child in el)
    for el in doomed:
        if el.getparent() is not None:
            el.drop_tree()


def _link_stats(el: etree._Element) -> tuple[int, int]:
    """Number of words inside links under ``el`` (itself included) and the number of those links."""
    words = links = 0
    for a in el.iter("a"):
        n = len(a.text_content().split()) if isinstance(a, lxml_html.HtmlElement) else 0
        if n:
            words += n
            links += 1
    return words, links


def prune_consent(tree: etree._Element) -> None:
    """Remove cookie and consent banners only (cheap; safe to run before any extractor)."""
    doomed = []
    for el in tree.iter():
        cls, ident = el.get("class"), el.get("id")
        if not (cls or ident) or el.tag in ("html", "body", "main", "article"):
            continue
        raw = f"{cls or ''} {ident or ''}".lower()
        hit = "cookie" in raw or "consent" in raw or "gdpr" in raw or "cmp" in raw or "onetrust" in raw
        if hit and (tokens := _tokens(el)) & _HARD_TOKENS and not tokens & _KEEP_TOKENS:
            doomed.append(el)
    for el in doomed:
        if el.getparent() is not None:
            el.drop_tree()


def _inline_text(el: etree._Element) -> tuple[str, int, int]:
    """Text of an inline element, the number of link words in it and the number of links."""
    text = el.text_content() if isinstance(el, lxml_html.HtmlElement) else "".join(el.itertext())
    if el.tag == "a":
        n = len(text.split())
        return text, n, 1 if n else 0
    return (text, *_link_stats(el))


class _Segmenter:
    """Walks a tree once, emitting blocks in document order."""

    def __init__(self) -> None:
        self.out: list[DomBlock] = []

    def emit(self, block: Block, el: etree._Element, link_words: int = 0, links: int = 0) -> None:
        words = len(block.plain().split())
        if words:
            self.out.append(DomBlock(block, el, words, min(link_words, words), links))

    def walk(self, el: etree._Element, depth: int = 0) -> None:
        tag = el.tag
        if depth > MAX_DEPTH or tag in _HEADINGS or tag == "pre":
            self.leaf(el)
            return
        if tag == "table" and self.simple(el, ("td", "th")):
            self.table(el)
            return
        if tag in ("ul", "ol") and self.simple(el, ("li",)):
            self.list(el)
            return
        buf: list[str] = [el.text or ""]
        buf_links = buf_count = 0
        for child in el:
            if not isinstance(child.tag, str) or child.tag in _DROP_TAGS:
                buf.append(child.tail or "")
                continue
            if child.tag == "br":
                buf.append("\n" + (child.tail or ""))
                continue
            if child.tag in _BLOCK_TAGS or child.tag in _HEADINGS:
                self.flush(buf, buf_links, buf_count, el)
                buf, buf_links, buf_count = [], 0, 0
                self.walk(child, depth + 1)
                buf.append(child.tail or "")
                continue
            text, link_words, links = _inline_text(child)
            buf.append(text)
            buf.append(child.tail or "")
            buf_links += link_words
            buf_count += links
        self.flush(buf, buf_links, buf_count, el)

    def flush(self, buf: list[str], link_words: int, links: int, el: etree._Element) -> None:
        text = clean_inline("".join(buf))
        if text:
            self.emit(Block("paragraph", text=text), el, link_words, links)

    @staticmethod
    def simple(el: etree._Element, cells: tuple[str, ...]) -> bool:
        """Whether a table or list holds only inline content in its cells (not a layout container)."""
        for cell in el.iter(*cells):
            for d in cell.iterdescendants():
                if d.tag in ("table", "div", "p", "section", "article", "pre", "h1", "h2", "h3", "blockquote"):
                    return False
        return True

    def leaf(self, el: etree._Element) -> None:
        text = el.text_content() if isinstance(el, lxml_html.HtmlElement) else "".join(el.itertext())
        link_words, links = _link_stats(el)
        if el.tag == "pre":
            if text.strip():
                self.emit(Block("code", text=text.strip("\n")), el)
            return
        text = clean_inline(text).replace("\n", " ")
        if text:
            kind = "heading" if el.tag in _HEADINGS else "paragraph"
            self.emit(Block(kind, text=text, level=_HEADINGS.get(el.tag, 0)), el, link_words, links)

    def table(self, el: etree._Element) -> None:
        rows: list[list[str]] = []
        header = False
        link_words = links = 0
        for i, tr in enumerate(el.iter("tr")):
            cells = [c for c in tr if c.tag in ("td", "th")]
            texts = [clean_inline(c.text_content()).replace("\n", " ") for c in cells]
            if any(texts):
                header = header or (i == 0 and all(c.tag == "th" for c in cells))
                rows.append(texts)
                lw, lc = _link_stats(tr)
                link_words, links = link_words + lw, links + lc
        if rows:
            self.emit(Block("table", rows=rows, header=header), el, link_words, links)

    def list(self, el: etree._Element) -> None:
        items: list[str] = []
        link_words = links = 0
        for li in el.iterchildren("li"):
            text = clean_inline(li.text_content()).replace("\n", " ")
            if text:
                items.append(text)
                lw, lc = _link_stats(li)
                link_words, links = link_words + lw, links + lc
        if items:
            self.emit(Block("list", items=items, ordered=el.tag == "ol"), el, link_words, links)


def segment(root: etree._Element) -> list[DomBlock]:
    """All text blocks under ``root`` in document order."""
    seg = _Segmenter()
    seg.walk(root)
    return seg.out


def block_score(b: DomBlock) -> float:
    """How much a block looks like content (positive) or boilerplate (negative)."""
    text_words = b.words - b.link_words
    if b.block.kind == "heading":
        return 1.0
    if b.block.kind == "code":
        return min(b.words, 60) * 0.5
    per_link = b.link_words / b.links if b.links else 0.0
    # short links are navigation; long ones are titles of listed items (cards, threads, results)
    link_weight = LINK_PENALTY if per_link < TITLE_LINK_WORDS else -TITLE_LINK_CREDIT
    return text_words - link_weight * b.link_words - BLOCK_PENALTY


def best_region(blocks: list[DomBlock], root: etree._Element) -> etree._Element:
    """The element whose blocks have the highest summed score (ties: the deeper element)."""
    scores: dict[etree._Element, float] = {}
    for b in blocks:
        s = block_score(b)
        node: etree._Element | None = b.element
        while node is not None:
            scores[node] = scores.get(node, 0.0) + s
            if node is root:
                break
            node = node.getparent()
    if not scores:
        return root
    return max(scores, key=scores.__getitem__)


def inside(blocks: list[DomBlock], region: etree._Element) -> list[DomBlock]:
    """The blocks held by ``region`` or its descendants."""
    members = set(region.iter())
    return [b for b in blocks if b.element in members]


def region_links(region: etree._Element, base: str | None) -> list[Link]:
    """Absolute links (with anchor text) inside ``region``."""
    out: list[Link] = []
    for a in region.iter("a"):
        url = absolute_url(a.get("href") or "", base)
        if url:
            out.append(Link(url=url, text=clean_inline(a.text_content()).replace("\n", " ")))
    return out


_UNIT_TAGS = {"div", "li", "article", "section", "tr", "dl", "tbody", "ul", "ol", "table"}
_DIGITS = re.compile(r"\d+")


def signature(el: etree._Element) -> tuple[str, str]:
    """The shape of an element for finding repeated units: its tag and its classes without digits."""
    classes = sorted(_DIGITS.sub("", c) for c in (el.get("class") or "").split())
    return str(el.tag), " ".join(classes)


def repeated_units(region: etree._Element) -> tuple[float, int]:
    """The largest run of same-shaped siblings in ``region``: its share of the region's words and size.

    Posts of a thread, cards of a collection and rows of a listing are such runs; the paragraphs
    of an article are not (only compound container elements count as units).
    """
    total = len(region.text_content().split()) if isinstance(region, lxml_html.HtmlElement) else 0
    if not total:
        return 0.0, 0
    best_words, best_count = 0, 0
    for el in region.iter():
        kids = [k for k in el if isinstance(k.tag, str) and k.tag in _UNIT_TAGS]
        if len(kids) < 3:
            continue
        sig, count = Counter(signature(k) for k in kids).most_common(1)[0]
        if count < 3:
            continue
        units = [k for k in kids if signature(k) == sig]
        # a unit is compound (author + post, title + price, cells of a row); one wrapped paragraph is not
        if sum(len(k) for k in units) < 2 * count:
            continue
        words = sum(len(k.text_content().split()) for k in units)
        if words > best_words:
            best_words, best_count = words, count
    return best_words / total, best_count


DEDUP_WORDS = 8  # a repeated block this long is a duplicate rendering (mobile/desktop copies), not content


def dedupe(blocks: list[Block], runs_only: bool = False) -> list[Block]:
    """``blocks`` without later repeats of long blocks (short ones, like prices, may repeat).

    ``runs_only``: only repeats two or more in a row (a second rendering of a passage) go, and one
    long block said again on its own (a refrain, a pull quote) stays.
    """
    seen: set[str] = set()
    repeats: list[bool] = []
    for b in blocks:
        text = b.plain()
        key = " ".join(text.lower().split()) if len(text.split()) >= DEDUP_WORDS else ""
        repeats.append(bool(key) and key in seen)
        if key:
            seen.add(key)
    out: list[Block] = []
    for i, b in enumerate(blocks):
        in_run = (i > 0 and repeats[i - 1]) or (i + 1 < len(blocks) and repeats[i + 1])
        if not (repeats[i] and (in_run or not runs_only)):
            out.append(b)
    return out


def content_links(root: etree._Element, text: str, base: str | None) -> list[Link]:
    """Absolute links under ``root`` whose anchor text appears in the extracted ``text``."""
    flat = " ".join(text.split())
    out: list[Link] = []
    seen: set[tuple[str, str]] = set()
    for a in root.iter("a"):
        anchor = " ".join(a.text_content().split()) if isinstance(a, lxml_html.HtmlElement) else ""
        if len(anchor) < 2 or anchor not in flat:
            continue
        url = absolute_url(a.get("href") or "", base)
        if url and (url, anchor) not in seen:
            seen.add((url, anchor))
            out.append(Link(url=url, text=anchor))
    return out
