"""The fixture web's HTTP machinery: value types, the threaded server, its request handler and routes.

Guarantees: every request is logged before it is answered; handlers never raise into the server
(clients hanging up early are expected); slow and streaming routes give up as soon as the fixture
web stops. The pages themselves and the public API live in ``tests.fixture_web``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from tests import fixture_pages as fp

if TYPE_CHECKING:
    from tests.fixture_web import FixtureWeb

@dataclass(frozen=True)
class Page:
    """A static page: body bytes, headers and an optional latency of its own."""

    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    latency: float | None = None
    searchable: bool = True


@dataclass(frozen=True)
class Request:
    """One request the fixture web received."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    ts: float


_TAG = re.compile(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", re.S | re.I)
_TITLE = re.compile(r"<title>(.*?)</title>", re.S | re.I)
LAST_MODIFIED = "Wed, 01 May 2024 10:00:00 GMT"


def text_of(html_bytes: bytes) -> tuple[str, str]:
    """(title, plain text) of an HTML page, for the search index."""
    text = html_bytes.decode("utf-8", errors="replace")
    title = _TITLE.search(text)
    plain = re.sub(r"\s+", " ", _TAG.sub(" ", text)).strip()
    return (title.group(1).strip() if title else ""), plain


Handler = Callable[[Request, bytes], Page]

class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up early (timeouts, size caps) are expected here, not errors."""
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


Route = Callable[["_Handler", dict[str, list[str]], list[str]], None]


def json_page(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Page:
    """A JSON response for ``add_handler`` stand-ins."""
    return Page(json.dumps(payload).encode(), "application/json", status, dict(headers or {}), searchable=False)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "QuarryFixtureWeb/1.0"
    disable_nagle_algorithm = True  # headers and body go out as two writes; Nagle would delay the second

    def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr log
        return

    @property
    def web(self) -> FixtureWeb:
        return self.server.web  # type: ignore[attr-defined]

    def do_CONNECT(self) -> None:
        self._record()
        self._send(403, b"the fixture web is not a proxy", "text/plain")
        self.close_connection = True

    def do_GET(self) -> None:
        self.web._enter(1)
        try:
            self._get()
        finally:
            self.web._enter(-1)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = self._record()
        handler = self.web.handlers.get(urlsplit(self.path).path)
        if handler is None:
            self._send(405, b"method not allowed", "text/plain")
            return
        page = handler(request, body)
        self._send(page.status, page.body, page.content_type, page.headers)

    def _get(self) -> None:
        parts = urlsplit(self.path)
        request = self._record()
        page = self.web.pages.get(parts.path)
        delay = page.latency if page is not None and page.latency is not None else self.web.latency
        if delay and self.web._closing.wait(delay):
            return
        handler = self.web.handlers.get(parts.path)
        if handler is not None:
            page = handler(request, b"")
            self._send(page.status, page.body, page.content_type, page.headers)
            return
        query = parse_qs(parts.query)
        segments = [s for s in parts.path.split("/") if s]
        route = _ROUTES.get(segments[0] if segments else "")
        if page is not None:
            self._send(page.status, page.body, page.content_type, page.headers)
        elif route is not None:
            route(self, query, segments[1:])
        else:
            self._send(404, b"<html><body><h1>Not found</h1></body></html>", "text/html; charset=utf-8")

    def _record(self) -> Request:
        parts = urlsplit(self.path)
        path = self.path if self.command == "CONNECT" else parts.path
        request = Request(self.command, path, parts.query, dict(self.headers.items()), time.time())
        self.web._record(request)
        return request

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _redirect(self, location: str, status: int = 302) -> None:
        self._send(status, b"", "text/html", {"Location": location})

    def _stream(self, content_type: str, chunks: Iterator[bytes], headers: dict[str, str] | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            for chunk in chunks:
                if self.web._closing.is_set():
                    break
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):  # the client stopped reading: expected here
            pass
        self.close_connection = True


def _num(query: dict[str, list[str]], name: str, default: float) -> float:
    try:
        return float(query.get(name, [default])[0])
    except ValueError:
        return default


def _first_article() -> str:
    return fp.article_path(fp.ARTICLES[0].slug)


def _route_search(h: _Handler, query: dict[str, list[str]], _rest: list[str]) -> None:
    q = query.get("q", [""])[0]
    if query.get("format", ["html"])[0] != "json":
        h._send(403, b"format not enabled", "text/plain")
        return
    results = h.web.search(q, k=int(_num(query, "count", 10)))
    payload = {"query": q, "number_of_results": len(results), "results": results, "answers": [],
               "corrections": [], "infoboxes": [], "suggestions": [], "unresponsive_engines": []}
    h._send(200, json.dumps(payload).encode(), "application/json")


def _route_redirect(h: _Handler, query: dict[str, list[str]], rest: list[str]) -> None:
    kind = rest[0] if rest else ""
    if kind == "to":
        h._redirect("/" + "/".join(rest[1:]))
    elif kind == "chain":
        n = int(rest[1]) if len(rest) > 1 and rest[1].isdigit() else 1
        h._redirect(f"/redirect/chain/{n - 1}" if n > 1 else _first_article(), 301)
    elif kind == "loop":
        h._redirect("/redirect/loop")
    elif kind == "file":
        h._redirect("file:///etc/passwd")
    elif kind == "private":
        h._redirect("http://10.0.0.1/admin")
    elif kind == "metadata":
        h._redirect("http://169.254.169.254/latest/meta-data/")
    else:
        h._send(404, b"unknown redirect", "text/plain")


def _route_slow(h: _Handler, query: dict[str, list[str]], _rest: list[str]) -> None:
    if h.web._closing.wait(_num(query, "s", 30.0)):
        return
    h._send(200, b"<html><body><p>Finally.</p></body></html>", "text/html; charset=utf-8")


def _route_trickle(h: _Handler, _query: dict[str, list[str]], _rest: list[str]) -> None:
    def drip() -> Iterator[bytes]:
        yield b"<html><body><p>"
        for _ in range(300):
            if h.web._closing.wait(0.2):
                return
            yield b"."

    h._stream("text/html; charset=utf-8", drip())


def _route_huge(h: _Handler, query: dict[str, list[str]], _rest: list[str]) -> None:
    megabytes = int(_num(query, "mb", 20))
    line = b"<p>" + b"All work and no play makes a huge page. " * 25 + b"</p>\n"
    chunk = line * ((1 << 20) // len(line))
    h._stream("text/html; charset=utf-8", (chunk for _ in range(megabytes)))


def _route_bomb(kind: str) -> Route:
    def route(h: _Handler, query: dict[str, list[str]], _rest: list[str]) -> None:
        megabytes = int(_num(query, "mb", 1024 if kind == "gzip" else 256))
        body = h.web.bomb(kind, megabytes)
        h._send(200, body, "text/html; charset=utf-8", {"Content-Encoding": kind if kind == "gzip" else "br"})

    return route


def _route_retry(h: _Handler, query: dict[str, list[str]], rest: list[str]) -> None:
    code = rest[0] if rest else "429"
    count = h.web._count("/retry/" + "/".join(rest))
    failures = int(_num(query, "times", 1))
    if count <= failures:
        headers = {"Retry-After": str(int(_num(query, "after", 1)))} if code == "429" else {}
        h._send(int(code), b"try again", "text/plain", headers)
    else:
        h._send(200, fp.article_html(fp.ARTICLES[1]).encode(), "text/html; charset=utf-8")


def _route_always_429(h: _Handler, query: dict[str, list[str]], _rest: list[str]) -> None:
    h._send(429, b"slow down", "text/plain", {"Retry-After": str(int(_num(query, "after", 3600)))})


def _route_status(h: _Handler, _query: dict[str, list[str]], rest: list[str]) -> None:
    code = int(rest[0]) if rest and rest[0].isdigit() else 500
    h._send(code, f"status {code}".encode(), "text/plain")


def _route_error(h: _Handler, _query: dict[str, list[str]], _rest: list[str]) -> None:
    h._send(500, b"<html><body>Internal Server Error</body></html>", "text/html")


def _route_cached(h: _Handler, _query: dict[str, list[str]], rest: list[str]) -> None:
    kind = rest[0] if rest else ""
    body = fp.article_html(fp.ARTICLES[2]).encode()
    ctype = "text/html; charset=utf-8"
    if kind == "etag":
        headers = {"ETag": '"v1"', "Cache-Control": "no-cache"}
        if h.headers.get("If-None-Match") == '"v1"':
            h._send(304, b"", ctype, headers)
            return
    elif kind == "last-modified":
        headers = {"Last-Modified": LAST_MODIFIED}
        if h.headers.get("If-Modified-Since") == LAST_MODIFIED:
            h._send(304, b"", ctype, headers)
            return
    else:
        headers = {"Cache-Control": "max-age=3600"}
    h._send(200, body, ctype, headers)


_ROUTES: dict[str, Route] = {
    "search": _route_search, "redirect": _route_redirect, "slow": _route_slow, "trickle": _route_trickle,
    "huge": _route_huge, "gzip-bomb": _route_bomb("gzip"), "brotli-bomb": _route_bomb("brotli"),
    "retry": _route_retry, "always-429": _route_always_429, "status": _route_status, "error": _route_error,
    "cached": _route_cached,
}
