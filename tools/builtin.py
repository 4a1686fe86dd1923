"""Quarry's built-in tools: web search, reading a URL, searching memory.

They register through the same hook as third-party plugins (``BuiltinTools.register(register)``)
and are plain typed functions with docstrings, like any plugin's tools. Their parts come in as
callables supplied by ``app.py`` (the search chain, the fetcher with extraction, memory search), so
this module imports neither memory nor any concrete backend, and building the tools builds none of
those parts: each is used only when its tool is called.

Guarantees: a tool whose part was not supplied is not registered; a part's ``ToolError`` (refused
URL, failed fetch, no search results) reaches the agent as the part's own one-sentence message.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from pydantic import Field

from tools.errors import ToolError
from tools.registry import ToolReportedError
from tools.types import Document, FetchResult, SearchResult

MAX_RESULTS = 20
MAX_QUERY_CHARS = 300
MAX_URL_CHARS = 2000
PAGE_CHARS = 20_000  # text of a read page handed back to the agent

SearchFn = Callable[[str, int], Awaitable[list[SearchResult]]]
FetchFn = Callable[[str], Awaitable[FetchResult]]
ExtractFn = Callable[[FetchResult], Document]
MemorySearchFn = Callable[[str, int], "list[SearchResult] | Awaitable[list[SearchResult]]"]

Query = Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS)]
Count = Annotated[int, Field(ge=1, le=MAX_RESULTS)]
Url = Annotated[str, Field(min_length=8, max_length=MAX_URL_CHARS)]


class BuiltinTools:
    """The built-in tools over parts supplied as callables; ``register`` is the plugin hook."""

    def __init__(
        self,
        *,
        search: SearchFn | None = None,
        fetch: FetchFn | None = None,
        extract: ExtractFn | None = None,
        memory_search: MemorySearchFn | None = None,
        page_chars: int = PAGE_CHARS,
    ) -> None:
        self._search = search
        self._fetch = fetch
        self._extract = extract
        self._memory_search = memory_search
        self._page_chars = page_chars

    def register(self, register: Callable[[Any], Any]) -> None:
        """Register every tool whose part was supplied (the same hook shape as a plugin's)."""
        for fn in self.functions():
            register(fn)

    def functions(self) -> list[Callable[..., Any]]:
        """The built-in tools as typed functions."""
        found: list[Callable[..., Any]] = []
        if self._search is not None:
            found.append(self._web_search_tool(self._search))
        if self._fetch is not None and self._extract is not None:
            found.append(self._fetch_tool(self._fetch, self._extract))
        if self._memory_search is not None:
            found.append(self._memory_tool(self._memory_search))
        return found

    @staticmethod
    def _web_search_tool(search: SearchFn) -> Callable[..., Any]:
        async def web_search(query: Query, k: Count = 8) -> list[SearchResult]:
            """Search the web; returns up to k results (title, URL, snippet) to choose pages from."""
            try:
                return await search(query, k)
            except ToolError as exc:
                raise ToolReportedError(str(exc)) from exc

        return web_search

    def _fetch_tool(self, fetch: FetchFn, extract: ExtractFn) -> Callable[..., Any]:
        limit = self._page_chars

        async def fetch_url(url: Url) -> str:
            """Read one web page or PDF by its http(s) URL; returns its title and main text."""
            if not url.startswith(("http://", "https://")):
                raise ToolReportedError(f"{url!r} is not an http(s) URL; give a full URL from a search result")
            try:
                document = extract(await fetch(url))
            except ToolError as exc:
                raise ToolReportedError(str(exc)) from exc
            text = f"# {document.title}\n\n{document.text}".strip()
            return text if len(text) <= limit else text[:limit] + "\n…(page truncated)"

        return fetch_url

    @staticmethod
    def _memory_tool(memory_search: MemorySearchFn) -> Callable[..., Any]:
        async def search_memory(query: Query, k: Count = 8) -> list[SearchResult]:
            """Search what Quarry has already read and remembered (earlier runs, local documents)."""
            found = memory_search(query, k)
            return list(await found) if inspect.isawaitable(found) else list(found)

        return search_memory
