"""JSON-LD as content: product facts and article bodies the visible page leaves out or hides.

Guarantees: only facts missing from the already extracted text are added (so nothing is said
twice); article bodies are used only when the extracted text is thin; malformed values are skipped.
"""

from __future__ import annotations

import re
from typing import Any

from tools.extract.blocks import Block, clean_inline
from tools.extract.meta import as_text, jsonld_types

THIN_WORDS = 80  # an extraction shorter than this may be completed from structured data
_WORD = re.compile(r"\w+")
_TAGS = re.compile(r"<[^>]+>")
_PRODUCT = {"product", "productgroup", "vehicle", "book", "softwareapplication"}
_ARTICLE = {
    "article", "newsarticle", "blogposting", "report", "techarticle", "scholarlyarticle", "discussionforumposting",
}


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _missing(text: str, known: set[str]) -> bool:
    """Whether most words of ``text`` are absent from ``known``."""
    words = _words(text)
    return bool(words) and len(words - known) > 0.5 * len(words)


def _offer_line(offers: Any) -> str:
    offer = offers[0] if isinstance(offers, list) and offers else offers
    if not isinstance(offer, dict):
        return ""
    price = as_text(offer.get("price") or offer.get("lowPrice"))
    currency = as_text(offer.get("priceCurrency"))
    if not price:
        return ""
    availability = as_text(offer.get("availability")).rsplit("/", 1)[-1]
    line = f"Price: {price} {currency}".strip()
    return f"{line} ({availability})" if availability else line


def _product_blocks(obj: dict[str, Any], known: set[str]) -> list[Block]:
    out: list[Block] = []
    name = as_text(obj.get("name"))
    if name and _missing(name, known):
        out.append(Block("heading", text=name, level=1))
    facts = []
    for label, key in (("Brand", "brand"), ("SKU", "sku"), ("Model", "model"), ("GTIN", "gtin13")):
        value = as_text(obj.get(key))
        if value and _missing(value, known):
            facts.append(f"{label}: {value}")
    offer = _offer_line(obj.get("offers"))
    if offer and _missing(offer.split(":", 1)[-1], known):
        facts.append(offer)
    rating = obj.get("aggregateRating")
    if isinstance(rating, dict) and as_text(rating.get("ratingValue")):
        count = as_text(rating.get("reviewCount") or rating.get("ratingCount"))
        line = f"Rating: {as_text(rating.get('ratingValue'))}" + (f" ({count} reviews)" if count else "")
        if _missing(line, known):
            facts.append(line)
    if facts:
        out.append(Block("list", items=facts))
    description = clean_inline(_TAGS.sub(" ", as_text(obj.get("description"))))
    if description and _missing(description, known):
        out.append(Block("paragraph", text=description))
    return out


def jsonld_blocks(objs: list[dict[str, Any]], blocks: list[Block]) -> list[Block]:
    """Blocks to put before ``blocks``: product facts they lack, or an article body when they are thin."""
    text = "\n".join(b.plain() for b in blocks)
    known = _words(text)
    thin = len(text.split()) < THIN_WORDS
    out: list[Block] = []
    for obj in objs:
        types = jsonld_types(obj)
        if types & _PRODUCT and not out:
            out += _product_blocks(obj, known)
        elif types & _ARTICLE and thin:
            body = clean_inline(_TAGS.sub(" ", as_text(obj.get("articleBody") or obj.get("text"))))
            if len(body.split()) > len(text.split()) and _missing(body, known):
                out += [Block("paragraph", text=p) for p in re.split(r"\n\s*\n", body) if p.strip()]
                thin = False
    return out
