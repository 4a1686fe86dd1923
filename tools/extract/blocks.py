"""Content blocks: the one intermediate form every extraction candidate is turned into.

A candidate (trafilatura's XML body, a DOM region of the page, JSON-LD fields) becomes a list of
``Block`` values; the renderers here turn blocks into plain text (paragraphs separated by blank
lines, headings on their own lines) and Markdown (headings, lists, tables and code kept). Rendering
never raises and never recurses deeper than the block tree, which is at most two levels deep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree

from tools.types import Link

_SPACE = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u3000]+")
_BLANKS = re.compile(r"\n\s*\n+")


@dataclass
class Block:
    """One unit of content: a heading, paragraph, list, table, code block or quotation."""

    kind: str  # "heading" | "paragraph" | "list" | "table" | "code" | "quote"
    text: str = ""  # heading, paragraph, code and quote text
    level: int = 0  # heading level 1-6
    items: list[str] = field(default_factory=list)  # list items
    ordered: bool = False
    rows: list[list[str]] = field(default_factory=list)  # table rows, the first one may be a header
    header: bool = False  # whether rows[0] is a header row

    def plain(self) -> str:
        """The block as plain text."""
        if self.kind == "list":
            return "\n".join(self.items)
        if self.kind == "table":
            return "\n".join(" | ".join(c for c in row if c) for row in self.rows)
        return self.text


def clean_inline(text: str) -> str:
    """Collapse runs of spaces inside a line and trim every line."""
    lines = (_SPACE.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def word_count(blocks: list[Block]) -> int:
    """Number of whitespace-separated words in ``blocks``."""
    return sum(len(b.plain().split()) for b in blocks)


def render_text(blocks: list[Block]) -> str:
    """Plain text: one block per paragraph, blank lines between blocks."""
    return "\n\n".join(p for b in blocks if (p := b.plain().strip()))


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _md_table(block: Block) -> str:
    width = max(len(r) for r in block.rows)
    rows = [[_md_cell(c) for c in r] + [""] * (width - len(r)) for r in block.rows]
    head = rows[0] if block.header else [""] * width
    body = rows[1:] if block.header else rows
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * width]
    out += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(out)


def render_markdown(blocks: list[Block]) -> str:
    """Markdown: ``#`` headings, ``-``/``1.`` lists, pipe tables, fenced code, ``>`` quotes."""
    parts: list[str] = []
    for b in blocks:
        if b.kind == "heading":
            parts.append("#" * max(1, min(b.level or 2, 6)) + " " + b.text.replace("\n", " "))
        elif b.kind == "list" and b.items:
            lines = [f"{f'{i}.' if b.ordered else '-'} {it}" for i, it in enumerate(b.items, start=1)]
            parts.append("\n".join(line.replace("\n", " ") for line in lines))
        elif b.kind == "table" and b.rows:
            parts.append(_md_table(b))
        elif b.kind == "code":
            fence = "````" if "```" in b.text else "```"
            parts.append(f"{fence}\n{b.text}\n{fence}")
        elif b.kind == "quote":
            parts.append("\n".join("> " + line for line in b.text.split("\n")))
        elif b.text:
            parts.append(b.text)
    return "\n\n".join(parts)


# --- trafilatura XML -> blocks -------------------------------------------------------------


_XML_BLOCKS = {"p", "head", "item", "list", "table", "row", "cell", "quote", "code", "div"}


def _xml_text(el: etree._Element, depth: int = 0) -> str:
    """Inline text of a trafilatura XML element, ``<lb/>`` and nested blocks as line breaks."""
    if depth > 100:
        return " ".join(el.itertext())
    out: list[str] = [el.text or ""]
    for child in el:
        if child.tag == "lb":
            out.append("\n")
        elif child.tag in _XML_BLOCKS:
            out.append("\n" + _xml_text(child, depth + 1) + "\n")
        else:
            out.append(_xml_text(child, depth + 1))
        out.append(child.tail or "")
    return "".join(out)


def _xml_list(el: etree._Element) -> Block:
    items: list[str] = []
    for item in el.iter("item"):
        if item.getparent() is el or item.getparent() is None:
            text = clean_inline(_xml_text(item)).replace("\n", " ")
            if text:
                items.append(text)
    return Block("list", items=items, ordered=(el.get("rend") or "").startswith("ol"))


def _xml_table(el: etree._Element) -> Block:
    rows: list[list[str]] = []
    header = False
    for i, row in enumerate(el.iter("row")):
        cells = [clean_inline(_xml_text(c)).replace("\n", " ") for c in row if c.tag == "cell"]
        if any(cells):
            if i == 0 and any(c.get("role") == "head" for c in row):
                header = True
            rows.append(cells)
    return Block("table", rows=rows, header=header)


def blocks_from_xml(body: etree._Element) -> list[Block]:
    """Blocks from the XML body trafilatura returns (``bare_extraction(...).body``)."""
    blocks: list[Block] = []
    if body.text and body.text.strip():
        blocks.append(Block("paragraph", text=clean_inline(body.text)))
    for el in body:
        _xml_block(el, blocks)
        tail = clean_inline(el.tail or "")
        if tail:
            blocks.append(Block("paragraph", text=tail))
    return blocks


def _xml_block(el: etree._Element, blocks: list[Block]) -> None:
    """Append the block(s) for one top-level element of trafilatura's XML body."""
    tag = el.tag
    if tag == "head":
        text = clean_inline(_xml_text(el)).replace("\n", " ")
        rend = el.get("rend") or "h2"
        level = int(rend[1]) if len(rend) == 2 and rend[1].isdigit() else 2
        if text:
            blocks.append(Block("heading", text=text, level=level))
    elif tag == "list":
        lst = _xml_list(el)
        if lst.items:
            blocks.append(lst)
    elif tag == "table":
        tbl = _xml_table(el)
        if tbl.rows:
            blocks.append(tbl)
    elif tag == "code":
        text = "".join(el.itertext()).strip("\n")
        if text.strip():
            blocks.append(Block("code", text=text))
    elif tag == "quote":
        text = clean_inline(_xml_text(el))
        if text:
            blocks.append(Block("quote", text=text))
    else:
        text = clean_inline(_xml_text(el))
        if text:
            blocks.append(Block("paragraph", text=text))


def links_from_xml(body: etree._Element, base: str | None) -> list[Link]:
    """Links kept by trafilatura (``<ref target=...>``), made absolute against ``base``."""
    out: list[Link] = []
    for ref in body.iter("ref"):
        target = (ref.get("target") or "").strip()
        url = absolute_url(target, base)
        if url:
            out.append(Link(url=url, text=clean_inline("".join(ref.itertext())).replace("\n", " ")))
    return out


def absolute_url(href: str, base: str | None) -> str | None:
    """``href`` resolved against ``base``; None for fragments, script and mail links."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    low = href.lower()
    if low.startswith(("javascript:", "mailto:", "tel:", "data:")):
        return None
    try:
        url = urljoin(base, href) if base else href
    except ValueError:
        return None
    return url if url.lower().startswith(("http://", "https://")) else None


def normalize_text(text: str) -> str:
    """Trim lines and collapse runs of blank lines to one blank line."""
    return _BLANKS.sub("\n\n", "\n".join(line.rstrip() for line in text.split("\n"))).strip()
