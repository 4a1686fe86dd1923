"""Quarry's browser UI in a real headless Chromium: a run from question to report, safety, two sessions.

The server runs the product's pages, worker and registry (``tests/browser/scripted_app.py`` with a
scripted research backend), plus one check that ``python app.py ui`` itself serves the app.
Screenshots of each step land in ``test-artifacts/browser/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import support

pytestmark = pytest.mark.browser

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    support.need_chromium()
    home = tmp_path_factory.mktemp("browser-home")
    port = support.free_port()
    command = support.streamlit_script_command(HERE / "scripted_app.py", port)
    env = support.server_env(home, QUARRY_TEST_STEP_DELAY="0.25")
    with support.serve(command, port, env, support.ARTIFACTS / "scripted_app.log") as url:
        yield url


@pytest.fixture(scope="module")
def chrome() -> Iterator[Any]:
    support.need_chromium()
    with support.browser() as browser:
        yield browser


def _new_page(chrome: Any, problems: list[str]) -> Any:
    context = chrome.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    def on_dialog(dialog: Any) -> None:
        problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def on_request(request: Any) -> None:
        if ":9/" in request.url:  # the hostile image URL
            problems.append(f"request: {request.url}")

    page.on("dialog", on_dialog)
    page.on("request", on_request)
    return page


def _start(page: Any, server: str, question: str) -> None:
    support.open_app(page, f"{server}/", "New research")
    page.get_by_label("Question", exact=True).fill(question)
    page.get_by_role("button", name="Start research").click()
    page.get_by_role("button", name="Approve plan and continue").wait_for(timeout=60_000)


def _approve(page: Any) -> None:
    page.get_by_role("button", name="Approve plan and continue").click()
    page.get_by_text("The report is ready.").wait_for(timeout=60_000)
    page.get_by_role("button", name="Open the report").click()
    page.get_by_text("Verification").first.wait_for(timeout=60_000)


def test_research_from_question_to_report_in_a_real_browser(server: str, chrome: Any, tmp_path: Path) -> None:
    problems: list[str] = []
    page = _new_page(chrome, problems)
    _start(page, server, "How do perovskite cells degrade?")
    page.get_by_text("Planning").first.wait_for()
    support.shot(page, "01-plan-review")
    first = page.get_by_label("Question", exact=True).first
    assert first.input_value() == "Why do perovskite cells degrade?"
    first.fill("What does moisture do to perovskites?")
    first.press("Tab")
    page.get_by_role("button", name="Approve plan and continue").click()
    page.get_by_text("Searching and reading").first.wait_for(timeout=60_000)
    support.shot(page, "02-progress")
    page.get_by_text("The report is ready.").wait_for(timeout=60_000)
    page.get_by_text("Details: What does moisture do to perovskites?").wait_for()
    support.shot(page, "03-finished")
    page.get_by_role("button", name="Open the report").click()
    page.get_by_text("Verification").first.wait_for(timeout=60_000)
    assert re.search(r"[?&]run=", page.url)
    support.shot(page, "04-report")

    # Hostile title and text are inert: shown literally, no script ran, no image or javascript: link.
    page.get_by_text('<script>alert("title")</script> Evil').first.wait_for()
    page.get_by_text("[click me](javascript:alert(1))", exact=False).first.wait_for()
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator("img[src*=':9/']").count() == 0
    assert page.locator("script:has-text('steal')").count() == 0

    # A citation marker carries its passage on hover; its popover shows the passage and source on click.
    marker = page.locator("a[title='Moisture ingress is the main degradation path.']").first
    assert marker.get_attribute("href") == "http://127.0.0.1:1/a.html"
    page.get_by_role("button", name=re.compile(r"\[1\] Perovskite stability review")).first.click()
    page.get_by_text("Moisture ingress is the main degradation path.").first.wait_for()
    support.shot(page, "05-citation")
    page.keyboard.press("Escape")

    with page.expect_download() as info:
        page.get_by_role("button", name="Download HTML").click()
    saved = tmp_path / "report.html"
    info.value.save_as(saved)
    html = saved.read_text(encoding="utf-8")
    assert "Perovskite degradation" in html and '<script>alert("title")' not in html

    page.get_by_role("link", name="Sources").click()
    page.get_by_text("3 of 3 sources").wait_for(timeout=30_000)
    support.shot(page, "06-sources")
    page.get_by_role("link", name="Knowledge graph").click()
    page.get_by_text("4 entities, 3 facts", exact=False).wait_for(timeout=30_000)
    page.get_by_text("⚠ contradiction").first.wait_for()
    support.shot(page, "07-graph")
    assert problems == []


def test_two_browser_sessions_each_get_their_own_report(server: str, chrome: Any) -> None:
    problems: list[str] = []
    alice, bob = _new_page(chrome, problems), _new_page(chrome, problems)
    _start(alice, server, "Alice asks about perovskite stability")
    _start(bob, server, "Bob asks about encapsulation")
    _approve(alice)
    _approve(bob)
    alice.get_by_text("Question: Alice asks about perovskite stability").wait_for()
    bob.get_by_text("Question: Bob asks about encapsulation").wait_for()
    assert alice.get_by_text("Bob asks").count() == 0 and bob.get_by_text("Alice asks").count() == 0
    assert alice.url != bob.url
    support.shot(alice, "08-session-alice")
    support.shot(bob, "09-session-bob")
    # A reload re-attaches to the session's own run from the URL.
    bob.reload()
    bob.get_by_text("Question: Bob asks about encapsulation").wait_for(timeout=60_000)
    assert problems == []


def test_python_app_py_ui_serves_the_app(chrome: Any, tmp_path: Path) -> None:
    port = support.free_port()
    command = [support.python(), str(support.ROOT / "app.py"), "ui", "--port", str(port)]
    env = support.server_env(tmp_path / "home", OPENAI_API_KEY="sk-never-shown-in-the-page")
    with support.serve(command, port, env, support.ARTIFACTS / "app_ui.log") as url:
        problems: list[str] = []
        page = _new_page(chrome, problems)
        support.open_app(page, f"{url}/", "New research")
        page.get_by_role("button", name="Start research").wait_for()
        support.open_app(page, f"{url}/settings", "API keys")
        page.get_by_text("Keys come from the environment only", exact=False).wait_for()
        support.shot(page, "10-settings")
        assert "sk-never-shown-in-the-page" not in page.content()
        assert problems == []
