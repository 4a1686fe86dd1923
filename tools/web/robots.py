"""robots.txt rules, fetched once per origin and kept for the fetcher's lifetime.

Guarantees (RFC 9309): a robots.txt answered with 4xx (or missing) allows everything; one that
cannot be fetched (5xx, network error, timeout) disallows everything on that origin for this
fetcher, since the site's wishes are unknown; a readable one is parsed by protego and matched
against Quarry's user-agent token. Concurrent callers for one origin share one request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego

# Fetches ``url`` and returns (status, body text); raises for a failed request.
RobotsFetch = Callable[[str], Awaitable[tuple[int, str]]]


@dataclass(frozen=True)
class RobotsRules:
    """The parsed robots.txt of one origin, or a blanket answer when it had none."""

    parser: Protego | None
    allow_all: bool
    reason: str = ""

    def allows(self, url: str, agent: str) -> bool:
        """True when ``agent`` may fetch ``url``."""
        if self.parser is None:
            return self.allow_all
        return bool(self.parser.can_fetch(url, agent))

    def crawl_delay(self, agent: str) -> float | None:
        """The crawl delay the site asks of ``agent``, if any."""
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(agent)
        return float(delay) if delay is not None else None


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


class RobotsCache:
    """robots.txt per origin, fetched through the caller's own (guarded) request function."""

    def __init__(self, fetch: RobotsFetch, agent: str) -> None:
        self._fetch = fetch
        self.agent = agent
        self._rules: dict[str, RobotsRules] = {}  # plain data, shared by every event loop
        self._pending: dict[tuple[int, str], asyncio.Future[RobotsRules]] = {}  # per loop and origin

    async def rules_for(self, url: str) -> RobotsRules:
        """The rules for ``url``'s origin, fetching robots.txt on first use."""
        origin = origin_of(url)
        known = self._rules.get(origin)
        if known is not None:
            return known
        loop = asyncio.get_running_loop()
        key = (id(loop), origin)
        future = self._pending.get(key)
        if future is not None:
            return await asyncio.shield(future)
        future = self._pending[key] = loop.create_future()
        try:
            rules = await self._load(origin)
        except BaseException as exc:  # a cancelled load must not leave waiters hanging
            future.set_exception(exc)
            future.exception()  # retrieved here; waiters, if any, get it too
            raise
        finally:
            self._pending.pop(key, None)
        self._rules[origin] = rules
        future.set_result(rules)
        return rules

    async def allowed(self, url: str) -> bool:
        """True when robots.txt lets Quarry fetch ``url``."""
        return (await self.rules_for(url)).allows(url, self.agent)

    async def _load(self, origin: str) -> RobotsRules:
        from tools.errors import ToolError

        try:
            status, text = await self._fetch(f"{origin}/robots.txt")
        except ToolError as exc:
            return RobotsRules(None, allow_all=False, reason=f"fetching it failed: {type(exc).__name__}")
        if 400 <= status < 500:
            return RobotsRules(None, allow_all=True, reason=f"no robots.txt ({status})")
        if status >= 500 or status < 200:
            return RobotsRules(None, allow_all=False, reason=f"it answered HTTP {status}")
        return RobotsRules(Protego.parse(text), allow_all=True)
