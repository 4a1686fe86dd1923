"""Search backends behind one protocol, tried in order by ``SearchChain`` (see ``tools.search.chain``)."""

from __future__ import annotations

from tools.search.base import BackendError, RateLimited, RateLimiter, SearchBackend
from tools.search.chain import SearchChain, SearchOptions, build_search, dedupe, memo_key
from tools.search.local import LocalBackend

__all__ = [
    "BackendError", "LocalBackend", "RateLimited", "RateLimiter", "SearchBackend", "SearchChain", "SearchOptions",
    "build_search", "dedupe", "memo_key",
]
