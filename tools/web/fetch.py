"""The fetcher: one shared async HTTP client that reads web pages safely and politely.

Guarantees: every URL and every redirect hop passes the network guard (``tools.web.guard``) and the
connection goes to an address the guard checked (``tools.web.pinned``); at most ``concurrency``
requests run at once and at most ``per_host`` per requested host; each page has connect and read
timeouts and an overall deadline (time spent queueing for a slot does not count); bodies are
streamed and cut at ``max_bytes`` after decompression (compression bombs stop at the cap); only
HTML, XHTML, plain text, Markdown and PDF are read, and text is decoded with the charset the bytes
really use; 429/502/503/504 are retried with backoff, honouring ``Retry-After`` up to a bound;
robots.txt is respected; responses are cached on disk (bounded, ``tools.web.http_cache``) and revalidated.
Failures raise ``RefusedURLError`` or ``FetchError`` (``tools.errors``) with a one-sentence message.
"""

from __future__ import annotations

import asyncio
import email.utils
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from tools.errors import FetchError, RefusedURLError, ToolError
from tools.events import EventSink, emit
from tools.types import FetchResult
from tools.web import body as bodies
from tools.web.fetch_options import FetchOptions
from tools.web.guard import AllowList, Resolver, acheck_url, split_url
from tools.web.http_cache import CacheEntry, HttpCache, freshness
from tools.web.pinned import PinnedTransport
from tools.web.robots import RobotsCache, origin_of

__all__ = ["FetchOptions", "Fetcher", "retry_after_seconds"]


RETRY_STATUSES = frozenset({429, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ROBOTS_AGENT = "Quarry"
_KEPT_HEADERS = ("content-type", "content-language", "last-modified", "etag", "cache-control", "link")


@dataclass
class _LoopState:
    """What belongs to one event loop: the client, its pinned transport and the slot semaphores."""

    loop: asyncio.AbstractEventLoop
    client: httpx.AsyncClient
    transport: PinnedTransport
    slots: asyncio.Semaphore
    per_host: int
    hosts: dict[str, asyncio.Semaphore] = field(default_factory=dict)
    next_request: dict[str, float] = field(default_factory=dict)  # per origin, for robots.txt Crawl-delay

    def host_slot(self, host: str) -> asyncio.Semaphore:
        if host not in self.hosts:
            self.hosts[host] = asyncio.Semaphore(self.per_host)
        return self.hosts[host]

    async def pace(self, origin: str, delay: float) -> None:
        """Wait for this origin's turn so requests start at least ``delay`` seconds apart."""
        now = time.monotonic()
        start = max(now, self.next_request.get(origin, 0.0))
        self.next_request[origin] = start + delay
        if start > now:
            await asyncio.sleep(start - now)


@dataclass
class _Body:
    data: bytes
    truncated: bool


class Fetcher:
    """Fetches pages through the guard with shared limits, retries, robots.txt and a disk cache."""

    def __init__(
        self,
        options: FetchOptions | None = None,
        *,
        resolver: Resolver | None = None,
        on_event: EventSink | None = None,
    ) -> None:
        self.options = options or FetchOptions()
        self._allow = AllowList.parse(self.options.allow)
        self._resolver = resolver
        self.on_event = on_event  # public: the research graph may attach its event sink later
        use_cache = self.options.use_cache and self.options.cache_dir is not None
        cache_dir = self.options.cache_dir
        self._cache = HttpCache(cache_dir, self.options.cache_limits()) if use_cache and cache_dir else None
        self._robots = RobotsCache(self._fetch_robots, ROBOTS_AGENT)
        self._states: dict[asyncio.AbstractEventLoop, _LoopState] = {}
        self._states_lock = threading.Lock()

    # ----------------------------------------------------------------- public API
    @property
    def cache(self) -> HttpCache | None:
        """The disk HTTP cache (None when caching is off): stats, prune, clear."""
        return self._cache

    async def fetch(self, url: str) -> FetchResult:
        """Fetch one URL; raises ``RefusedURLError`` or ``FetchError`` with a one-line reason."""
        try:
            _scheme, host, _port = split_url(url)
            cached = self._cache.get(url) if self._cache else None
            if cached is not None and cached[0].is_fresh():
                return self._emit_done(self._from_cache(url, *cached), url)
            state = self._ensure_state()
            async with state.host_slot(host), state.slots:
                started = time.monotonic()
                try:
                    async with asyncio.timeout(self.options.deadline_s):  # no extra task, unlike wait_for
                        result = await self._fetch(state, url, cached)
                except TimeoutError as exc:
                    raise FetchError(
                        f"Fetching {url} took longer than the {self.options.deadline_s:g} s deadline; "
                        "the site is too slow, try again later."
                    ) from exc
                result = _with_elapsed(result, time.monotonic() - started)
        except RefusedURLError as exc:
            self._emit("fetch_refused", url=url, error=str(exc))
            raise
        except FetchError as exc:
            self._emit("fetch_failed", url=url, error=str(exc))
            raise
        return self._emit_done(result, url)

    async def fetch_many(self, urls: Iterable[str]) -> list[FetchResult | ToolError]:
        """Fetch many URLs concurrently; each slot holds the result or the error for that URL."""

        async def one(url: str) -> FetchResult | ToolError:
            try:
                return await self.fetch(url)
            except ToolError as exc:
                return exc

        return list(await asyncio.gather(*(one(url) for url in urls)))

    async def aclose(self) -> None:
        """Close the client this event loop uses (each loop has its own) and its connections."""
        with self._states_lock:
            state = self._states.pop(asyncio.get_running_loop(), None)
        if state is not None:
            await state.client.aclose()

    def close(self) -> None:
        """Close every loop's client from synchronous code (``App.close``); finished loops are dropped."""
        with self._states_lock:
            states = list(self._states.values())
            self._states.clear()
        for state in states:
            if state.loop.is_closed():
                continue
            if state.loop.is_running():
                asyncio.run_coroutine_threadsafe(state.client.aclose(), state.loop)
            else:
                state.loop.run_until_complete(state.client.aclose())

    # ----------------------------------------------------------------- internals
    def _ensure_state(self) -> _LoopState:
        """This event loop's client and slots: loops (one per Runner thread) never share connections."""
        loop = asyncio.get_running_loop()
        with self._states_lock:
            state = self._states.get(loop)
            if state is None:
                for old in [known for known in self._states if known.is_closed()]:
                    del self._states[old]
                state = self._states[loop] = self._new_state(loop)
        return state

    def _new_state(self, loop: asyncio.AbstractEventLoop) -> _LoopState:
        o = self.options
        verify = httpx.create_ssl_context()
        if o.ca_file is not None:  # a private CA (intranet) on top of the public roots
            verify.load_verify_locations(cafile=str(o.ca_file))
        transport = PinnedTransport(max_connections=o.concurrency, max_keepalive=o.concurrency, verify=verify)
        timeout = httpx.Timeout(
            connect=o.connect_timeout_s, read=o.read_timeout_s, write=o.read_timeout_s, pool=o.deadline_s
        )
        headers = {"User-Agent": o.user_agent, "Accept": bodies.ACCEPT, "Accept-Encoding": bodies.ACCEPT_ENCODING}
        client = httpx.AsyncClient(
            transport=transport, timeout=timeout, headers=headers, follow_redirects=False, trust_env=False
        )
        return _LoopState(loop, client, transport, asyncio.Semaphore(o.concurrency), o.per_host)

    async def _fetch(
        self, state: _LoopState, url: str, cached: tuple[CacheEntry, bytes] | None
    ) -> FetchResult:
        attempt = 0
        while True:
            entry = cached[0] if cached else None
            response, final_url = await self._open(state, url, entry, check_robots=True)
            try:
                status = response.status_code
                if status == 304 and cached is not None:
                    return self._revalidated(url, *cached, response.headers)
                if status in RETRY_STATUSES and attempt < self.options.retries:
                    wait = self._retry_wait(url, status, response.headers, attempt)
                    self._emit("fetch_retry", url=url, status=status, wait_s=wait, attempt=attempt + 1)
                else:
                    return await self._read(url, final_url, response)
            finally:
                await response.aclose()
            await asyncio.sleep(wait)
            attempt += 1

    async def _open(
        self, state: _LoopState, url: str, entry: CacheEntry | None, *, check_robots: bool
    ) -> tuple[httpx.Response, str]:
        """Follow redirects hop by hop through the guard; returns the open (streaming) response."""
        current = url
        for _hop in range(self.options.max_redirects + 1):
            addresses = await acheck_url(current, self._allow, self._resolver)
            target = httpx.URL(current)
            state.transport.backend.pin(target.raw_host.decode("ascii"), _port(target), addresses)
            if check_robots and self.options.respect_robots:
                await self._check_robots(state, current)
            headers = entry.validators() if entry is not None and entry.final_url == current else {}
            try:
                request = state.client.build_request("GET", target, headers=headers)
                response = await state.client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                raise FetchError(f"{current} did not answer in time ({type(exc).__name__}); try again later.") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"Could not fetch {current}: {exc or type(exc).__name__}.") from exc
            location = response.headers.get("location")
            if response.status_code not in REDIRECT_STATUSES or not location:
                return response, current
            await response.aclose()
            try:
                current = str(target.join(location))
            except httpx.InvalidURL as exc:
                raise FetchError(f"{current} redirects to an invalid address {location!r}.") from exc
            self._emit("fetch_redirect", url=url, location=current)
        raise FetchError(f"{url} redirects more than {self.options.max_redirects} times; giving up.")

    async def _check_robots(self, state: _LoopState, url: str) -> None:
        rules = await self._robots.rules_for(url)
        if rules.allows(url, ROBOTS_AGENT):
            delay = rules.crawl_delay(ROBOTS_AGENT)
            if delay:
                await state.pace(origin_of(url), min(delay, self.options.max_crawl_delay_s))
            return
        if rules.parser is None:  # unreadable robots.txt: RFC 9309 says assume everything is disallowed
            raise RefusedURLError(
                f"Refused {url}: the site's robots.txt could not be read ({rules.reason}), so Quarry stays away."
            )
        raise RefusedURLError(f"Refused {url}: the site's robots.txt disallows it for Quarry.")

    def _retry_wait(self, url: str, status: int, headers: httpx.Headers, attempt: int) -> float:
        wait = self.options.backoff_s * (2**attempt)
        asked = retry_after_seconds(headers.get("retry-after"))
        if asked is not None:
            if asked > self.options.max_retry_after_s:
                raise FetchError(
                    f"{url} answered HTTP {status} and asks to wait {asked:.0f} s, longer than "
                    f"Quarry waits ({self.options.max_retry_after_s:g} s); try again later."
                )
            wait = max(asked, 0.0)
        return wait

    async def _read(self, url: str, final_url: str, response: httpx.Response) -> FetchResult:
        status = response.status_code
        if not 200 <= status < 300:
            raise FetchError(f"{final_url} answered HTTP {status} {response.reason_phrase}.".replace(" .", "."))
        header = response.headers.get("content-type")
        declared = (header or "").split(";", 1)[0].strip().lower()
        if declared and declared not in bodies.ALLOWED_TYPES and not bodies.is_generic(declared):
            raise FetchError(f"{final_url} is {declared}, not a page Quarry reads (HTML, text, Markdown or PDF).")
        data = await self._read_body(final_url, response, self.options.max_bytes)
        kind = bodies.media_type(header, data.data, final_url)
        if kind in bodies.TEXT_TYPES and data.data.startswith(b"%PDF-"):
            kind = bodies.PDF_TYPE  # a PDF mislabelled as a page is still a PDF
        if kind not in bodies.ALLOWED_TYPES:
            raise FetchError(f"{final_url} is {kind}, not a page Quarry reads (HTML, text, Markdown or PDF).")
        if kind == bodies.PDF_TYPE and data.truncated:
            raise FetchError(f"{final_url} is a PDF larger than the {self.options.max_bytes}-byte cap.")
        try:
            text = self._decode(final_url, kind, data.data, header)
        except FetchError as exc:
            if data.truncated and response.headers.get("content-encoding"):
                raise FetchError(
                    f"{final_url} inflates past the {self.options.max_bytes}-byte cap into binary data "
                    "(a compression bomb); it was not read."
                ) from exc
            raise
        headers = {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
        now = time.time()
        result = FetchResult(
            url=url, final_url=final_url, status=status, content_type=kind, body=data.data, text=text,
            fetched_at=_iso(now), headers=headers, truncated=data.truncated,
        )
        self._store(result, now)
        return result

    async def _read_body(self, url: str, response: httpx.Response, limit: int) -> _Body:
        inflater = bodies.Inflater(response.headers.get("content-encoding", ""), limit)
        parts: list[bytes] = []
        try:
            async for chunk in response.aiter_raw():
                parts.append(inflater.feed(chunk))
                if inflater.exceeded:
                    self._emit("fetch_truncated", url=url, max_bytes=limit)
                    break
        except httpx.TimeoutException as exc:
            raise FetchError(f"{url} stopped sending data ({type(exc).__name__}); try again later.") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"The connection to {url} failed while reading: {exc}.") from exc
        return _Body(b"".join(parts), inflater.exceeded)

    @staticmethod
    def _decode(url: str, kind: str, data: bytes, header: str | None) -> str | None:
        if kind == bodies.PDF_TYPE:
            if not data.lstrip()[:5] == b"%PDF-":
                raise FetchError(f"{url} is labelled PDF but its content is not a PDF.")
            return None
        try:
            return bodies.decode_text(data, header)[0]
        except FetchError as exc:
            raise FetchError(f"{url} is labelled {kind} but its content is binary data, not text.") from exc

    def _store(self, result: FetchResult, now: float) -> None:
        if self._cache is None or result.status != 200:
            return
        lower = {k.lower(): v for k, v in result.headers.items()}
        storable, fresh_until = freshness(lower, now)
        if not storable or not (fresh_until > now or "etag" in lower or "last-modified" in lower):
            return  # nothing could ever be served from this entry
        entry = CacheEntry(
            url=result.url, final_url=result.final_url, status=result.status,
            content_type=result.content_type, headers=result.headers, stored_at=now, fresh_until=fresh_until,
            etag=lower.get("etag"), last_modified=lower.get("last-modified"),
            extra={"truncated": result.truncated},
        )
        self._cache.put(entry, result.body)

    def _revalidated(self, url: str, entry: CacheEntry, body: bytes, headers: httpx.Headers) -> FetchResult:
        self._emit("fetch_revalidated", url=url)
        now = time.time()
        _storable, fresh_until = freshness({k.lower(): v for k, v in headers.items()}, now)
        if self._cache is not None:
            entry = self._cache.touch(entry, fresh_until, body)
        return self._from_cache(url, entry, body)

    def _from_cache(self, url: str, entry: CacheEntry, body: bytes) -> FetchResult:
        header = entry.headers.get("content-type") or entry.headers.get("Content-Type")
        text = self._decode(entry.final_url, entry.content_type, body, header)
        return FetchResult(
            url=url, final_url=entry.final_url, status=entry.status, content_type=entry.content_type,
            body=body, text=text, fetched_at=_iso(entry.stored_at), from_cache=True, headers=dict(entry.headers),
            truncated=bool(entry.extra.get("truncated", False)),
        )

    async def _fetch_robots(self, robots_url: str) -> tuple[int, str]:
        state = self._ensure_state()
        response, final_url = await self._open(state, robots_url, None, check_robots=False)
        try:
            if not 200 <= response.status_code < 300:
                return response.status_code, ""
            data = await self._read_body(final_url, response, self.options.robots_max_bytes)
        finally:
            await response.aclose()
        return response.status_code, data.data.decode("utf-8", errors="replace")

    def _emit(self, kind: str, **fields: Any) -> None:
        emit(self.on_event, {"type": kind, "ts": time.time(), **fields})

    def _emit_done(self, result: FetchResult, url: str) -> FetchResult:
        self._emit(
            "fetch_done", url=url, final_url=result.final_url, status=result.status, bytes=len(result.body),
            from_cache=result.from_cache, elapsed_s=round(result.elapsed_s, 4),
        )
        return result


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date), if parseable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - time.time())


def _port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds")


def _with_elapsed(result: FetchResult, elapsed: float) -> FetchResult:
    from dataclasses import replace

    return replace(result, elapsed_s=elapsed)
