"""The Python API end to end: ``app.research`` over the fixture web with the scripted brain returns
the report (markdown, sections, references, manifest, run id), streams progress events to the
callback, writes the requested formats, and raises ``RunError`` (with the run id) for a failed run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import app as quarry
from agents.errors import RunError
from tests.cli_harness import FailingBrain, scripted_app
from ui.errors import BadInputError

QUESTION = "How do perovskite solar cells work?"


def test_research_returns_the_report(tmp_path: Path, fixture_web: Any) -> None:
    events: list[dict[str, Any]] = []
    app = scripted_app(tmp_path / "home", fixture_web.base_url)
    try:
        result = quarry.research(QUESTION, app=app, on_event=events.append, formats=("md", "json"),
                                 depth=0, breadth=3, max_pages=30, out=tmp_path / "out")
    finally:
        app.close()
    assert result.status == "complete" and result.exit_code == 0
    assert events[0]["type"] == "run_started" and events[-1]["type"] == "run_finished"
    assert {e["run_id"] for e in events} == {result.run_id}
    assert {"plan", "search_started", "page", "report"} <= {e["type"] for e in events}
    assert result.report.question == QUESTION and result.sections and result.references
    assert result.markdown.startswith("# ") and "## References" in result.markdown
    cited = {c.ref for s in result.sections for sent in s.sentences for c in sent.citations}
    assert cited == {r.n for r in result.references}
    manifest = result.manifest
    assert manifest["run_id"] == result.run_id and manifest["queries"] and manifest["fetches"]
    assert manifest["quarry_version"] and manifest["budget_use"]["pages"]["limit"] == 30
    assert set(result.files) == {"md", "json"} and result.files["md"] == tmp_path / "out" / "report.md"
    assert json.loads((tmp_path / "out" / "report.json").read_text())["run_id"] == result.run_id
    assert (result.folder / "report.md").is_file() and (tmp_path / "out" / "manifest.json").is_file()


def test_failed_run_raises_with_run_id(tmp_path: Path, fixture_web: Any) -> None:
    app = scripted_app(tmp_path / "home", fixture_web.base_url, FailingBrain())
    try:
        with pytest.raises(RunError) as caught:
            quarry.research("FAIL " + QUESTION, app=app, max_pages=5)
    finally:
        app.close()
    assert caught.value.run_id and "resume" in str(caught.value)
    assert (app.settings.runs_dir / caught.value.run_id / "events.jsonl").is_file()


def test_bad_options_raise(tmp_path: Path, fixture_web: Any) -> None:
    app = scripted_app(tmp_path / "home", fixture_web.base_url)
    with pytest.raises(BadInputError, match="Unknown report format"):
        quarry.research(QUESTION, app=app, formats=("md", "docx"))
    with pytest.raises(BadInputError, match="question is empty"):
        quarry.research("   ", app=app)
    app.close()
