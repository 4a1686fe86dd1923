"""What every search backend is, how it reports trouble, and how it is paced.

Guarantees: a backend implements ``SearchBackend`` (a ``name`` and ``async search(query, k)``) and
signals failure only with ``BackendError`` (or its subclass ``RateLimited``, which carries the wait the
service asked for); ``RateLimiter`` spaces a backend's calls at least ``min_interval_s`` apart and
refuses calls while a ``Retry-After`` hold is in force; ``get_json`` turns an HTTP exchange into
parsed JSON or one of those two errors.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import httpx

from tools.types import SearchResult

DEFAULT_HOLD_S = 60.0  # how long a backend that said "rate limited" without Retry-After is rested


@runtime_checkable
class SearchBackend(Protocol):
    """A search service: ``search`` returns ranked results (possibly none) or raises BackendError."""

    name: str

    async def search(self, query: str, k: int) -> list[SearchResult]:
        """Up to ``k`` results for ``query``."""
        ...


class BackendError(Exception):
    """A backend could not answer (network, status, malformed reply); the chain moves on."""


class RateLimited(BackendError):
    """The service said "too many requests"; ``retry_after_s`` is how long it asked us to wait."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RateLimiter:
    """Paces one backend: a minimum interval between calls and a hold after a rate-limit answer."""

    def __init__(self, min_interval_s: float = 0.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.min_interval_s = min_interval_s
        self._clock = clock
        self._next_call = 0.0
        self._held_until = 0.0

    def held_for(self) -> float:
        """Seconds left on a Retry-After hold (0 when none)."""
        return max(0.0, self._held_until - self._clock())

    def hold(self, seconds: float | None) -> None:
        """Rest the backend for ``seconds`` (a default when the service gave no number)."""
        wait = DEFAULT_HOLD_S if seconds is None else max(0.0, seconds)
        self._held_until = max(self._held_until, self._clock() + wait)

    async def wait_turn(self) -> None:
        """Sleep until the minimum interval since the previous call has passed, and claim the slot."""
        now = self._clock()
        start = max(now, self._next_call)
        self._next_call = start + self.min_interval_s
        if start > now:
            await asyncio.sleep(start - now)


def retry_after(headers: httpx.Headers) -> float | None:
    """The ``Retry-After`` header in seconds, when it is a number."""
    value = headers.get("retry-after", "").strip()
    try:
        return float(value) if value else None
    except ValueError:
        return None


async def get_json(
    name: str, method: str, url: str, *, timeout_s: float, **kwargs: Any
) -> Any:
    """One HTTP request to a search API; parsed JSON, ``RateLimited`` or ``BackendError``."""
    try:
        async with httpx.AsyncClient(timeout=timeout_s, trust_env=False) as client:
            response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise BackendError(f"{name} could not be reached ({type(exc).__name__}: {exc})") from exc
    if response.status_code == 429:
        raise RateLimited(f"{name} is rate limiting Quarry (HTTP 429)", retry_after(response.headers))
    if response.status_code in (401, 403):
        raise BackendError(f"{name} refused the request (HTTP {response.status_code}); check the API key")
    if response.status_code >= 400:
        raise BackendError(f"{name} answered HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError as exc:
        raise BackendError(f"{name} answered with something that is not JSON") from exc


def clean(text: object) -> str:
    """A result field as single-line text (None and non-strings become '')."""
    return " ".join(text.split()) if isinstance(text, str) else ""
