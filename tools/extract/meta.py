"""Page metadata from an lxml HTML tree: title, author, date, language, canonical URL, JSON-LD.

Every reader here is total: a missing or malformed field yields None (or an empty list), never an
exception, so one broken ``<script type="application/ld+json">`` cannot cost the page its text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from lxml import html as lxml_html

from tools.extract.blocks import absolute_url, clean_inline

_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(Z|[+-]\d{2}:?\d{2})?)?")
_LANG = re.compile(r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$")
_DISCUSSION_PATH = {"forum", "forums", "thread", "threads", "topic", "topics", "t", "questions", "discussion",
                    "discussions", "community", "showthread", "viewtopic"}
_ITEMTYPE = etree.XPath("//*[@itemscope]/@itemtype")
ARTICLE_TYPES = {"article", "newsarticle", "blogposting", "report", "techarticle", "scholarlyarticle",
                 "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle", "posting", "liveblogposting"}
_TITLE_SPLIT = re.compile(r"\s+[|\u2013\u2014»·:-]\s+")


@dataclass
class PageMeta:
    """Metadata found in a page's head and structured data."""

    title: str = ""
    author: str | None = None
    published: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    site_name: str | None = None
    description: str | None = None
    og_type: str | None = None
    jsonld: list[dict[str, Any]] = field(default_factory=list)
    microdata: list[str] = field(default_factory=list)  # schema.org types named by itemtype attributes

    def is_discussion(self, url: str | None) -> bool:
        """Whether the page says it is a discussion (forum thread, Q&A) by structured data or URL path."""
        types = set().union(*(jsonld_types(o) for o in self.jsonld), set(self.microdata))
        if types & {"discussionforumposting", "qapage", "question", "comment"}:
            return True
        path = urlsplit(url or "").path.lower()
        return bool(set(re.split(r"[/._-]+", path)) & _DISCUSSION_PATH)

    def is_product(self) -> bool:
        """Whether the page declares itself the page of one product (JSON-LD or Open Graph)."""
        types = [jsonld_types(o) for o in self.jsonld] + [{t} for t in self.microdata]
        if any(t & {"itemlist", "collectionpage", "searchresultspage", "offercatalog"} for t in types):
            return False
        # a news article names the subscription it belongs to as a Product; it is still an article
        if (self.og_type or "").lower() == "article" and any(t & ARTICLE_TYPES for t in types):
            return False
        products = sum(1 for t in types if t & {"product", "productgroup"})
        og_product = (self.og_type or "").lower().replace(":", ".") in ("product", "product.item", "og.product")
        return products == 1 or (products == 0 and og_product)


def _metas(tree: lxml_html.HtmlElement) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in tree.iter("meta"):
        key = (m.get("property") or m.get("name") or m.get("itemprop") or m.get("http-equiv") or "").lower()
        content = m.get("content")
        if key and content and key not in out:
            out[key] = content.strip()
    return out


def _flatten_jsonld(data: Any, out: list[dict[str, Any]], depth: int = 0) -> None:
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data:
            _flatten_jsonld(item, out, depth + 1)
    elif isinstance(data, dict):
        graph = data.get("@graph")
        if graph is not None:
            _flatten_jsonld(graph, out, depth + 1)
        if "@type" in data:
            out.append(data)


def read_jsonld(tree: lxml_html.HtmlElement) -> list[dict[str, Any]]:
    """All typed JSON-LD objects of the page (``@graph`` and lists flattened)."""
    out: list[dict[str, Any]] = []
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        raw = script.text.strip().removeprefix("<!--").removesuffix("-->").strip()
        try:
            _flatten_jsonld(json.loads(raw, strict=False), out)
        except (ValueError, RecursionError):
            continue
    return out


def jsonld_types(obj: dict[str, Any]) -> set[str]:
    """The ``@type`` values of a JSON-LD object, lower-cased without a schema prefix."""
    raw = obj.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {str(v).rsplit("/", 1)[-1].lower() for v in values if v}


def as_text(value: Any) -> str:
    """A JSON-LD value as text: strings kept, names of objects, items of lists joined."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        return as_text(value.get("name") or value.get("@value") or "")
    if isinstance(value, list):
        return ", ".join(t for t in (as_text(v) for v in value[:10]) if t)
    return ""


def iso_date(value: str | None) -> str | None:
    """An ISO 8601 date (or date-time) found at the start of ``value``."""
    if not value:
        return None
    m = _DATE.search(value)
    if not m:
        return None
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (1990 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _language(tree: lxml_html.HtmlElement, metas: dict[str, str]) -> str | None:
    for raw in (tree.get("lang"), tree.get("xml:lang"), metas.get("content-language"), metas.get("og:locale")):
        if raw:
            code = raw.split(",")[0].strip().replace("_", "-")
            if _LANG.match(code):
                parts = code.split("-")
                return "-".join([parts[0].lower()] + [p.upper() if len(p) == 2 else p for p in parts[1:]])
    return None


def _canonical(tree: lxml_html.HtmlElement, metas: dict[str, str], base: str | None) -> str | None:
    for link in tree.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split():
            url = absolute_url(link.get("href") or "", base)
            if url:
                return url
    return absolute_url(metas.get("og:url", ""), base)


def _first_jsonld(objs: list[dict[str, Any]], key: str) -> str:
    for obj in objs:
        text = as_text(obj.get(key))
        if text:
            return text
    return ""


def _author(tree: lxml_html.HtmlElement, metas: dict[str, str], objs: list[dict[str, Any]]) -> str | None:
    creative = [o for o in objs if jsonld_types(o) & {"article", "newsarticle", "blogposting", "report"}]
    candidates = [
        _first_jsonld(creative, "author"),
        metas.get("author", ""),
        metas.get("article:author", ""),
        metas.get("dc.creator", ""),
        metas.get("twitter:creator", ""),
    ]
    for el in tree.iterfind(".//a[@rel='author']"):
        candidates.append(el.text_content())
    for cand in candidates:
        text = clean_inline(cand or "").replace("\n", " ")
        if text and not text.lower().startswith(("http://", "https://")) and len(text) < 120:
            return text
    return None


def _title(tree: lxml_html.HtmlElement, metas: dict[str, str], objs: list[dict[str, Any]]) -> str:
    head = tree.find(".//title")
    raw_title = clean_inline(head.text_content() if head is not None else "").replace("\n", " ")
    h1 = tree.find(".//h1")
    h1_text = clean_inline(h1.text_content() if h1 is not None else "").replace("\n", " ")
    for cand in (metas.get("og:title", ""), _first_jsonld(objs, "headline"), h1_text, raw_title):
        text = clean_inline(cand).replace("\n", " ")
        if 0 < len(text) <= 300:
            if text == raw_title and (parts := _TITLE_SPLIT.split(text)) and len(parts) > 1:
                return max(parts, key=len)
            return text
    return ""


def read_meta(tree: lxml_html.HtmlElement, url: str | None) -> PageMeta:
    """Metadata of the page rooted at ``tree``; ``url`` resolves relative canonical links."""
    metas = _metas(tree)
    objs = read_jsonld(tree)
    published = (
        iso_date(metas.get("article:published_time"))
        or iso_date(_first_jsonld(objs, "datePublished"))
        or iso_date(metas.get("date") or metas.get("dc.date") or metas.get("pubdate") or metas.get("datepublished"))
    )
    if published is None:
        for t in tree.iterfind(".//time[@datetime]"):
            published = iso_date(t.get("datetime"))
            if published:
                break
    return PageMeta(
        title=_title(tree, metas, objs),
        author=_author(tree, metas, objs),
        published=published,
        language=_language(tree, metas),
        canonical_url=_canonical(tree, metas, url),
        site_name=metas.get("og:site_name") or None,
        og_type=metas.get("og:type") or None,
        microdata=[t.rstrip("/").rsplit("/", 1)[-1].lower() for t in _ITEMTYPE(tree) if isinstance(t, str)],
        description=metas.get("og:description") or metas.get("description") or None,
        jsonld=objs,
    )
