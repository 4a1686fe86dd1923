"""Follow-up questions under a report, in a real headless Chromium against ``python app.py ui``.

A run is researched first with the real CLI (``python app.py research``) in its own process; the UI
server is the product command, both configured only through ``QUARRY_*`` (scripted OpenAI-compatible
model on loopback, the fixture web's SearXNG API). In the browser: open the report, ask a follow-up
the run's memory holds (answered from memory, nothing fetched), one it lacks (a short research round
reads the heat-pump page), and an empty one (one sentence, nothing written). Screenshots land in
``test-artifacts/browser/``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser import support
from tests.cli_harness import real_app_env
from tests.fixture_web import FixtureWeb
from tests.research_brain import Brain
from tests.scripted_openai import ScriptedOpenAI

pytestmark = pytest.mark.browser
QUESTION = "How do perovskite solar cells work?"
IN_MEMORY = "What is the band gap of methylammonium lead iodide?"
NOT_IN_MEMORY = "What coefficient of performance do heat pumps reach in cold climates?"
HEAT_PUMPS = (
    "<html><head><title>Heat pumps in cold climates</title></head><body><article>"
    "<h1>Heat pumps in cold climates</h1><p>Cold-climate air-source heat pumps reached a coefficient of "
    "performance of 2.1 at minus 15 degrees Celsius in a Canadian field study.</p></article></body></html>"
)


@dataclass
class Served:
    """The UI server, the finished run and the fixture web behind it."""

    url: str
    run_id: str
    home: Path
    web: FixtureWeb


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    support.need_chromium()
    home = tmp_path_factory.mktemp("followup-home")
    with FixtureWeb() as web, ScriptedOpenAI(Brain()) as model:
        web.add_page("/articles/heat-pumps.html", HEAT_PUMPS)
        env = support.server_env(home, **real_app_env(model.base_url, web.base_url), QUARRY_BUDGET__DEPTH="0",
                                 QUARRY_BUDGET__MAX_PAGES="12", QUARRY_BUDGET__MAX_MINUTES="5")
        done = subprocess.run([support.python(), str(support.ROOT / "app.py"), "research", QUESTION, "--quiet",
                               "--format", "md"], cwd=support.ROOT, env=env, capture_output=True, text=True,
                              timeout=240)
        assert done.returncode == 0, done.stderr
        (run_id,) = [p.name for p in (home / "runs").iterdir()]
        port = support.free_port()
        command = [support.python(), str(support.ROOT / "app.py"), "ui", "--port", str(port)]
        with support.serve(command, port, env, support.ARTIFACTS / "followup_run.log") as url:
            yield Served(url, run_id, home, web)


def ask(page: Any, question: str) -> None:
    box = page.get_by_label("Ask a follow-up question")
    box.fill(question)
    box.press("Tab")
    page.get_by_role("button", name="Ask", exact=True).click()


def followups(served: Served) -> list[dict[str, Any]]:
    path = served.home / "runs" / served.run_id / "followups.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def test_the_question_box_answers_from_memory_then_researches(served: Served) -> None:
    report_md = (served.home / "runs" / served.run_id / "report.md").read_bytes()
    with support.browser() as chrome:
        page = chrome.new_context(viewport={"width": 1280, "height": 1000}).new_page()
        dialogs: list[str] = []

        def dialog(d: Any) -> None:  # a script ran in the page
            dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)
        support.open_app(page, f"{served.url}/report?run={served.run_id}", "Claims checked")
        support.wait(page, page.get_by_text("Follow-up questions", exact=True), "followup-header")

        before = len(served.web.requests)
        ask(page, IN_MEMORY)
        support.wait(page, page.get_by_text(f"Q: {IN_MEMORY}"), "followup-memory", timeout_ms=120_000)
        page.get_by_text("from the run's memory").first.wait_for()
        page.get_by_text("band gap", exact=False).last.wait_for()
        assert len(served.web.requests) == before, "a follow-up memory holds fetches nothing"
        support.shot(page, "followup-01-memory")

        ask(page, NOT_IN_MEMORY)
        support.wait(page, page.get_by_text(f"Q: {NOT_IN_MEMORY}"), "followup-research", timeout_ms=240_000)
        page.get_by_text("from a short research round", exact=False).first.wait_for()
        link = page.locator("a[href$='/articles/heat-pumps.html']").first
        support.wait(page, link, "followup-link")
        assert served.web.hits("/articles/heat-pumps.html") >= 1
        support.shot(page, "followup-02-research")

        ask(page, "   ")
        support.wait(page, page.get_by_text("The follow-up question is empty", exact=False), "followup-empty")
        support.shot(page, "followup-03-empty")
        assert dialogs == []
    assert [f["origin"] for f in followups(served)] == ["memory", "research"]
    assert (served.home / "runs" / served.run_id / "report.md").read_bytes() == report_md
