"""Brave Search API (``GET /res/v1/web/search`` with ``X-Subscription-Token`` from the environment).

Guarantees: without a key the backend raises ``BackendError`` at once (no request is sent); results
are the API's web results ranked 1..n, with HTML highlighting tags removed from snippets.
"""

from __future__ import annotations

import re

from tools.search.base import BackendError, clean, get_json
from tools.types import SearchResult

BRAVE_URL = "https://api.search.brave.com/res/v1/web/search"
_TAGS = re.compile(r"<[^>]+>")


class BraveBackend:
    """Queries Brave Search; ``endpoint`` can point at a stand-in server."""

    name = "brave"

    def __init__(self, api_key: str | None, *, endpoint: str = BRAVE_URL, timeout_s: float = 15.0) -> None:
        self.api_key = api_key
        self.endpoint = endpoint
        self.timeout_s = timeout_s

    async def search(self, query: str, k: int) -> list[SearchResult]:
        """Up to ``k`` web results (Brave caps ``count`` at 20)."""
        if not self.api_key:
            raise BackendError("brave has no API key; set the variable named by search.brave_key_env")
        data = await get_json(
            self.name, "GET", self.endpoint, timeout_s=self.timeout_s,
            params={"q": query, "count": str(min(k, 20))},
            headers={"X-Subscription-Token": self.api_key, "Accept": "application/json"},
        )
        web = data.get("web") if isinstance(data, dict) else None
        items = web.get("results") if isinstance(web, dict) else []
        if not isinstance(items, list):
            raise BackendError("brave answered with a malformed results list")
        results: list[SearchResult] = []
        for item in items[:k]:
            if isinstance(item, dict) and isinstance(item.get("url"), str):
                results.append(SearchResult(
                    title=clean(_TAGS.sub("", str(item.get("title") or ""))) or item["url"], url=item["url"],
                    snippet=clean(_TAGS.sub("", str(item.get("description") or ""))),
                    rank=len(results) + 1, backend=self.name,
                ))
        return results
