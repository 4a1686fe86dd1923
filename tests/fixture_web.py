"""A loopback fixture web: a threaded HTTP server on 127.0.0.1 (ephemeral port) for tests and benches.

Use the pytest fixture ``fixture_web`` (function-scoped, started and stopped around a test) or run it
standalone: ``python -m tests.fixture_web [--port 8765] [--latency 0.1] [--generated 200]``.
Fetch it through the guard with ``FetchOptions(allow=("127.0.0.1",))``. The server machinery (handler,
routes) lives in ``tests.fixture_server``; the content in ``tests.fixture_pages``.

API: ``FixtureWeb(pages=None, *, latency=0.0, defaults=True, tls=None)`` (``tls``: a server-side
``ssl.SSLContext`` to serve HTTPS); ``.start()``/``.stop()`` (or ``with``);
``.base_url``, ``.host``, ``.port``, ``.url(path)``; ``.requests`` (list of ``Request``: method, path,
query, headers, ts); ``.hits(path)``; ``.max_in_flight`` (most requests answered at once);
``.set_latency(seconds)`` (every request waits that long before answering);
``.stall_pages(seconds, but=())`` (every page but those answers after ``seconds``; returns the pages as
they were, for ``.restore_pages``: keeps a run mid-search as long as a test needs);
``.add_page(path, body, content_type="text/html; charset=utf-8", *, status=200, headers=None,
latency=None, searchable=True)``; ``.add_handler(path, fn)`` (``fn(request, body) -> Page`` answers
GET and POST there: API stand-ins); ``.add_generated(n) -> list[path]`` (filler articles at
``/gen/<i>.html`` linking to their neighbours); ``.search(query, k)`` (what /search answers).
``pages=`` takes ``{path: html_str | bytes | Page}``.

Pages served by default (all paths absolute):
  /                           home page listing the articles
  /articles/<slug>.html       five articles on perovskite solar cells (tests.fixture_pages.ARTICLES) with
                              nav, cookie banner, JSON-LD, related links, an ad and a footer
  /injection.html             an article whose text says "Ignore previous instructions…" (also hidden)
  /notes.md, /plain.txt       Markdown and plain text; /page.xhtml application/xhtml+xml
  /report.pdf                 a 2-page PDF with one line of text per page (fixture_pages.PDF_PAGES)
  /image.png                  a PNG (a content type the fetcher refuses)
  /binary.html                random bytes labelled text/html
  /charset/lying.html         header says utf-8, body is windows-1252 ("Café crème — naïve façade")
  /charset/meta.html          no charset in the header, <meta charset="windows-1251">, Russian text
  /charset/utf8-as-latin1.html  header says iso-8859-1, body is UTF-8 ("Zürich Straße")
  /robots.txt                 disallows /private/ for every agent; /private/secret.html exists
  /search?q=...&format=json   SearXNG-compatible JSON search over the searchable pages
  /redirect/to/<path>         302 to /<path>;  /redirect/chain/<n>: n hops, then the first article
  /redirect/loop              redirects to itself;  /redirect/file: to file:///etc/passwd
  /redirect/private           302 to http://10.0.0.1/admin;  /redirect/metadata: to 169.254.169.254
  /slow?s=N                   waits N seconds (default 30) before answering
  /trickle                    sends its body one byte every 0.2 s for a minute (beats read timeouts)
  /huge?mb=N                  N MiB (default 20) of HTML, chunked, no Content-Length
  /gzip-bomb?mb=N             gzip body inflating to N MiB (default 1024) of zeros, labelled text/html
  /brotli-bomb?mb=N           the same with brotli (default 256 MiB)
  /retry/429/<key>?after=S    429 with Retry-After: S (default 1) on the first request per key, then 200
  /retry/503/<key>?times=N    503 for the first N requests per key (default 1), then 200
  /always-429?after=S         always 429 with Retry-After: S (default 3600)
  /error/500                  always 500;  /status/<code>: that status
  /cached/etag                ETag "v1" + Cache-Control: no-cache; answers 304 to If-None-Match "v1"
  /cached/last-modified       Last-Modified date; answers 304 to If-Modified-Since
  /cached/fresh               Cache-Control: max-age=3600
  /empty.html                 200 with an empty body
  /gen/<i>.html               only after ``add_generated(n)`` (or ``--generated N``)
A CONNECT request (someone using the fixture web as a proxy, as the ddgs test does) gets 403.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests import fixture_pages as fp
from tests.fixture_server import (
    LAST_MODIFIED,
    Handler,
    Page,
    Request,
    _Handler,
    _Server,
    json_page,
    text_of,
)

__all__ = ["LAST_MODIFIED", "FixtureWeb", "Handler", "Page", "Request", "fixture_web", "json_page"]

_WORD = re.compile(r"\w+")


class FixtureWeb:
    """The server, its pages and its request log (see the module docstring for the pages)."""

    def __init__(self, pages: dict[str, str | bytes | Page] | None = None, *, latency: float = 0.0,
                 defaults: bool = True, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls  # a server-side context: serve HTTPS instead of HTTP
        self.pages: dict[str, Page] = {}
        self.requests: list[Request] = []
        self.latency = latency
        self.counters: dict[str, int] = {}
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests being answered at once since start
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._bombs: dict[tuple[str, int], bytes] = {}
        self.handlers: dict[str, Handler] = {}
        if defaults:
            self._add_defaults()
        for path, page in (pages or {}).items():
            self.add_page(path, page)

    # ------------------------------------------------------------ lifecycle and addresses
    def start(self) -> FixtureWeb:
        """Start serving on an ephemeral port of 127.0.0.1 (or the port given to ``serve``)."""
        return self.serve(0)

    def serve(self, port: int) -> FixtureWeb:
        """Start serving on ``port`` (0: ephemeral) in a daemon thread."""
        server = _Server(("127.0.0.1", port), _Handler)
        if self.tls is not None:
            server.socket = self.tls.wrap_socket(server.socket, server_side=True)
        server.daemon_threads = True
        server.request_queue_size = 256
        server.web = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; slow handlers still running give up promptly."""
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FixtureWeb:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        """The server's IP address (always 127.0.0.1)."""
        return "127.0.0.1"

    @property
    def port(self) -> int:
        """The server's port."""
        assert self._server is not None, "the fixture web is not running"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (``https`` when serving TLS)."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        """The absolute URL of ``path``."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # ------------------------------------------------------------ pages
    def set_latency(self, seconds: float) -> None:
        """Make every request wait ``seconds`` before it is answered."""
        self.latency = seconds

    def stall_pages(self, seconds: float, *, but: tuple[str, ...] = ()) -> dict[str, Page]:
        """Make every page except ``but`` and robots.txt answer after ``seconds``; returns them as they were."""
        before = dict(self.pages)
        for path, page in before.items():
            if path not in (*but, "/robots.txt"):
                self.pages[path] = dataclasses.replace(page, latency=seconds)
        return before

    def restore_pages(self, pages: dict[str, Page]) -> None:
        """Serve ``pages`` (what ``stall_pages`` returned) again."""
        self.pages.update(pages)

    def add_page(self, path: str, body: str | bytes | Page, content_type: str = "text/html; charset=utf-8",
                 *, status: int = 200, headers: dict[str, str] | None = None, latency: float | None = None,
                 searchable: bool = True) -> str:
        """Serve ``body`` at ``path``; returns the path."""
        if isinstance(body, Page):
            page = body
        else:
            data = body.encode("utf-8") if isinstance(body, str) else body
            page = Page(data, content_type, status, dict(headers or {}), latency, searchable)
        self.pages[path] = page
        return path

    def add_handler(self, path: str, handler: Handler) -> str:
        """Answer GET and POST at ``path`` with ``handler(request, body) -> Page`` (API stand-ins)."""
        self.handlers[path] = handler
        return path

    def add_generated(self, n: int) -> list[str]:
        """Add ``n`` filler articles at ``/gen/<i>.html``; returns their paths."""
        return [self.add_page(f"/gen/{i}.html", fp.generated_page(i, n), searchable=False) for i in range(n)]

    def hits(self, path: str) -> int:
        """How many requests reached ``path`` (query string ignored)."""
        with self._lock:
            return sum(1 for r in self.requests if r.path == path)

    def search(self, query: str, k: int = 10) -> list[dict[str, Any]]:
        """Searchable pages ranked by query-term frequency (title terms count triple)."""
        terms = [t.lower() for t in _WORD.findall(query) if len(t) > 2]
        scored: list[tuple[float, str, str, str]] = []
        for path, page in list(self.pages.items()):
            if not page.searchable or not page.content_type.startswith("text/html"):
                continue
            title, text = text_of(page.body)
            low_title, low_text = title.lower(), text.lower()
            score = sum(low_text.count(t) + 3 * low_title.count(t) for t in terms)
            if score:
                first = min((low_text.find(t) for t in terms if t in low_text), default=0)
                snippet = text[max(0, first - 60): first + 200]
                scored.append((score, path, title, snippet))
        scored.sort(key=lambda s: (-s[0], s[1]))
        return [
            {"url": self.url(path), "title": title, "content": snippet, "engine": "fixture",
             "engines": ["fixture"], "score": float(score), "category": "general", "positions": [rank]}
            for rank, (score, path, title, snippet) in enumerate(scored[:k], start=1)
        ]

    def bomb(self, kind: str, megabytes: int) -> bytes:
        """A cached gzip or brotli bomb of ``megabytes`` MiB."""
        key = (kind, megabytes)
        if key not in self._bombs:
            make = fp.gzip_bomb if kind == "gzip" else fp.brotli_bomb
            self._bombs[key] = make(megabytes)
        return self._bombs[key]

    def _count(self, key: str) -> int:
        with self._lock:
            self.counters[key] = self.counters.get(key, 0) + 1
            return self.counters[key]

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _enter(self, delta: int) -> None:
        with self._lock:
            self.in_flight += delta
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _add_defaults(self) -> None:
        self.add_page("/", fp.index_html())
        for article in fp.ARTICLES:
            self.add_page(fp.article_path(article.slug), fp.article_html(article))
        self.add_page("/injection.html", fp.injection_html())
        self.add_page("/notes.md", "# Field notes\n\n- Perovskite cells are cheap to print.\n", "text/markdown")
        self.add_page("/plain.txt", "Plain text notes about tandem cells.\n", "text/plain; charset=utf-8")
        self.add_page("/page.xhtml", '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/'
                      'xhtml"><head><title>XHTML page</title></head><body><p>Strict markup.</p></body></html>',
                      "application/xhtml+xml")
        self.add_page("/report.pdf", fp.make_pdf(fp.PDF_PAGES), "application/pdf")
        self.add_page("/image.png", fp.PNG_1PX, "image/png")
        self.add_page("/binary.html", fp.binary_blob(), "text/html", searchable=False)
        lying = "<html><head><title>Café</title></head><body><p>Café crème — naïve façade</p></body></html>"
        self.add_page("/charset/lying.html", lying.encode("cp1252"), "text/html; charset=utf-8")
        russian = ('<html><head><meta charset="windows-1251"><title>Солнце</title></head>'
                   "<body><p>Солнечные элементы на основе перовскита</p></body></html>")
        self.add_page("/charset/meta.html", russian.encode("cp1251"), "text/html")
        zurich = "<html><head><title>Zürich</title></head><body><p>Zürich Straße</p></body></html>"
        self.add_page("/charset/utf8-as-latin1.html", zurich.encode("utf-8"), "text/html; charset=iso-8859-1")
        self.add_page("/robots.txt", "User-agent: *\nDisallow: /private/\n", "text/plain")
        self.add_page("/private/secret.html", "<html><body><p>Robots may not read this.</p></body></html>",
                      searchable=False)
        self.add_page("/empty.html", b"", searchable=False)


@pytest.fixture
def fixture_web() -> Iterator[FixtureWeb]:
    """A running fixture web with the default pages (stopped after the test)."""
    web = FixtureWeb().start()
    try:
        yield web
    finally:
        web.stop()


def main() -> None:
    """Serve the fixture web until interrupted."""
    parser = argparse.ArgumentParser(description="Serve Quarry's loopback fixture web.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds every request waits")
    parser.add_argument("--generated", type=int, default=0, help="add N filler pages at /gen/<i>.html")
    args = parser.parse_args()
    web = FixtureWeb(latency=args.latency)
    web.add_generated(args.generated)
    web.serve(args.port)
    print(f"fixture web at {web.base_url} (Ctrl-C stops it)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        web.stop()


if __name__ == "__main__":
    main()
