"""``python app.py ui`` end to end in a real headless Chromium, on a real research run.

The app server is the product command in its own process, configured only through ``QUARRY_*``
settings: the chat model and the embeddings are a scripted OpenAI-compatible server on loopback
(the real HTTP path through the openai SDK), search is the SearXNG API of the loopback fixture web,
which also serves a hostile page. Flow: start a run, watch progress, edit and approve the plan, read
the report, open a citation's passage, download the HTML export, open sources and the graph; the
hostile page stays inert text; two browser sessions research at once and each gets its own report.
Screenshots of each step land in ``test-artifacts/browser/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser import support
from tests.fixture_web import FixtureWeb
from tests.research_brain import Brain
from tests.scripted_openai import ScriptedOpenAI

pytestmark = pytest.mark.browser
SECRET = "sk-test-never-shown-in-the-page"
NODE_RGB = (94, 133, 177)  # the graph's node colour #4c78a8 at 0.9 opacity on white

HOSTILE_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<title>&lt;script&gt;alert('title')&lt;/script&gt; Perovskite perovskite field notes</title></head>
<body><article><h1>&lt;script&gt;alert('title')&lt;/script&gt; Perovskite field notes</h1>
<p>Perovskite layers &lt;script&gt;alert('body')&lt;/script&gt; darken within weeks in humid air
![pixel](http://127.0.0.1:9/md.png) [run me](javascript:alert(3)) perovskite perovskite.</p>
<p><a href="javascript:alert(4)">perovskite link</a> <img src="http://127.0.0.1:9/img.png" alt="pixel">
Perovskite perovskite perovskite stability depends on encapsulation and on the perovskite film.</p>
<script>alert('a real script');</script>
</article></body></html>"""


@dataclass
class Served:
    """The running app server and the scripted model behind it."""

    url: str
    model: ScriptedOpenAI


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    support.need_chromium()
    home = tmp_path_factory.mktemp("app-home")
    with FixtureWeb() as web, ScriptedOpenAI(Brain(outline=["Materials", "Stability"])) as model:
        web.add_page("/hostile.html", HOSTILE_PAGE)
        port = support.free_port()
        env = support.server_env(
            home,
            QUARRY_LLM__BACKEND="openai", QUARRY_LLM__BASE_URL=model.base_url, QUARRY_LLM__MODEL="scripted",
            QUARRY_LLM__MAX_RETRIES="0",
            QUARRY_MEMORY__EMBEDDING_BACKEND="openai", QUARRY_MEMORY__EMBEDDING_BASE_URL=model.base_url,
            QUARRY_MEMORY__EMBEDDING_MODEL="hashing",
            QUARRY_SEARCH__BACKENDS='["searxng"]', QUARRY_SEARCH__SEARXNG_URL=web.base_url,
            QUARRY_SEARCH__MIN_INTERVAL_S="0",
            QUARRY_FETCH__ALLOW='["127.0.0.1"]', QUARRY_FETCH__USE_CACHE="false", QUARRY_FETCH__RETRIES="0",
            QUARRY_BUDGET__BREADTH="2", QUARRY_BUDGET__DEPTH="0", QUARRY_BUDGET__MAX_PAGES="8",
            QUARRY_BUDGET__MAX_HOPS="0", QUARRY_BUDGET__MAX_MINUTES="5",
            OPENAI_API_KEY=SECRET,
        )
        command = [support.python(), str(support.ROOT / "app.py"), "ui", "--port", str(port)]
        with support.serve(command, port, env, support.ARTIFACTS / "app_run.log") as url:
            yield Served(url, model)


@pytest.fixture
def app_server(served: Served) -> str:
    return served.url


@pytest.fixture(scope="module")
def chrome() -> Iterator[Any]:
    support.need_chromium()
    with support.browser() as browser:
        yield browser


class Watch:
    """A browser tab that records dialogs (a script ran) and requests to the hostile image host."""

    def __init__(self, chrome: Any) -> None:
        self.problems: list[str] = []
        context = chrome.new_context(accept_downloads=True, viewport={"width": 1280, "height": 1000})
        self.page = context.new_page()
        self.page.on("dialog", self._dialog)
        self.page.on("request", self._request)

    def _dialog(self, dialog: Any) -> None:
        self.problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def _request(self, request: Any) -> None:
        if "127.0.0.1:9/" in request.url:
            self.problems.append(f"request: {request.url}")


def start_run(page: Any, url: str, question: str) -> None:
    support.open_app(page, f"{url}/", "New research")
    page.get_by_label("Question", exact=True).fill(question)
    page.get_by_role("button", name="Start research").click()
    page.get_by_role("button", name="Approve plan and continue").wait_for(timeout=120_000)


def finish_run(page: Any) -> None:
    page.get_by_role("button", name="Approve plan and continue").click()
    page.get_by_text("The report is ready.").wait_for(timeout=180_000)
    page.get_by_role("button", name="Open the report").click()
    page.get_by_text("Claims checked").wait_for(timeout=60_000)


def test_a_research_run_in_the_browser(served: Served, chrome: Any, tmp_path: Path) -> None:
    app_server = served.url
    tab = Watch(chrome)
    page = tab.page
    start_run(page, app_server, "How stable are perovskite solar cells?")
    page.get_by_text("Planning").first.wait_for()
    first = page.get_by_label("Question", exact=True).first
    assert first.input_value().startswith("How stable are perovskite solar cells?")
    first.fill("Why do perovskite films darken in humid air?")
    first.press("Tab")
    support.shot(page, "app-01-plan-review")
    page.get_by_role("button", name="Approve plan and continue").click()
    live = page.get_by_role("button", name="Stop this run").or_(page.get_by_text("The report is ready."))
    live.first.wait_for(timeout=60_000)
    page.get_by_role("button", name="Approve plan and continue").wait_for(state="detached")
    page.get_by_text("Sub-questions", exact=True).wait_for()
    support.shot(page, "app-02-progress")
    page.get_by_text("The report is ready.").wait_for(timeout=180_000)
    page.get_by_text("Details: Why do perovskite films darken in humid air?").wait_for()
    support.shot(page, "app-03-finished")
    page.get_by_role("button", name="Open the report").click()
    page.get_by_text("Claims checked").wait_for(timeout=60_000)
    run_id = re.search(r"[?&]run=([^&]+)", page.url)
    assert run_id is not None
    support.open_app(page, page.url, "Claims checked")  # a deep link to the report opens it at the top
    support.shot(page, "app-04-report")

    # The hostile page is inert: literal text, no script, no image, no javascript: link.
    page.get_by_text("<script>alert('body')</script> darken", exact=False).first.wait_for()
    page.get_by_text("[run me](javascript:alert(3))", exact=False).first.wait_for()
    page.get_by_text("<script>alert('title')</script> Perovskite field notes", exact=False).first.wait_for()
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator("a[href*='127.0.0.1:9'], a[href^='mailto']").count() == 0  # bare URLs stay text
    assert page.locator("img[src*='127.0.0.1:9']").count() == 0

    # Hovering a citation marker shows its passage (title); clicking its popover shows passage and source.
    marker = page.locator("a[title]").filter(has_text=re.compile(r"^\[\d+\]$")).first
    passage = marker.get_attribute("title") or ""
    assert len(passage) > 20 and (marker.get_attribute("href") or "").startswith("http://127.0.0.1:")
    ref = (marker.text_content() or "").strip("[]")
    page.get_by_role("button", name=re.compile(rf"^\[{ref}\] ")).first.click()
    page.get_by_text(f"Source {ref}:").first.wait_for()
    page.get_by_text(passage[:40], exact=False).last.wait_for()
    support.shot(page, "app-05-citation")
    page.keyboard.press("Escape")

    with page.expect_download() as info:
        page.get_by_role("button", name="Download HTML").click()
    saved = tmp_path / "report.html"
    info.value.save_as(saved)
    html = saved.read_text(encoding="utf-8")
    assert "<html" in html.lower() and "<script>alert(" not in html

    page.get_by_role("link", name="Sources").click()
    page.get_by_text(re.compile(r"\d+ of \d+ sources")).wait_for(timeout=30_000)
    support.shot(page, "app-06-sources")
    page.get_by_role("link", name="Knowledge graph").click()
    page.get_by_text(re.compile(r"\d+ entities, \d+ facts")).first.wait_for(timeout=30_000)
    page.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg").first.wait_for()
    support.wait(page, page.get_by_text("sources: ", exact=False).first, "graph-facts")  # facts and their sources
    support.shot(page, "app-07-graph")
    # Clicking a node on the chart picks that entity and lists its facts.
    chart = page.locator("[data-testid='stVegaLiteChart']").first
    entity = page.locator("[data-testid='stHeading']").last  # the chosen entity's name above its facts
    before = entity.inner_text()
    seen = {before}
    png = chart.screenshot(path=str(support.ARTIFACTS / "app-07-chart.png"))
    blobs = support.colour_blobs(png, NODE_RGB)
    assert blobs, "no node drawn on the chart"
    for x, y in blobs[:6]:
        chart.click(position={"x": x, "y": y})
        try:
            page.wait_for_function(
                "([el, old]) => el.innerText !== old", arg=[entity.element_handle(), before], timeout=5_000
            )
        except PlaywrightTimeout:
            continue
        seen.add(entity.inner_text())
        break
    assert len(seen) == 2, f"no node click changed the entity from {before!r}"
    support.shot(page, "app-08-graph-click")
    assert served.model.calls.get("chat", 0) > 0 and served.model.calls.get("embeddings", 0) > 0  # real HTTP path
    assert tab.problems == []


def test_two_sessions_research_at_once(app_server: str, chrome: Any) -> None:
    alice, bob = Watch(chrome), Watch(chrome)
    start_run(alice.page, app_server, "Alice: how efficient are perovskite cells?")
    start_run(bob.page, app_server, "Bob: how are perovskite cells encapsulated?")
    alice.page.get_by_role("button", name="Approve plan and continue").click()
    finish_run(bob.page)
    alice.page.get_by_text("The report is ready.").wait_for(timeout=180_000)
    alice.page.get_by_role("button", name="Open the report").click()
    alice.page.get_by_text("Claims checked").wait_for(timeout=60_000)
    alice.page.get_by_text("Question: Alice: how efficient are perovskite cells?").wait_for()
    bob.page.get_by_text("Question: Bob: how are perovskite cells encapsulated?").wait_for()
    assert alice.page.get_by_text("Bob:").count() == 0 and bob.page.get_by_text("Alice:").count() == 0
    support.shot(alice.page, "app-09-alice")
    support.shot(bob.page, "app-10-bob")
    bob.page.reload()  # a reload re-attaches to the session's own run
    bob.page.get_by_text("Question: Bob: how are perovskite cells encapsulated?").wait_for(timeout=60_000)
    assert alice.problems == [] and bob.problems == []


def test_settings_page_lists_settings_and_never_shows_keys(app_server: str, chrome: Any) -> None:
    tab = Watch(chrome)
    support.open_app(tab.page, f"{app_server}/settings", "API keys")
    tab.page.get_by_text("Keys come from the environment only", exact=False).wait_for()
    support.shot(tab.page, "app-11-settings")
    assert SECRET not in tab.page.content()
    assert tab.problems == []
