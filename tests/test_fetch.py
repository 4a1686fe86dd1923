"""The fetcher against the loopback fixture web: every pathology has a clear, bounded outcome."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixture_pages import ARTICLES, INJECTION_TEXT, PDF_PAGES, article_path
from tests.fixture_web import FixtureWeb
from tools.errors import FetchError, RefusedURLError, ToolError
from tools.types import FetchResult
from tools.web.fetch import Fetcher, FetchOptions, retry_after_seconds


def _options(**overrides: Any) -> FetchOptions:
    base: dict[str, Any] = {
        "allow": ("127.0.0.1",), "deadline_s": 5.0, "read_timeout_s": 2.0, "connect_timeout_s": 2.0,
        "backoff_s": 0.05, "max_retry_after_s": 5.0, "use_cache": False,
    }
    base.update(overrides)
    return FetchOptions(**base)


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    f = Fetcher(_options())
    yield f
    await f.aclose()


async def test_article_is_fetched_with_metadata(fixture_web: FixtureWeb, fetcher: Fetcher) -> None:
    url = fixture_web.url(article_path(ARTICLES[0].slug))
    result = await fetcher.fetch(url)
    assert result.status == 200
    assert result.content_type == "text/html"
    assert result.final_url == url
    assert result.text is not None and "Tsutomu Miyasaka" in result.text
    assert result.fetched_at.endswith("+00:00")
    assert not result.from_cache and not result.truncated


async def test_user_agent_names_quarry(fixture_web: FixtureWeb, fetcher: Fetcher) -> None:
    await fetcher.fetch(fixture_web.url("/"))
    agents = {r.headers.get("User-Agent", "") for r in fixture_web.requests}
    assert agents and all(agent.startswith("Quarry/") for agent in agents)


@pytest.mark.parametrize(
    ("path", "kind", "needle"),
    [
        ("/notes.md", "text/markdown", "# Field notes"),
        ("/plain.txt", "text/plain", "tandem cells"),
        ("/page.xhtml", "application/xhtml+xml", "Strict markup"),
    ],
)
async def test_allowed_text_types(fixture_web: FixtureWeb, fetcher: Fetcher, path: str, kind: str, needle: str) -> None:
    result = await fetcher.fetch(fixture_web.url(path))
    assert result.content_type == kind
    assert result.text is not None and needle in result.text


async def test_pdf_body_is_kept_without_text(fixture_web: FixtureWeb, fetcher: Fetcher) -> None:
    result = await fetcher.fetch(fixture_web.url("/report.pdf"))
    assert result.content_type == "application/pdf"
    assert result.body.startswith(b"%PDF-") and result.text is None
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(result.body))
    assert [p.extract_text().strip() for p in reader.pages] == PDF_PAGES


async def test_disallowed_content_type_is_refused_before_download(fixture_web: FixtureWeb, fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="image/png, not a page Quarry reads"):
        await fetcher.fetch(fixture_web.url("/image.png"))


async def test_binary_labelled_html_is_an_error(fixture_web: FixtureWeb, fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="binary data"):
        await fetcher.fetch(fixture_web.url("/binary.html"))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/charset/lying.html", "Café crème — naïve façade"),
        ("/charset/meta.html", "Солнечные элементы на основе перовскита"),
        ("/charset/utf8-as-latin1.html", "Zürich Straße"),
    ],
)
async def test_charset_that_lies_is_detected(
    fixture_web: FixtureWeb, fetcher: Fetcher, path: str, expected: str
) -> None:
    result = await fetcher.fetch(fixture_web.url(path))
    assert result.text is not None and expected in result.text


async def test_slow_page_hits_the_read_timeout(fixture_web: FixtureWeb) -> None:
    f = Fetcher(_options(read_timeout_s=0.3, deadline_s=30.0))
    with pytest.raises(FetchError, match="did not answer in time"):  # the read timeout, not the deadline
        await f.fetch(fixture_web.url("/slow?s=20"))
    await f.aclose()


async def test_trickling_page_hits_the_overall_deadline(fixture_web: FixtureWeb) -> None:
    f = Fetcher(_options(read_timeout_s=2.0, deadline_s=0.8))
    with pytest.raises(FetchError, match="deadline"):  # each byte beats the read timeout; the deadline ends it
        await f.fetch(fixture_web.url("/trickle"))
    await f.aclose()


async def test_huge_page_is_cut_at_the_cap(fixture_web: FixtureWeb) -> None:
    f = Fetcher(_options(max_bytes=1_000_000))
    tracemalloc.start()
    try:
        result = await f.fetch(fixture_web.url("/huge?mb=40"))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.truncated and len(result.body) == 1_000_000
    assert peak < 10_000_000  # the cap and a few buffers (server included), never the 40 MiB page
    await f.aclose()


@pytest.mark.parametrize("path", ["/gzip-bomb?mb=512", "/brotli-bomb?mb=64"])
async def test_compression_bombs_stop_at_the_cap(fixture_web: FixtureWeb, path: str) -> None:
    f = Fetcher(_options(max_bytes=2_000_000))
    fixture_web.bomb("gzip" if "gzip" in path else "brotli", 512 if "gzip" in path else 64)  # build outside the trace
    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match="compression bomb"):
            await f.fetch(fixture_web.url(path))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000  # a few copies of the 2 MB cap, never the inflated size
    await f.aclose()


async def test_robots_txt_is_respected_and_fetched_once(fixture_web: FixtureWeb, fetcher: Fetcher) -> None:
    with pytest.raises(RefusedURLError, match=r"robots\.txt"):
        await fetcher.fetch(fixture_web.url("/private/secret.html"))
    await fetcher.fetch(fixture_web.url("/"))
    await fetcher.fetch(fixture_web.url("/plain.txt"))
    assert fixture_web.hits("/private/secret.html") == 0
    assert fixture_web.hits("/robots.txt") == 1


async def test_robots_can_be_ignored_by_option(fixture_web: FixtureWeb) -> None:
    f = Fetcher(_options(respect_robots=False))
    result = await f.fetch(fixture_web.url("/private/secret.html"))
    assert result.text is not None and "Robots may not read this" in result.text
    assert fixture_web.hits("/robots.txt") == 0
    await f.aclose()


async def test_unreachable_robots_txt_disallows_the_site(fixture_web: FixtureWeb, fetcher: Fetcher) -> None:
    fixture_web.add_page("/robots.txt", "oops", "text/plain", status=503)
    with pytest.raises(RefusedURLError, match=r"robots\.txt could not be read \(it answered HTTP 503\)"):
        await fetcher.fetch(fixture_web.url("/"))


async def test_missing_robots_txt_allows_everything(fixture_web: FixtureWeb, fetcher: Fetcher) -> None:
    del fixture_web.pages["/robots.txt"]
    result = await fetcher.fetch(fixture_web.url("/private/secret.html"))
    assert result.status == 200


async def test_429_is_retried_after_retry_after(fixture_web: FixtureWeb) -> None:
    events: list[dict[str, Any]] = []
    f = Fetcher(_options(), on_event=events.append)
    started = time.monotonic()
    result = await f.fetch(fixture_web.url("/retry/429/a?after=1"))
    assert result.status == 200
    assert time.monotonic() - started >= 0.9  # it waited as asked
    assert fixture_web.hits("/retry/429/a") == 2
    retries = [e for e in events if e["type"] == "fetch_retry"]
    assert retries == [{**retries[0], "status": 429, "wait_s": 1.0, "attempt": 1}]
    await f.aclose()


async def test_503_is_retried_with_backoff_then_gives_up(fixture_web: FixtureWeb) -> None:
    f = Fetcher(_options(retries=2))
    result = await f.fetch(fixture_web.url("/retry/503/b?times=2"))
    assert result.status == 200 and fixture_web.hits("/retry/503/b") == 3
    with pytest.raises(FetchError, match="HTTP 503"):
        await f.fetch(fixture_web.url("/retry/503/c?times=5"))
    assert fixture_web.hits("/retry/503/c") == 3
    await f.aclose()


async def test_long_retry_after_fails_at_once(fixture_web: FixtureWeb, fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="asks to wait 3600 s"):
        await fetcher.fetch(fixture_web.url("/always-429"))
    assert fixture_web.hits("/always-429") == 1  # no retry, no waiting an hour


async def test_server_error_is_not_retried(fixture_web: FixtureWeb, fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="HTTP 500"):
        await fetcher.fetch(fixture_web.url("/error/500"))
    assert fixture_web.hits("/error/500") == 1


async def test_redirect_chain_is_followed(fixture_web: FixtureWeb, fetcher: Fetcher) -> None:
    result = await fetcher.fetch(fixture_web.url("/redirect/chain/3"))
    assert result.final_url == fixture_web.url(article_path(ARTICLES[0].slug))
    assert result.url == fixture_web.url("/redirect/chain/3")


@pytest.mark.parametrize("path", ["/redirect/chain/7", "/redirect/loop"])
async def test_too_many_redirects(fixture_web: FixtureWeb, fetcher: Fetcher, path: str) -> None:
    with pytest.raises(FetchError, match="redirects more than 5 times"):
        await fetcher.fetch(fixture_web.url(path))


async def test_fetch_many_keeps_order_and_errors(fixture_web: FixtureWeb, fetcher: Fetcher) -> None:
    urls = [fixture_web.url("/"), fixture_web.url("/image.png"), "ftp://example.com/", fixture_web.url("/plain.txt")]
    results = await fetcher.fetch_many(urls)
    assert [type(r).__name__ for r in results] == ["FetchResult", "FetchError", "RefusedURLError", "FetchResult"]
    assert all(isinstance(r, ToolError) or r.url == u for r, u in zip(results, urls, strict=True))


async def test_concurrency_limits_hold(fixture_web: FixtureWeb) -> None:
    fixture_web.set_latency(0.2)
    paths = fixture_web.add_generated(12)
    f = Fetcher(_options(concurrency=8, per_host=3, respect_robots=False))
    started = time.monotonic()
    results = await f.fetch_many(fixture_web.url(p) for p in paths)
    elapsed = time.monotonic() - started
    assert all(not isinstance(r, ToolError) for r in results)
    # 12 pages at 0.2 s with 3 at a time on one host: at least 4 rounds.
    assert elapsed >= 0.75
    assert fixture_web.max_in_flight == 3
    await f.aclose()


async def test_cache_revalidates_with_etag(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    f = Fetcher(_options(use_cache=True, cache_dir=tmp_path / "http"))
    first = await f.fetch(fixture_web.url("/cached/etag"))
    second = await f.fetch(fixture_web.url("/cached/etag"))
    assert not first.from_cache and second.from_cache
    assert second.body == first.body and second.text == first.text
    conditional = [r for r in fixture_web.requests if r.path == "/cached/etag"]
    assert len(conditional) == 2 and conditional[1].headers.get("If-None-Match") == '"v1"'
    await f.aclose()


async def test_cache_revalidates_with_last_modified(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    f = Fetcher(_options(use_cache=True, cache_dir=tmp_path / "http"))
    await f.fetch(fixture_web.url("/cached/last-modified"))
    again = await f.fetch(fixture_web.url("/cached/last-modified"))
    assert again.from_cache
    last = [r for r in fixture_web.requests if r.path == "/cached/last-modified"][-1]
    assert last.headers.get("If-Modified-Since") == "Wed, 01 May 2024 10:00:00 GMT"
    await f.aclose()


async def test_fresh_cache_entry_is_served_without_a_request(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    f = Fetcher(_options(use_cache=True, cache_dir=tmp_path / "http"))
    await f.fetch(fixture_web.url("/cached/fresh"))
    await f.aclose()
    g = Fetcher(_options(use_cache=True, cache_dir=tmp_path / "http"))  # a new process would see the same
    again = await g.fetch(fixture_web.url("/cached/fresh"))
    assert again.from_cache and fixture_web.hits("/cached/fresh") == 1
    await g.aclose()


async def test_changed_page_replaces_the_cache_entry(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    f = Fetcher(_options(use_cache=True, cache_dir=tmp_path / "http"))
    fixture_web.add_page("/changing.html", "<p>version one</p>", headers={"ETag": '"1"'})
    await f.fetch(fixture_web.url("/changing.html"))
    fixture_web.add_page("/changing.html", "<p>version two</p>", headers={"ETag": '"2"'})
    result = await f.fetch(fixture_web.url("/changing.html"))
    assert not result.from_cache and result.text == "<p>version two</p>"
    await f.aclose()


def test_retry_after_parsing() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 01 May 2024 10:00:00 GMT") == 0.0  # in the past


def test_sync_close_after_the_loop_ended(fixture_web: FixtureWeb) -> None:
    f = Fetcher(_options())
    result = asyncio.run(f.fetch(fixture_web.url("/plain.txt")))
    assert result.status == 200
    f.close()  # the loop is gone: closing must not raise
    again = asyncio.run(f.fetch(fixture_web.url("/plain.txt")))  # and a new loop gets a new client
    assert again.status == 200
    f.close()


def test_event_loops_in_several_threads_share_one_fetcher(fixture_web: FixtureWeb) -> None:
    """The UI runs each research run on its own loop thread with one app: each loop gets its own client."""
    import threading

    f = Fetcher(_options())
    outcomes: list[int] = []

    def worker(path: str) -> None:
        outcomes.extend(r.status for r in asyncio.run(_fetch_all(f, [fixture_web.url(path)] * 3)))

    threads = [threading.Thread(target=worker, args=(p,)) for p in ("/", "/plain.txt", "/notes.md")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert outcomes == [200] * 9
    assert fixture_web.hits("/robots.txt") <= 3  # rules are shared once known
    f.close()


async def _fetch_all(f: Fetcher, urls: list[str]) -> list[FetchResult]:
    results = await f.fetch_many(urls)
    await f.aclose()
    return [r for r in results if isinstance(r, FetchResult)]


async def test_injection_page_is_fetched_as_plain_data(fixture_web: FixtureWeb, fetcher: Fetcher) -> None:
    result = await fetcher.fetch(fixture_web.url("/injection.html"))
    assert result.status == 200 and result.content_type == "text/html"
    assert result.text is not None and INJECTION_TEXT in result.text


def test_localhost_by_name_is_refused_by_the_system_resolver() -> None:
    from tools.web.guard import check_url

    with pytest.raises(RefusedURLError, match="loopback"):
        check_url("http://localhost:8080/")


async def test_pages_without_validators_or_lifetime_are_not_cached(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    f = Fetcher(_options(use_cache=True, cache_dir=tmp_path / "http"))
    await f.fetch(fixture_web.url("/plain.txt"))
    again = await f.fetch(fixture_web.url("/plain.txt"))
    assert not again.from_cache and fixture_web.hits("/plain.txt") == 2
    assert not list((tmp_path / "http").rglob("*.body"))
    await f.aclose()


async def test_robots_crawl_delay_spaces_requests_to_a_site(fixture_web: FixtureWeb) -> None:
    fixture_web.add_page("/robots.txt", "User-agent: *\nCrawl-delay: 0.3\nDisallow: /private/\n", "text/plain")
    f = Fetcher(_options(per_host=4))
    before = time.monotonic()
    results = await f.fetch_many([fixture_web.url(p) for p in ("/", "/plain.txt", "/notes.md")])
    assert all(not isinstance(r, ToolError) for r in results)
    assert time.monotonic() - before >= 0.6  # the third request could not start before two delays passed
    await f.aclose()


async def test_pdf_labelled_as_html_is_read_as_pdf(fixture_web: FixtureWeb, fetcher: Fetcher) -> None:
    fixture_web.add_page("/mislabelled", fixture_web.pages["/report.pdf"].body, "text/html")
    result = await fetcher.fetch(fixture_web.url("/mislabelled"))
    assert result.content_type == "application/pdf" and result.text is None
