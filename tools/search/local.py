"""The ``local`` backend: the user's own documents, searched by a function the app supplies.

Guarantees: ``tools`` never imports ``memory``; ``app.py`` passes a plain ``search_fn(query, k)``
(backed by the memory store) and this adapter runs it off the event loop, re-ranks its answer 1..n
under the ``local`` backend name, and turns its failures into ``BackendError``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

from tools.search.base import BackendError
from tools.types import SearchResult

LocalSearchFn = Callable[[str, int], list[SearchResult]]


class LocalBackend:
    """Adapts a synchronous local search function to the backend protocol."""

    name = "local"

    def __init__(self, search_fn: LocalSearchFn) -> None:
        self.search_fn = search_fn

    async def search(self, query: str, k: int) -> list[SearchResult]:
        """Up to ``k`` local results."""
        try:
            found = await asyncio.to_thread(self.search_fn, query, k)
        except (OSError, ValueError, RuntimeError, LookupError) as exc:
            raise BackendError(f"local search failed ({exc})") from exc
        return [replace(r, rank=i, backend=self.name) for i, r in enumerate(found[:k], start=1)]
