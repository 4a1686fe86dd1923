"""Built-in tools register through the plugin hook and run over the real fetcher, extraction and
a search part; a part's own error reaches the agent as its one-sentence message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.fixture_web import FixtureWeb
from tools.builtin import BuiltinTools
from tools.errors import SearchError
from tools.extract import extract_result
from tools.registry import ToolRegistry
from tools.types import SearchResult
from tools.web.fetch import Fetcher, FetchOptions

HITS = [
    SearchResult("Perovskite stability", "http://127.0.0.1/articles/a.html", "heat and moisture", 1, "searxng"),
    SearchResult("Tandem cells", "http://127.0.0.1/articles/b.html", "silicon tandems", 2, "searxng"),
]


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    fetcher = Fetcher(FetchOptions(allow=("127.0.0.1",), respect_robots=False, use_cache=False, retries=0))
    try:
        yield fetcher
    finally:
        await fetcher.aclose()


def _registry(**parts: Any) -> ToolRegistry:
    registry = ToolRegistry()
    BuiltinTools(**parts).register(registry.register)
    return registry


async def test_only_supplied_parts_become_tools() -> None:
    async def search(query: str, k: int) -> list[SearchResult]:
        return HITS[:k]

    assert _registry().names() == []
    assert _registry(search=search).names() == ["web_search"]
    registry = _registry(search=search, memory_search=lambda q, k: HITS[:1])
    assert registry.names() == ["search_memory", "web_search"]
    assert {t.origin for t in registry.tools()} == {"built-in"}
    assert registry.arguments_schema("web_search")["properties"]["k"]["maximum"] == 20


async def test_web_search_and_its_failure() -> None:
    asked: list[tuple[str, int]] = []

    async def search(query: str, k: int) -> list[SearchResult]:
        asked.append((query, k))
        if query == "nothing":
            raise SearchError("No search backend answered for 'nothing'; check the network or add a backend.")
        return HITS[:k]

    registry = _registry(search=search)
    found = await registry.call("web_search", {"query": "perovskite", "k": 2})
    assert found.ok and found.results == HITS
    failed = await registry.call("web_search", {"query": "nothing"})
    assert failed.error == (
        "Tool web_search failed: No search backend answered for 'nothing'; check the network or add a backend."
    )
    assert asked == [("perovskite", 2), ("nothing", 8)]
    empty = await registry.call("web_search", {"query": ""})
    assert not empty.ok and "query" in (empty.error or "")


async def test_fetch_url_reads_a_loopback_page(fixture_web: FixtureWeb, fetcher: Fetcher) -> None:
    registry = _registry(fetch=fetcher.fetch, extract=extract_result)
    home = await registry.call("fetch_url", {"url": fixture_web.url("/notes.md")})
    assert home.ok, home.error
    assert isinstance(home.output, str) and home.output.startswith("# ")
    refused = await registry.call("fetch_url", {"url": "http://10.0.0.1/admin"})
    assert not refused.ok and refused.error and refused.error.startswith("Tool fetch_url failed: ")
    not_http = await registry.call("fetch_url", {"url": "file:///etc/passwd"})
    assert not_http.error == (
        "Tool fetch_url failed: 'file:///etc/passwd' is not an http(s) URL; give a full URL from a search result."
    )


async def test_memory_search_accepts_sync_and_async_parts() -> None:
    async def remembered(query: str, k: int) -> list[SearchResult]:
        return HITS[1:2]

    sync = await _registry(memory_search=lambda q, k: HITS[:k]).call("search_memory", {"query": "x", "k": 1})
    assert sync.results == HITS[:1]
    via_async = await _registry(memory_search=remembered).call("search_memory", {"query": "x"})
    assert via_async.results == HITS[1:2]
