"""SearXNG: a self-hosted metasearch instance's JSON API (``/search?q=...&format=json``).

Guarantees: results come back ranked 1..n with title, URL and snippet, entries without a URL are
dropped, and an instance with JSON disabled (HTTP 403) or unreachable raises ``BackendError``.
"""

from __future__ import annotations

from tools.search.base import BackendError, clean, get_json
from tools.types import SearchResult


class SearxngBackend:
    """Queries one SearXNG instance (the ``search.searxng_url`` setting)."""

    name = "searxng"

    def __init__(self, base_url: str, *, timeout_s: float = 10.0, language: str = "all") -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.language = language

    async def search(self, query: str, k: int) -> list[SearchResult]:
        """Up to ``k`` results from the instance's first result page."""
        params = {"q": query, "format": "json", "pageno": "1", "language": self.language}
        data = await get_json(self.name, "GET", f"{self.base_url}/search", timeout_s=self.timeout_s, params=params)
        items = data.get("results") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise BackendError("searxng answered without a results list")
        results: list[SearchResult] = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("url"), str):
                continue
            results.append(SearchResult(
                title=clean(item.get("title")) or item["url"], url=item["url"], snippet=clean(item.get("content")),
                rank=len(results) + 1, backend=self.name,
            ))
            if len(results) >= k:
                break
        return results
