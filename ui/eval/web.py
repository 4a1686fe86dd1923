"""The loopback test web an evaluation researches: one realistic HTML page per title, and a search.

Guarantees: every distinct title over all items is one page at ``/wiki/<slug>`` (paragraphs of the
same title merged across items, identical ones once); slugs are URL-safe ASCII, unique, and the same
for the same items. Each page carries site chrome (a header with a nav bar, a sidebar with a
"Contents" box and "Random article" links, a "See also" list of the pages whose titles the article
mentions, a footer), and every string from the dataset is HTML-escaped; the site's own links are
relative paths. ``/`` lists pages, ``/robots.txt`` allows everything, ``/search?q=...&format=json``
answers in SearXNG's JSON shape ranked by BM25 (memory's ``BM25Index``: Snowball stems, English stop words)
over title and text, anything else is 404. The server binds only the given (loopback) address,
runs on daemon threads, speaks HTTP/1.1 with a Content-Length on every answer, and ``stop`` closes
its socket; ``url_for``/``title_for`` keep answering for the port it had after ``stop``, so a
run's folder can be scored once the web is down.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
import unicodedata
from collections.abc import Sequence
from html import escape
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from memory.retrieval import BM25Index, Tokenizer
from ui.eval.dataset import Item

SITE = "Quarrypedia"
MAX_SEE_ALSO = 10
SNIPPET_CHARS = 200
_WORD = re.compile(r"\w+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_CSS = ("body{font-family:sans-serif;margin:0}header,footer{background:#f6f6f6;padding:.5rem 1rem}"
        "nav ul{list-style:none;display:flex;gap:1rem;padding:0}.body{display:flex}"
        "aside{width:14rem;padding:1rem}main{flex:1;padding:1rem}")


def slugify(title: str) -> str:
    """A URL-safe ASCII slug for a title: its letters and digits, words joined by underscores."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[A-Za-z0-9]+", ascii_title)
    return "_".join(words)[:80].strip("_") or "page"


class _Visible(HTMLParser):
    """Collects the text a reader sees: everything outside ``<head>``, ``<script>`` and ``<style>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("head", "script", "style"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("head", "script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def _mentions(text: str, index: dict[str, list[tuple[tuple[str, ...], str]]]) -> list[str]:
    """Titles whose words occur, as whole words in a row, in ``text`` (case-insensitive), first mention first."""
    words = _WORD.findall(text.lower())
    found: dict[str, None] = {}
    for i, word in enumerate(words):
        for tokens, title in index.get(word, ()):
            if tuple(words[i:i + len(tokens)]) == tokens:
                found.setdefault(title)
    return list(found)


class EvalWeb:
    """A small encyclopedia of the items' pages, served on loopback while started."""

    def __init__(self, items: Sequence[Item], *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host, self._port = host, port
        paragraphs: dict[str, list[str]] = {}
        for item in items:
            for page in item.pages:
                parts = paragraphs.setdefault(page.title, [])
                parts.extend(p for p in page.text.split("\n\n") if p.strip() and p not in parts)
        self.titles: list[str] = list(paragraphs)
        self._text = {t: "\n\n".join(parts) for t, parts in paragraphs.items()}
        self._slug: dict[str, str] = {}
        self._by_slug: dict[str, str] = {}
        for title in self.titles:
            slug = slugify(title)
            if slug in self._by_slug:
                slug = f"{slug}_{hashlib.sha1(title.encode()).hexdigest()[:8]}"
            while slug in self._by_slug:  # a hash suffix that happens to be taken too
                slug += "_"
            self._slug[title], self._by_slug[slug] = slug, title
        self._by_lower = {slug.lower(): title for slug, title in self._by_slug.items()}
        index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for title in self.titles:
            tokens = tuple(_WORD.findall(title.lower()))
            if tokens:
                index.setdefault(tokens[0], []).append((tokens, title))
        self._see_also = {t: [m for m in _mentions(self._text[t], index) if m != t][:MAX_SEE_ALSO]
                          for t in self.titles}
        self._html: dict[str, str] = {}
        self._tokenize = Tokenizer()
        self._index = BM25Index(self._tokenize)  # thread-safe; ties are broken by page order
        self._index.add_many((t, f"{t}\n{self._text[t]}") for t in self.titles)
        self._server: ThreadingHTTPServer | None = None
        self._bound: int | None = None  # the port, kept after stop so URLs of a run can still be read
        self._thread: threading.Thread | None = None

    # -- serving ---------------------------------------------------------------------------------

    def start(self) -> EvalWeb:
        """Bind the loopback address and serve on a daemon thread; returns ``self``."""
        if self._server is None:
            server = ThreadingHTTPServer((self._host, self._port), _handler(self))
            server.daemon_threads = True
            self._server, self._bound = server, int(server.server_address[1])
            self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name="eval-web", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (a no-op when not started)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> EvalWeb:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def host_port(self) -> str:
        """``host:port`` of the server (still answered after ``stop``; an error before the first start)."""
        if self._bound is None:
            raise RuntimeError("the eval web is not started; call start() first")
        return f"{self._host}:{self._bound}"

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the server."""
        return f"http://{self.host_port}"

    # -- pages -----------------------------------------------------------------------------------

    def slug_for(self, title: str) -> str:
        """The page's slug (``KeyError`` for a title that is no page)."""
        return self._slug[title]

    def url_for(self, title: str) -> str:
        """The absolute URL of a page."""
        return f"{self.base_url}/wiki/{self._slug[title]}"

    def title_for(self, url: str) -> str | None:
        """The title of the page a URL of this web points at (fragment, query, trailing slash and
        percent-encoding ignored), else ``None``."""
        try:
            parts = urlsplit(str(url).strip())
        except ValueError:
            return None
        if parts.netloc:
            port = str(self._bound) if self._bound is not None else None
            host, _, url_port = parts.netloc.lower().rpartition(":")
            if port is None or url_port != port or host not in (self._host.lower(), "localhost", "127.0.0.1"):
                return None
        path = unquote(parts.path).rstrip("/")
        if not path.startswith("/wiki/"):
            return None
        key = path[len("/wiki/"):]
        return self._by_slug.get(key) or (key if key in self._slug else None) or self._by_lower.get(key.lower())

    def page_text(self, title: str) -> str:
        """The page's article text as the dataset gave it (paragraphs separated by blank lines)."""
        return self._text[title]

    def see_also(self, title: str) -> list[str]:
        """The titles the page's "See also" list links to."""
        return list(self._see_also[title])

    def page_html(self, title: str) -> str:
        """The HTML document served for a page."""
        html = self._html.get(title)
        if html is None:
            html = self._html[title] = self._render_page(title)
        return html

    def visible_text(self, title: str) -> str:
        """All text a reader of the served page sees (article and chrome), whitespace collapsed."""
        parser = _Visible()
        parser.feed(self.page_html(title))
        parser.close()
        return " ".join(" ".join(parser.parts).split())

    # -- search ----------------------------------------------------------------------------------

    def search(self, query: str, k: int = 10) -> list[dict[str, str]]:
        """The top ``k`` pages for a query by BM25 (ties in page order): title, url and a snippet."""
        if k < 1:
            return []
        hits = self._index.search(query, k)
        stems = set(self._tokenize(query))
        return [{"title": title, "url": self.url_for(title), "content": self._snippet(title, stems)}
                for title, _score in hits]

    def _snippet(self, title: str, stems: set[str]) -> str:
        sentences = [s for s in _SENTENCE.split(" ".join(self._text[title].split())) if s]
        if not sentences:
            return ""
        best = max(range(len(sentences)), key=lambda i: (len(stems & set(self._tokenize(sentences[i]))), -i))
        text = ""
        for sentence in sentences[best:]:
            text = f"{text} {sentence}".strip()
            if len(text) >= SNIPPET_CHARS:
                break
        return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + "…"

    # -- rendering -------------------------------------------------------------------------------

    def _link(self, title: str) -> str:
        return f'<a href="/wiki/{quote(self._slug[title])}">{escape(title)}</a>'

    def _random(self, seed: str, count: int = 3) -> list[str]:
        others = [t for t in self.titles if t != seed]
        return random.Random(seed).sample(others, min(count, len(others)))

    def _document(self, title: str, main: str, seed: str) -> str:
        picks = self._random(seed)
        random_href = f"/wiki/{quote(self._slug[picks[0]])}" if picks else "/"
        aside_links = "".join(f"<li>{self._link(t)}</li>" for t in picks)
        return (
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(title)} — {SITE}</title>"
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head>\n'
            f'<body><header><a class="site" href="/">{SITE}</a> <span>The free test encyclopedia</span>'
            f'<nav><ul><li><a href="/">Main page</a></li><li><a href="{random_href}">Random article</a></li>'
            f'<li><a href="/about">About {SITE}</a></li><li><a href="/about#help">Help</a></li></ul></nav>'
            f'<form action="/search" method="get"><input name="q" placeholder="Search {SITE}">'
            f"<button>Search</button></form></header>\n"
            f'<div class="body"><aside><nav class="toc"><h2>Contents</h2><ol><li><a href="#top">(Top)</a></li>'
            f'<li><a href="#article">Article</a></li><li><a href="#see-also">See also</a></li></ol></nav>'
            f"<h2>Random article</h2><ul>{aside_links}</ul></aside>\n"
            f"<main>{main}</main></div>\n"
            f"<footer><p>Text is available under the Creative Commons Attribution-ShareAlike License 4.0; "
            f"additional terms may apply.</p><p><a href=\"/about#privacy\">Privacy policy</a> · "
            f'<a href="/about">About {SITE}</a> · <a href="/about#disclaimer">Disclaimers</a></p>'
            f"<p>This site is a local evaluation web.</p></footer></body></html>\n"
        )

    def _render_page(self, title: str) -> str:
        paragraphs = "".join(f"<p>{escape(p)}</p>" for p in self._text[title].split("\n\n") if p.strip())
        also = self._see_also[title]
        see_also = ('<section id="see-also"><h2>See also</h2><ul>'
                    + "".join(f"<li>{self._link(t)}</li>" for t in also) + "</ul></section>") if also else ""
        # "See also" sits inside the article, as on Wikipedia, so extractors keep its links with the content
        main = f'<article id="article"><h1 id="top">{escape(title)}</h1>{paragraphs}{see_also}</article>'
        return self._document(title, main, title)

    def _home(self) -> str:
        links = "".join(f"<li>{self._link(t)}</li>" for t in self.titles[:20])
        main = (f'<article id="article"><h1 id="top">Welcome to {SITE}</h1><p>{SITE} holds '
                f"{len(self.titles)} articles.</p><ul>{links}</ul></article>")
        return self._document("Main page", main, "")

    def _about(self) -> str:
        main = (f'<article id="article"><h1 id="top">About {SITE}</h1><p id="help">{SITE} is a small '
                f"encyclopedia served on this computer for measuring research.</p><p id=\"privacy\">It "
                f'keeps no logs.</p><p id="disclaimer">Its articles come from a question-answering '
                f"data set.</p></article>")
        return self._document(f"About {SITE}", main, "about")

    def _results_page(self, query: str, results: list[dict[str, str]]) -> str:
        items = "".join(f'<li><a href="{escape(urlsplit(r["url"]).path)}">{escape(r["title"])}</a>'
                        f"<p>{escape(r['content'])}</p></li>" for r in results)
        main = f'<article id="article"><h1 id="top">Search results for {escape(query)}</h1><ol>{items}</ol></article>'
        return self._document("Search", main, query)

    def _respond(self, target: str) -> tuple[int, str, bytes]:
        """Status, content type and body for a request target."""
        parts = urlsplit(target)
        path = unquote(parts.path)
        html = "text/html; charset=utf-8"
        if path == "/":
            return 200, html, self._home().encode()
        if path == "/robots.txt":
            return 200, "text/plain; charset=utf-8", b"User-agent: *\nAllow: /\n"
        if path == "/about":
            return 200, html, self._about().encode()
        if path == "/search":
            return self._search_answer(parse_qs(parts.query))
        title = self.title_for(parts.path) if path.startswith("/wiki/") else None
        if title is not None:
            return 200, html, self.page_html(title).encode()
        main = '<article id="article"><h1 id="top">Not found</h1><p>There is no such page.</p></article>'
        return 404, html, self._document("Not found", main, "404").encode()

    def _search_answer(self, params: dict[str, list[str]]) -> tuple[int, str, bytes]:
        query = (params.get("q") or [""])[0]
        try:
            k = max(1, min(100, int((params.get("k") or ["10"])[0])))
        except ValueError:
            k = 10
        results = self.search(query, k) if query.strip() else []
        if (params.get("format") or [""])[0] == "json":
            body: dict[str, Any] = {"query": query, "number_of_results": len(results), "results": results}
            return 200, "application/json", json.dumps(body, ensure_ascii=False).encode()
        return 200, "text/html; charset=utf-8", self._results_page(query, results).encode()


def _handler(web: EvalWeb) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "QuarryEvalWeb/1"

        def do_GET(self) -> None:
            self._answer(send_body=True)

        def do_HEAD(self) -> None:
            self._answer(send_body=False)

        def _answer(self, *, send_body: bool) -> None:
            status, content_type, body = web._respond(self.path)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the eval has its own log
            return

    return Handler
