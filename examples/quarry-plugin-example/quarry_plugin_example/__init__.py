"""An example Quarry plugin: one tool that searches arXiv preprints through arXiv's public Atom API.

Quarry loads it through the entry point ``quarry.tools: arxiv = quarry_plugin_example:register``
(see ``pyproject.toml``). ``register`` receives Quarry's registration callable and calls it once
per tool. A tool is a plain typed function with a docstring: Quarry takes the name from the
function, the description from the docstring and the argument schema from the signature. A tool
that returns a list of dicts with ``title``, ``url`` and ``snippet`` returns search results.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import httpx

__version__ = "0.1.0"

DEFAULT_API_URL = "https://export.arxiv.org/api/query"
ATOM = "{http://www.w3.org/2005/Atom}"
MAX_RESULTS = 20
SNIPPET_CHARS = 600


def api_url() -> str:
    """The arXiv API address: ``$ARXIV_API_URL`` when set (a mirror, a test stand-in), else arXiv's."""
    return os.environ.get("ARXIV_API_URL", DEFAULT_API_URL)


def build_query(query: str) -> str:
    """arXiv's ``search_query`` for free-text keywords: every word must appear in some field."""
    words = re.findall(r"[\w\-]+", query)
    if not words:
        raise ValueError("the query has no words to search for; give a few keywords")
    return " AND ".join(f"all:{word}" for word in words[:12])


async def arxiv_search(query: str, max_results: int = 5) -> list[dict[str, str]]:
    """Search arXiv preprints (physics, mathematics, computer science, biology, economics) by keywords;
    returns each paper's title, abstract page URL, authors, date and summary."""
    params: dict[str, str | int] = {
        "search_query": build_query(query),
        "start": 0,
        "max_results": max(1, min(max_results, MAX_RESULTS)),
        "sortBy": "relevance",
    }
    headers = {"User-Agent": f"quarry-plugin-example/{__version__}"}
    async with httpx.AsyncClient(timeout=20.0, headers=headers, follow_redirects=True) as client:
        response = await client.get(api_url(), params=params)
        response.raise_for_status()
    return parse_feed(response.text)


def parse_feed(feed: str) -> list[dict[str, str]]:
    """The entries of an arXiv Atom feed as search results (title, url, snippet, published)."""
    try:
        root = ET.fromstring(feed)
    except ET.ParseError as exc:
        raise ValueError(f"arXiv answered something that is not an Atom feed ({exc})") from exc
    results = []
    for entry in root.findall(f"{ATOM}entry"):
        url = _abstract_url(entry)
        if not url:
            continue
        authors = [_text(a.find(f"{ATOM}name")) for a in entry.findall(f"{ATOM}author")]
        published = _text(entry.find(f"{ATOM}published"))[:10]
        summary = _text(entry.find(f"{ATOM}summary"))
        byline = ", ".join(a for a in authors[:4] if a) + (" et al." if len(authors) > 4 else "")
        snippet = f"{byline} ({published}). {summary}".strip()
        results.append(
            {
                "title": _text(entry.find(f"{ATOM}title")),
                "url": url,
                "snippet": snippet[:SNIPPET_CHARS],
                "published": published,
            }
        )
    return results


def _abstract_url(entry: ET.Element) -> str:
    for link in entry.findall(f"{ATOM}link"):
        if link.get("rel") == "alternate" and link.get("href"):
            return link.get("href", "")
    return _text(entry.find(f"{ATOM}id"))


def _text(node: ET.Element | None) -> str:
    return " ".join((node.text or "").split()) if node is not None else ""


def register(register: Callable[[Any], Any]) -> None:
    """Quarry's plugin hook: register this package's tools."""
    register(arxiv_search)
