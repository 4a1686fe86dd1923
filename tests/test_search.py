"""Search backends and the fallback chain: order, events, pacing, dedup, memo; real HTTP on loopback."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from app import build_app
from tests.fixture_pages import article_path
from tests.fixture_web import FixtureWeb, Page, Request, json_page
from tools.errors import SearchError
from tools.search import (
    BackendError,
    LocalBackend,
    RateLimited,
    SearchChain,
    SearchOptions,
    build_search,
    dedupe,
)
from tools.search.brave import BraveBackend
from tools.search.duckduckgo import DuckDuckGoBackend
from tools.search.searxng import SearxngBackend
from tools.search.tavily import TavilyBackend
from tools.types import SearchResult


def _result(url: str, rank: int = 1, backend: str = "scripted") -> SearchResult:
    return SearchResult(title=f"t{rank}", url=url, snippet="s", rank=rank, backend=backend)


class ScriptedBackend:
    """A backend at the protocol seam: answers (or raises) from a queue and records its calls."""

    def __init__(self, name: str, *answers: list[SearchResult] | Exception) -> None:
        self.name = name
        self.answers = list(answers)
        self.calls: list[tuple[str, int, float]] = []

    async def search(self, query: str, k: int) -> list[SearchResult]:
        self.calls.append((query, k, time.monotonic()))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


# ------------------------------------------------------------------ chain behaviour
async def test_fallback_order_and_events() -> None:
    events: list[dict[str, Any]] = []
    broken = ScriptedBackend("broken", BackendError("broken could not be reached"))
    limited = ScriptedBackend("limited", RateLimited("limited is rate limiting Quarry", 30))
    empty = ScriptedBackend("empty", [])
    good = ScriptedBackend("good", [_result("https://a.example/x", backend="good")])
    never = ScriptedBackend("never", [_result("https://b.example/")])
    chain = SearchChain([broken, limited, empty, good, never], on_event=events.append)
    results = await chain.search("perovskite  stability", 5)
    assert [r.url for r in results] == ["https://a.example/x"]
    assert [len(b.calls) for b in (broken, limited, empty, good, never)] == [1, 1, 1, 1, 0]
    assert broken.calls[0][:2] == ("perovskite stability", 5)
    kinds = [(e["type"], e.get("backend")) for e in events]
    assert kinds == [
        ("search_backend_failed", "broken"),
        ("search_backend_rate_limited", "limited"),
        ("search_backend_empty", "empty"),
        ("search_backend_answered", "good"),
        ("search_done", "good"),
    ]
    assert events[1]["retry_after_s"] == 30


async def test_rate_limited_backend_is_rested_for_its_retry_after() -> None:
    events: list[dict[str, Any]] = []
    limited = ScriptedBackend("limited", RateLimited("slow down", 60), [_result("https://x.example/")])
    fallback = ScriptedBackend("fallback", [_result("https://y.example/")])
    chain = SearchChain([limited, fallback], on_event=events.append)
    await chain.search("first", 3)
    await chain.search("second", 3)
    assert len(limited.calls) == 1  # not asked again while resting
    assert len(fallback.calls) == 2
    skipped = [e for e in events if e["type"] == "search_backend_skipped"]
    assert skipped and skipped[0]["backend"] == "limited" and 55 < skipped[0]["retry_in_s"] <= 60


async def test_min_interval_paces_one_backend() -> None:
    backend = ScriptedBackend("paced", [_result("https://x.example/")])
    chain = SearchChain([backend], min_interval_s=0.3)
    before = time.monotonic()
    for query in ("a", "b", "c"):
        await chain.search(query, 2)
    assert len(backend.calls) == 3
    assert backend.calls[1][2] - before >= 0.3 and backend.calls[2][2] - before >= 0.6


async def test_all_backends_failing_raise_one_sentence() -> None:
    chain = SearchChain([ScriptedBackend("a", BackendError("a is down")), ScriptedBackend("b", [])])
    with pytest.raises(SearchError) as info:
        await chain.search("nothing", 3)
    message = str(info.value)
    assert "a: a is down" in message and "b: no results" in message and "\n" not in message


async def test_crashing_backend_is_recorded_not_raised() -> None:
    events: list[dict[str, Any]] = []
    chain = SearchChain(
        [ScriptedBackend("buggy", KeyError("results")), ScriptedBackend("ok", [_result("https://x.example/")])],
        on_event=events.append,
    )
    assert len(await chain.search("q", 3)) == 1
    assert events[0]["type"] == "search_backend_failed" and "KeyError" in events[0]["error"]


async def test_results_are_deduplicated_by_normalized_url() -> None:
    raw = [
        _result("https://Example.com/page/?utm_source=news&id=3", 1),
        _result("https://example.com/page?id=3#section", 2),
        _result("http://www.example.com/page?id=3&fbclid=abc", 3),
        _result("https://example.com/other", 4),
    ]
    chain = SearchChain([ScriptedBackend("dup", raw)])
    results = await chain.search("q", 10)
    assert [r.url for r in results] == [raw[0].url, raw[3].url]
    assert [r.rank for r in results] == [1, 2]
    assert [r.rank for r in dedupe(list(reversed(raw)))] == [1, 2]


async def test_memo_prevents_resending_a_query() -> None:
    memo: dict[str, list[SearchResult]] = {}
    events: list[dict[str, Any]] = []
    backend = ScriptedBackend("once", [_result("https://x.example/")])
    first = await SearchChain([backend], memo=memo).search("Perovskite lead", 4)
    resumed = SearchChain([backend], memo=memo, on_event=events.append)  # a resumed run shares the memo
    again = await resumed.search("  perovskite   LEAD ", 4)
    assert again == first and len(backend.calls) == 1
    assert events[0]["type"] == "search_memo"


async def test_empty_query_is_refused() -> None:
    with pytest.raises(SearchError, match="empty"):
        await SearchChain([ScriptedBackend("x", [])]).search("   ", 3)


def test_chain_needs_a_backend() -> None:
    with pytest.raises(SearchError, match="No search backend is configured"):
        SearchChain([])


# ------------------------------------------------------------------ real backends on loopback
async def test_searxng_backend_against_the_fixture_web(fixture_web: FixtureWeb) -> None:
    backend = SearxngBackend(fixture_web.base_url)
    results = await backend.search("perovskite silicon tandem record", 3)
    assert 1 <= len(results) <= 3
    assert results[0].url == fixture_web.url(article_path("perovskite-tandem"))
    assert results[0].backend == "searxng" and [r.rank for r in results] == list(range(1, len(results) + 1))
    assert "tandem" in (results[0].title + results[0].snippet).lower()
    assert fixture_web.requests[-1].query.count("format=json") == 1


async def test_searxng_with_json_disabled_is_a_backend_error(fixture_web: FixtureWeb) -> None:
    fixture_web.add_page("/search", "format not enabled", "text/plain", status=403)
    with pytest.raises(BackendError, match="HTTP 403"):
        await SearxngBackend(fixture_web.base_url).search("perovskite", 3)


async def test_searxng_unreachable_is_a_backend_error() -> None:
    with pytest.raises(BackendError, match="could not be reached"):
        await SearxngBackend("http://127.0.0.1:9", timeout_s=2).search("perovskite", 3)


async def test_tavily_stand_in(fixture_web: FixtureWeb) -> None:
    seen: list[tuple[Request, dict[str, Any]]] = []

    def tavily(request: Request, body: bytes) -> Page:
        seen.append((request, json.loads(body)))
        return json_page({"results": [
            {"title": "A", "url": "https://a.example/", "content": "alpha  text", "score": 0.9},
            {"title": "B", "url": "https://b.example/", "content": "beta", "score": 0.5},
            {"title": "no url"},
        ]})

    fixture_web.add_handler("/tavily", tavily)
    results = await TavilyBackend("tvly-test", endpoint=fixture_web.url("/tavily")).search("q", 5)
    assert [(r.url, r.snippet, r.rank) for r in results] == [("https://a.example/", "alpha text", 1),
                                                           ("https://b.example/", "beta", 2)]
    request, payload = seen[0]
    assert request.method == "POST" and request.headers["Authorization"] == "Bearer tvly-test"
    assert payload["query"] == "q" and payload["max_results"] == 5


async def test_brave_stand_in_and_its_rate_limit(fixture_web: FixtureWeb) -> None:
    calls: list[Request] = []

    def brave(request: Request, _body: bytes) -> Page:
        calls.append(request)
        if len(calls) > 1:
            return json_page({"error": "rate"}, status=429, headers={"Retry-After": "42"})
        return json_page({"web": {"results": [
            {"title": "<strong>Perovskite</strong> news", "url": "https://p.example/", "description": "x <b>y</b>"},
        ]}})

    fixture_web.add_handler("/brave", brave)
    backend = BraveBackend("brave-key", endpoint=fixture_web.url("/brave"))
    results = await backend.search("perovskite", 20)
    assert results == [SearchResult("Perovskite news", "https://p.example/", "x y", 1, "brave")]
    assert calls[0].headers["X-Subscription-Token"] == "brave-key" and "count=20" in calls[0].query
    with pytest.raises(RateLimited) as info:
        await backend.search("again", 5)
    assert info.value.retry_after_s == 42


@pytest.mark.parametrize("backend", [TavilyBackend(None), BraveBackend("")])
async def test_keyless_backends_fail_without_a_request(backend: TavilyBackend | BraveBackend) -> None:
    with pytest.raises(BackendError, match="API key"):
        await backend.search("q", 3)


async def test_duckduckgo_failure_falls_back_to_searxng(fixture_web: FixtureWeb) -> None:
    # ddgs goes through the fixture web as its proxy, which refuses CONNECT: a real ddgs failure, offline.
    events: list[dict[str, Any]] = []
    ddg = DuckDuckGoBackend(proxy=fixture_web.base_url, timeout_s=3)
    chain = SearchChain([ddg, SearxngBackend(fixture_web.base_url)], on_event=events.append)
    results = await chain.search("lead toxicity perovskite", 4)
    assert results[0].backend == "searxng"
    assert results[0].url == fixture_web.url(article_path("perovskite-lead"))
    assert events[0]["type"] in ("search_backend_failed", "search_backend_empty")
    assert events[0]["backend"] == "duckduckgo"
    assert any(r.method == "CONNECT" for r in fixture_web.requests)


async def test_local_backend_adapts_a_function() -> None:
    def search_fn(query: str, k: int) -> list[SearchResult]:
        return [_result(f"file:///docs/{i}.md", rank=9, backend="memory") for i in range(k + 2)]

    results = await LocalBackend(search_fn).search("q", 2)
    assert [(r.rank, r.backend) for r in results] == [(1, "local"), (2, "local")]

    def broken(query: str, k: int) -> list[SearchResult]:
        raise RuntimeError("store closed")

    with pytest.raises(BackendError, match="store closed"):
        await LocalBackend(broken).search("q", 2)


# ------------------------------------------------------------------ construction from settings
def test_build_search_validates_backend_names() -> None:
    with pytest.raises(SearchError, match="Unknown search backend 'bing'"):
        build_search(SearchOptions(backends=("bing",)))
    with pytest.raises(SearchError, match="searxng_url"):
        build_search(SearchOptions(backends=("searxng",)))
    with pytest.raises(SearchError, match="memory store"):
        build_search(SearchOptions(backends=("local",)))


async def test_app_builds_the_chain_from_settings(fixture_web: FixtureWeb, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUARRY_SEARCH__BACKENDS", '["tavily", "searxng"]')
    monkeypatch.setenv("QUARRY_SEARCH__SEARXNG_URL", fixture_web.base_url)
    monkeypatch.setenv("QUARRY_SEARCH__MIN_INTERVAL_S", "0")
    monkeypatch.setenv("TAVILY_API_KEY", "tvly-from-env")
    app = build_app()
    chain = app.search()
    assert [b.name for b in chain.backends] == ["tavily", "searxng"]
    tavily = chain.backends[0]
    assert isinstance(tavily, TavilyBackend) and tavily.api_key == "tvly-from-env"
    assert app.search() is chain
    app.close()


def test_fixture_search_covers_added_pages(fixture_web: FixtureWeb) -> None:
    fixture_web.add_page("/custom/zeolite.html", "<html><head><title>Zeolite sieves</title></head>"
                         "<body><p>Zeolite membranes separate gases.</p></body></html>")
    fixture_web.add_page("/custom/hidden.html", "<p>zeolite</p>", searchable=False)
    hits = fixture_web.search("zeolite membranes", 5)
    assert [h["url"] for h in hits] == [fixture_web.url("/custom/zeolite.html")]
    assert hits[0]["title"] == "Zeolite sieves" and "membranes" in hits[0]["content"]


async def test_build_search_wraps_a_local_search_function() -> None:
    def search_fn(query: str, k: int) -> list[SearchResult]:
        return [_result("file:///notes/perovskite.md", backend="memory")]

    chain = build_search(SearchOptions(backends=("local",), min_interval_s=0), local=search_fn)
    results = await chain.search("perovskite", 3)
    assert [(r.url, r.backend) for r in results] == [("file:///notes/perovskite.md", "local")]


async def test_events_reach_the_sink_bound_to_the_current_run() -> None:
    import asyncio

    from tools.events import event_sink

    chain = SearchChain([ScriptedBackend("empty", []), ScriptedBackend("good", [_result("https://x.example/")])])
    seen: dict[str, list[str]] = {"a": [], "b": []}

    async def run(name: str) -> None:
        with event_sink(lambda e: seen[name].append(e["type"])):
            await chain.search(f"query {name}", 3)

    await asyncio.gather(run("a"), run("b"))
    expected = ["search_backend_empty", "search_backend_answered", "search_done"]
    assert seen == {"a": expected, "b": expected}
