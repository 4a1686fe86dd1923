"""The disk HTTP cache stays bounded: real fetches from the fixture web fill it, pruning keeps it in size and age.

Covers: LRU order (a page read recently survives), the age limit, amortized pruning (writes, and a
time trigger remembered across processes), corrupt and leftover files, concurrent fetches while a
prune runs, and ``cache stats|clear`` / ``doctor`` through ``app.main`` (clearing keeps the models).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from agents.settings import FetchSettings, Settings
from app import App, main
from tests.fixture_web import FixtureWeb
from tools.types import FetchResult
from tools.web.fetch import Fetcher, FetchOptions
from tools.web.http_cache import MARKER, MB, HttpCache

PAGE_BYTES = 10_000
DAY = 86400.0


def _options(cache_dir: Path, **overrides: Any) -> FetchOptions:
    base: dict[str, Any] = {
        "allow": ("127.0.0.1",), "deadline_s": 5.0, "read_timeout_s": 2.0, "connect_timeout_s": 2.0,
        "use_cache": True, "cache_dir": cache_dir, "cache_prune_every": 1000, "cache_prune_interval_s": 3600.0,
    }
    base.update(overrides)
    return FetchOptions(**base)


def _pages(web: FixtureWeb, n: int, size: int = PAGE_BYTES, prefix: str = "/c") -> list[str]:
    """``n`` cacheable pages (max-age one hour) of about ``size`` bytes each; their URLs."""
    urls = []
    for i in range(n):
        body = f"<html><body><h1>Page {i}</h1><p>{'x' * size}</p></body></html>"
        web.add_page(f"{prefix}/{i}.html", body, headers={"Cache-Control": "max-age=3600"})
        urls.append(web.url(f"{prefix}/{i}.html"))
    return urls


def _entry_file(cache_dir: Path, url: str) -> Path:
    key = hashlib.sha256(url.encode("utf-8")).hexdigest()
    return cache_dir / key[:2] / f"{key}.entry"


def _cache(f: Fetcher) -> HttpCache:
    assert f.cache is not None
    return f.cache


async def _fetch(f: Fetcher, url: str) -> FetchResult:
    """Fetch, then let a prune that this write started finish (so the test's order is the cache's)."""
    result = await f.fetch(url)
    _cache(f).wait_pruned(10)
    return result


async def test_least_recently_used_pages_go_first_and_a_page_read_recently_survives(
    fixture_web: FixtureWeb, tmp_path: Path
) -> None:
    urls = _pages(fixture_web, 6)
    cap_mb = 4.5 * PAGE_BYTES / MB  # four pages fit, five do not
    f = Fetcher(_options(tmp_path / "http", cache_max_mb=cap_mb, cache_prune_every=3))
    for url in urls[:4]:
        assert not (await _fetch(f, url)).from_cache
    assert (await _fetch(f, urls[0])).from_cache  # a hit: page 0 is now the most recently used
    for url in urls[4:]:
        await _fetch(f, url)
    stats = _cache(f).stats()
    assert stats.entries == 4 and stats.bytes <= cap_mb * MB
    assert not _entry_file(tmp_path / "http", urls[1]).exists()
    assert not _entry_file(tmp_path / "http", urls[2]).exists()
    assert (await f.fetch(urls[0])).from_cache and (await f.fetch(urls[5])).from_cache
    again = await f.fetch(urls[1])
    assert not again.from_cache and fixture_web.hits("/c/1.html") == 2
    await f.aclose()


async def test_a_revalidated_page_counts_as_used(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    urls = _pages(fixture_web, 3)
    f = Fetcher(_options(tmp_path / "http", cache_max_mb=1.5 * PAGE_BYTES / MB))
    etag = fixture_web.url("/cached/etag")
    await f.fetch(etag)
    await f.fetch(urls[0])
    assert (await f.fetch(etag)).from_cache  # a 304: revalidated, so more recent than page 0
    await f.fetch(urls[1])
    _cache(f).prune()
    assert _entry_file(tmp_path / "http", etag).exists()
    assert not _entry_file(tmp_path / "http", urls[0]).exists()
    await f.aclose()


async def test_pages_unused_for_longer_than_the_age_limit_are_pruned(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    urls = _pages(fixture_web, 3)
    f = Fetcher(_options(tmp_path / "http", cache_max_age_days=30))
    for url in urls:
        await f.fetch(url)
    month_ago = time.time() - 31 * DAY
    os.utime(_entry_file(tmp_path / "http", urls[0]), (month_ago, month_ago))  # as if unused for a month
    week_ago = time.time() - 7 * DAY
    os.utime(_entry_file(tmp_path / "http", urls[1]), (week_ago, week_ago))
    report = _cache(f).prune()
    assert report.removed == 1 and report.entries == 2
    assert not (await f.fetch(urls[0])).from_cache
    assert (await f.fetch(urls[1])).from_cache and (await f.fetch(urls[2])).from_cache
    await f.aclose()


async def test_pruning_is_amortized_over_writes(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    urls = _pages(fixture_web, 10)
    cap_mb = 1.5 * PAGE_BYTES / MB
    f = Fetcher(_options(tmp_path / "http", cache_max_mb=cap_mb, cache_prune_every=5))
    cache = _cache(f)
    for url in urls[:4]:
        await _fetch(f, url)
    assert cache.prunes == 0 and cache.stats().entries == 4  # over the cap, but no prune on every write
    await _fetch(f, urls[4])
    assert cache.prunes == 1 and cache.stats().bytes <= cap_mb * MB
    for url in urls[5:9]:
        await _fetch(f, url)
    assert cache.prunes == 1 and cache.stats().entries == 5
    await _fetch(f, urls[9])
    assert cache.prunes == 2 and cache.stats().entries == 1
    await f.aclose()


async def test_a_time_trigger_is_shared_across_processes_by_a_marker(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    urls = _pages(fixture_web, 4)
    folder = tmp_path / "http"
    first = Fetcher(_options(folder, cache_prune_interval_s=60.0))
    await _fetch(first, urls[0])
    assert _cache(first).prunes == 0  # a new cache is not due for a prune yet
    hour_ago = time.time() - 3600
    os.utime(folder / MARKER, (hour_ago, hour_ago))  # the last prune, by any process, was an hour ago
    second = Fetcher(_options(folder, cache_prune_interval_s=60.0))  # another process starting now
    await _fetch(second, urls[1])
    await _fetch(second, urls[2])
    assert _cache(second).prunes == 1 and (folder / MARKER).stat().st_mtime > hour_ago + 60
    third = Fetcher(_options(folder, cache_prune_interval_s=60.0))  # sees the fresh marker: not due
    await _fetch(third, urls[3])
    assert _cache(third).prunes == 0
    for f in (first, second, third):
        await f.aclose()


async def test_corrupt_partial_and_leftover_files_are_ignored_or_removed(
    fixture_web: FixtureWeb, tmp_path: Path
) -> None:
    urls = _pages(fixture_web, 2)
    folder = tmp_path / "http"
    f = Fetcher(_options(folder))
    for url in urls:
        await f.fetch(url)
    cut = _entry_file(folder, urls[0])
    cut.write_bytes(cut.read_bytes()[:40])  # cut short
    _entry_file(folder, urls[1]).write_bytes(b"\x00garbage")
    again = [await f.fetch(url) for url in urls]
    assert not any(r.from_cache for r in again) and "Page 0" in (again[0].text or "")
    assert all([(await f.fetch(url)).from_cache for url in urls])  # the refetched entries replaced them

    sub = cut.parent
    writing = sub / ".tmp-inprogress"  # another process is writing this entry right now
    writing.write_bytes(b"half")
    crashed = sub / ".tmp-crashed"
    crashed.write_bytes(b"left by a crash")
    os.utime(crashed, (time.time() - 7200, time.time() - 7200))
    legacy = sub / f"{'a' * 64}.json"  # the old two-file layout
    legacy.write_text("{}")
    foreign = sub / "notes.txt"
    foreign.write_text("not ours")
    report = _cache(f).clear()
    assert report.removed == 2 and report.entries == 0 and report.bytes == 0
    assert writing.exists() and foreign.exists()
    assert not crashed.exists() and not legacy.exists()
    await f.aclose()


async def test_concurrent_fetches_while_pruning_do_not_crash(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    urls = _pages(fixture_web, 40, size=3_000)
    folder = tmp_path / "http"
    cap_mb = 10 * 3_000 / MB
    f = Fetcher(_options(folder, cache_max_mb=cap_mb, cache_prune_every=1, per_host=16))
    errors: list[BaseException] = []

    def other_process() -> None:  # a second fetcher on the same folder, on its own loop and thread
        async def go() -> None:
            g = Fetcher(_options(folder, cache_max_mb=cap_mb, cache_prune_every=1))
            for _ in range(2):
                for result in await g.fetch_many(reversed(urls)):
                    if not isinstance(result, FetchResult):
                        errors.append(result)
            _cache(g).wait_pruned(10)
            await g.aclose()

        try:
            asyncio.run(go())
        except BaseException as exc:  # the test reports it below
            errors.append(exc)

    thread = threading.Thread(target=other_process)
    thread.start()
    for _ in range(3):
        results = await f.fetch_many(urls)
        for i, result in enumerate(results):
            assert isinstance(result, FetchResult), result
            assert f"<h1>Page {i}</h1>" in result.body.decode()  # never another page's body
    await asyncio.to_thread(thread.join, 30)
    assert not errors and _cache(f).prunes > 0  # pruning did run while the pages were being fetched
    _cache(f).wait_pruned(10)
    _cache(f).prune()
    assert _cache(f).stats().bytes <= cap_mb * MB
    leftovers = [p for p in folder.rglob(".*") if p.is_file() and p.name != MARKER]
    assert leftovers == []
    await f.aclose()


def _app(tmp_path: Path) -> App:
    return App(settings=Settings(home=tmp_path / "home", fetch=FetchSettings(allow=["127.0.0.1"], cache_max_mb=64)))


def test_cache_command_shows_and_clears_pages_but_keeps_models(
    fixture_web: FixtureWeb, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = _app(tmp_path)
    urls = _pages(fixture_web, 3)
    for url in urls:
        assert main(["fetch", url, "--raw"], app=app) == 0
    capsys.readouterr()
    models = app.settings.models_dir
    kept = [models / "org" / "repo" / "model.gguf", models / "onnx" / "abc" / "model.onnx"]
    for path in kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"weights")

    assert main(["cache", "stats", "--json"], app=app) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["entries"] == 3 and stats["bytes"] > 3 * PAGE_BYTES and stats["max_mb"] == 64
    assert stats["directory"] == str(app.settings.http_cache_dir)
    assert main(["cache", "stats"], app=app) == 0
    assert "3 pages" in capsys.readouterr().out

    assert main(["cache", "clear"], app=app) == 0
    out = capsys.readouterr().out
    assert out.startswith("Removed 3 cached pages") and "models" in out
    assert all(path.read_bytes() == b"weights" for path in kept)
    assert main(["cache", "stats", "--json"], app=app) == 0
    assert json.loads(capsys.readouterr().out)["entries"] == 0


def test_doctor_reports_the_cache(fixture_web: FixtureWeb, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = _app(tmp_path)
    url = _pages(fixture_web, 1)[0]
    assert main(["fetch", url, "--raw"], app=app) == 0
    capsys.readouterr()
    main(["doctor", "--no-load", "--json"], app=app)  # exit 1: no model downloaded in a test
    cache = json.loads(capsys.readouterr().out)["http_cache"]
    assert cache["entries"] == 1 and cache["max_mb"] == 64 and cache["max_age_days"] == 30
    main(["doctor", "--no-load"], app=app)
    out = " ".join(capsys.readouterr().out.split())
    assert "HTTP cache: 1 page," in out and "cache clear" in out


def test_stats_of_a_missing_cache_are_zero_and_create_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = _app(tmp_path)
    assert main(["cache", "stats", "--json"], app=app) == 0
    assert json.loads(capsys.readouterr().out)["entries"] == 0
    assert not app.settings.http_cache_dir.exists()
