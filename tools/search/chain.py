"""The search chain: configured backends tried in order, with fallback, pacing, dedup and a memo.

Guarantees: ``SearchChain.search`` asks one backend at a time in the configured order; an error, a
rate limit (after which that backend is rested for its ``Retry-After``) or an empty answer moves on to
the next and is reported through ``on_event``; the first non-empty answer is deduplicated by
normalized URL, re-ranked 1..n and returned; when every backend fails or answers nothing it raises
``SearchError`` (one sentence naming what each backend said), never an empty list. A query already
answered (same normalized text and ``k``) is served from ``memo`` when one is given (the run's own,
kept with its checkpoint), so a resumed run does not resend it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from tools.errors import SearchError
from tools.events import EventSink, emit
from tools.search.base import BackendError, RateLimited, RateLimiter, SearchBackend
from tools.types import SearchResult
from tools.web.urls import dedupe_key

KNOWN_BACKENDS = ("duckduckgo", "searxng", "tavily", "brave", "local")


@dataclass(frozen=True)
class SearchOptions:
    """Mirrors ``agents.settings.SearchSettings``; API keys are values the app read from the environment."""

    backends: tuple[str, ...] = ("duckduckgo",)
    results_per_query: int = 8
    searxng_url: str | None = None
    tavily_api_key: str | None = None
    brave_api_key: str | None = None
    min_interval_s: float = 1.0
    timeout_s: float = 20.0  # per backend call
    tavily_url: str | None = None  # endpoint overrides (tests, proxies)
    brave_url: str | None = None
    ddgs_proxy: str | None = None
    ddgs_engines: str = "auto"

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], **extra: Any) -> SearchOptions:
        """Options from a settings mapping (``SearchSettings.model_dump()``) plus ``extra`` (API keys)."""
        known = {f.name for f in fields(cls)}
        chosen = {k: v for k, v in {**values, **extra}.items() if k in known}
        if "backends" in chosen:
            chosen["backends"] = tuple(chosen["backends"])
        return cls(**chosen)


def memo_key(query: str, k: int) -> str:
    """The memo key of a query: case- and whitespace-insensitive text plus ``k``."""
    return f"{k}\x1f{' '.join(query.casefold().split())}"


def dedupe(results: Sequence[SearchResult]) -> list[SearchResult]:
    """Results with later duplicates (same page by normalized URL) removed, re-ranked 1..n."""
    seen: set[str] = set()
    kept: list[SearchResult] = []
    for result in results:
        key = dedupe_key(result.url)
        if key not in seen:
            seen.add(key)
            kept.append(replace(result, rank=len(kept) + 1))
    return kept


class SearchChain:
    """Backends in fallback order, each paced by its own rate limiter."""

    def __init__(
        self,
        backends: Sequence[SearchBackend],
        *,
        on_event: EventSink | None = None,
        memo: MutableMapping[str, list[SearchResult]] | None = None,
        min_interval_s: float | Mapping[str, float] = 0.0,
        timeout_s: float = 20.0,
    ) -> None:
        if not backends:
            raise SearchError("No search backend is configured; list at least one in the [search] backends setting.")
        self.backends = list(backends)
        self.on_event = on_event
        # None: no memo (a long-lived app shared by many runs must not serve old answers forever).
        self.memo: MutableMapping[str, list[SearchResult]] | None = memo
        self.timeout_s = timeout_s
        self.limiters = {
            b.name: RateLimiter(
                min_interval_s.get(b.name, 0.0) if isinstance(min_interval_s, Mapping) else min_interval_s
            )
            for b in self.backends
        }

    async def search(self, query: str, k: int = 8) -> list[SearchResult]:
        """Results for ``query`` from the first backend that answers (see the module docstring)."""
        query = " ".join(query.split())
        if not query:
            raise SearchError("The search query is empty; ask for something.")
        key = memo_key(query, k)
        if self.memo is not None and key in self.memo:
            self._emit("search_memo", query=query, count=len(self.memo[key]))
            return list(self.memo[key])
        problems: list[str] = []
        for backend in self.backends:
            found = await self._try(backend, query, k, problems)
            if found:
                results = dedupe(found)[:k]
                if self.memo is not None:
                    self.memo[key] = results
                self._emit("search_done", query=query, backend=backend.name, count=len(results))
                return list(results)
        raise SearchError(f"No search backend found anything for {query!r} ({'; '.join(problems)}); "
                          "check the network or configure another backend in [search] backends.")

    async def _try(self, backend: SearchBackend, query: str, k: int, problems: list[str]) -> list[SearchResult]:
        limiter = self.limiters[backend.name]
        held = limiter.held_for()
        if held > 0:
            problems.append(f"{backend.name}: resting {held:.0f} s after a rate limit")
            self._emit("search_backend_skipped", query=query, backend=backend.name, retry_in_s=round(held, 1))
            return []
        await limiter.wait_turn()
        started = time.monotonic()
        try:
            found = await asyncio.wait_for(backend.search(query, k), self.timeout_s)
        except RateLimited as exc:
            limiter.hold(exc.retry_after_s)
            return self._failed(problems, "search_backend_rate_limited", backend, query, exc, exc.retry_after_s)
        except TimeoutError as exc:
            timeout = BackendError(f"{backend.name} took longer than {self.timeout_s:g} s")
            timeout.__cause__ = exc
            return self._failed(problems, "search_backend_failed", backend, query, timeout, None)
        except BackendError as exc:
            return self._failed(problems, "search_backend_failed", backend, query, exc, None)
        except Exception as exc:  # noqa: BLE001  a backend (maybe a plugin) failing must not end the search
            return self._failed(problems, "search_backend_failed", backend, query,
                                BackendError(f"{backend.name} crashed ({type(exc).__name__}: {exc})"), None)
        if not found:
            problems.append(f"{backend.name}: no results")
            self._emit("search_backend_empty", query=query, backend=backend.name)
            return []
        self._emit("search_backend_answered", query=query, backend=backend.name, count=len(found),
                   elapsed_s=round(time.monotonic() - started, 3))
        return found

    def _failed(self, problems: list[str], kind: str, backend: SearchBackend, query: str, exc: BackendError,
                retry_after_s: float | None) -> list[SearchResult]:
        problems.append(f"{backend.name}: {exc}")
        fields: dict[str, Any] = {"query": query, "backend": backend.name, "error": str(exc)}
        if kind == "search_backend_rate_limited":
            fields["retry_after_s"] = retry_after_s
        self._emit(kind, **fields)
        return []

    def _emit(self, kind: str, **fields: Any) -> None:
        emit(self.on_event, {"type": kind, "ts": time.time(), **fields})


def build_backend(name: str, options: SearchOptions, local: SearchBackend | None) -> SearchBackend:
    """One backend by its settings name; ``SearchError`` for unknown or unusable names."""
    from tools.search.brave import BRAVE_URL, BraveBackend
    from tools.search.duckduckgo import DuckDuckGoBackend
    from tools.search.searxng import SearxngBackend
    from tools.search.tavily import TAVILY_URL, TavilyBackend

    if name == "duckduckgo":
        return DuckDuckGoBackend(timeout_s=max(1, int(options.timeout_s) - 1), proxy=options.ddgs_proxy,
                                 engines=options.ddgs_engines)
    if name == "searxng":
        if not options.searxng_url:
            raise SearchError("The searxng backend needs search.searxng_url; set it to your instance's address.")
        return SearxngBackend(options.searxng_url, timeout_s=options.timeout_s)
    if name == "tavily":
        return TavilyBackend(options.tavily_api_key, endpoint=options.tavily_url or TAVILY_URL,
                             timeout_s=options.timeout_s)
    if name == "brave":
        return BraveBackend(options.brave_api_key, endpoint=options.brave_url or BRAVE_URL, timeout_s=options.timeout_s)
    if name == "local":
        if local is None:
            raise SearchError("The local search backend needs the memory store, which this app did not provide.")
        return local
    raise SearchError(f"Unknown search backend {name!r}; choose from {', '.join(KNOWN_BACKENDS)}.")


def build_search(
    options: SearchOptions,
    local: SearchBackend | Callable[[str, int], list[SearchResult]] | None = None,
    *,
    on_event: EventSink | None = None,
    memo: MutableMapping[str, list[SearchResult]] | None = None,
) -> SearchChain:
    """The configured chain: backends in ``options.backends`` order, each paced by ``min_interval_s``.

    ``local`` is the ``local`` backend, or a plain ``search_fn(query, k)`` to wrap in ``LocalBackend``.
    """
    if local is not None and not isinstance(local, SearchBackend):
        from tools.search.local import LocalBackend

        local = LocalBackend(local)
    backends = [build_backend(name, options, local) for name in options.backends]
    return SearchChain(backends, on_event=on_event, memo=memo, min_interval_s=options.min_interval_s,
                       timeout_s=options.timeout_s)
