"""Tavily's search API (``POST /search`` with a bearer key from the environment).

Guarantees: without a key the backend raises ``BackendError`` at once (no request is sent); results
are ranked 1..n with title, URL and the API's content snippet.
"""

from __future__ import annotations

from tools.search.base import BackendError, clean, get_json
from tools.types import SearchResult

TAVILY_URL = "https://api.tavily.com/search"


class TavilyBackend:
    """Queries Tavily; ``endpoint`` can point at a stand-in server."""

    name = "tavily"

    def __init__(self, api_key: str | None, *, endpoint: str = TAVILY_URL, timeout_s: float = 15.0) -> None:
        self.api_key = api_key
        self.endpoint = endpoint
        self.timeout_s = timeout_s

    async def search(self, query: str, k: int) -> list[SearchResult]:
        """Up to ``k`` results (Tavily's basic search depth)."""
        if not self.api_key:
            raise BackendError("tavily has no API key; set the variable named by search.tavily_key_env")
        payload = {"query": query, "max_results": min(k, 20), "search_depth": "basic"}
        data = await get_json(
            self.name, "POST", self.endpoint, timeout_s=self.timeout_s, json=payload,
            headers={"Authorization": f"Bearer {self.api_key}"},
        )
        items = data.get("results") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise BackendError("tavily answered without a results list")
        results: list[SearchResult] = []
        for item in items[:k]:
            if isinstance(item, dict) and isinstance(item.get("url"), str):
                results.append(SearchResult(
                    title=clean(item.get("title")) or item["url"], url=item["url"],
                    snippet=clean(item.get("content")), rank=len(results) + 1, backend=self.name,
                ))
        return results
