"""DuckDuckGo (and the other engines ddgs can query) through the ``ddgs`` package; no API key.

Guarantees: the blocking ddgs call runs in a worker thread with ddgs's own timeout; its rate-limit
error becomes ``RateLimited``, every other ddgs failure ``BackendError``, and ddgs's "no results"
an empty list, so the chain can fall back. ``proxy`` (and ``engines``) are passed to ddgs as given.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tools.search.base import BackendError, RateLimited, clean
from tools.types import SearchResult


class DuckDuckGoBackend:
    """Web search via ``ddgs.DDGS().text``; ``engines="auto"`` lets ddgs spread over its engines."""

    name = "duckduckgo"

    def __init__(self, *, timeout_s: int = 10, proxy: str | None = None, engines: str = "auto",
                 region: str = "wt-wt", safesearch: str = "moderate") -> None:
        self.timeout_s = timeout_s
        self.proxy = proxy
        self.engines = engines
        self.region = region
        self.safesearch = safesearch

    async def search(self, query: str, k: int) -> list[SearchResult]:
        """Up to ``k`` text results."""
        items = await asyncio.to_thread(self._search_sync, query, k)
        results: list[SearchResult] = []
        for item in items:
            url = item.get("href") or item.get("url")
            if isinstance(url, str) and url.startswith(("http://", "https://")):
                results.append(SearchResult(
                    title=clean(item.get("title")) or url, url=url, snippet=clean(item.get("body")),
                    rank=len(results) + 1, backend=self.name,
                ))
        return results[:k]

    def _search_sync(self, query: str, k: int) -> list[dict[str, Any]]:
        from ddgs import DDGS
        from ddgs.exceptions import DDGSException, RatelimitException, TimeoutException

        try:
            found = DDGS(proxy=self.proxy, timeout=self.timeout_s).text(
                query, max_results=k, backend=self.engines, region=self.region, safesearch=self.safesearch
            )
        except RatelimitException as exc:
            raise RateLimited(f"duckduckgo is rate limiting Quarry ({_short(exc)})") from exc
        except TimeoutException as exc:
            raise BackendError(f"duckduckgo timed out ({_short(exc)})") from exc
        except DDGSException as exc:
            if "no results" in str(exc).lower():
                return []
            raise BackendError(f"duckduckgo failed ({_short(exc)})") from exc
        return [item for item in found if isinstance(item, dict)]


def _short(exc: Exception, limit: int = 160) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
