"""``python app.py fetch URL``: Markdown with metadata, ``--json`` Document, one-line failures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agents.settings import FetchSettings, Settings
from app import App, main
from tests.fixture_pages import article_path
from tests.fixture_web import FixtureWeb

ROOT = Path(__file__).resolve().parent.parent


def _app(tmp_path: Path) -> App:
    return App(settings=Settings(home=tmp_path / "home", fetch=FetchSettings(allow=["127.0.0.1"])))


def test_fetch_prints_markdown_with_metadata(
    fixture_web: FixtureWeb, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = fixture_web.url(article_path("perovskite-lead"))
    assert main(["fetch", url], app=_app(tmp_path)) == 0
    out = capsys.readouterr().out
    assert out.startswith("# The lead question")
    assert f"- URL: {url}" in out and "- Author: Sofia Alvarez" in out
    assert "0.4 grams of lead" in out
    assert "cookie" not in out.lower()  # boilerplate is gone (extraction)


def test_fetch_json_prints_the_document(
    fixture_web: FixtureWeb, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fetch", fixture_web.url("/report.pdf"), "--json"], app=_app(tmp_path)) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [p["number"] for p in doc["pages"]] == [1, 2]
    assert "18.6 percent" in doc["text"]


def test_fetch_raw_prints_the_fetched_text(
    fixture_web: FixtureWeb, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fetch", fixture_web.url("/plain.txt"), "--raw"], app=_app(tmp_path)) == 0
    assert capsys.readouterr().out == "Plain text notes about tandem cells.\n\n"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/redirect/private", "quarry: Refused http://10.0.0.1/admin: 10.0.0.1 is a private address"),
        ("/image.png", "is image/png, not a page Quarry reads"),
        ("/error/500", "answered HTTP 500"),
    ],
)
def test_refused_or_failed_url_is_one_line_and_nonzero(
    fixture_web: FixtureWeb, tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str, message: str
) -> None:
    assert main(["fetch", fixture_web.url(path)], app=_app(tmp_path)) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err and captured.err.count("\n") == 1


def test_fetch_in_a_real_process_refuses_loopback_by_default(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "fetch", "http://127.0.0.1:9/"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={"QUARRY_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip() == (
        "quarry: Refused http://127.0.0.1:9/: 127.0.0.1 is a loopback address; add it to fetch.allow to permit it."
    )


def test_app_fetcher_maps_the_settings(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", fetch=FetchSettings(allow=["10.0.0.0/8"], per_host=2, retries=0))
    app = App(settings=settings)
    fetcher = app.fetcher()
    assert fetcher is app.fetcher()
    assert fetcher.options.allow == ("10.0.0.0/8",) and fetcher.options.per_host == 2
    assert fetcher.options.retries == 0 and fetcher.options.cache_dir == settings.http_cache_dir
    assert fetcher.options.user_agent.startswith("Quarry/")
    app.close()


def test_fixture_web_runs_standalone() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fixture_web", "--generated", "3"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().split("at ", 1)[1].split()[0]
        import httpx

        page = httpx.get(f"{base}/gen/2.html", timeout=10)
        hits = httpx.get(f"{base}/search", params={"q": "tandem", "format": "json"}, timeout=10).json()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert page.status_code == 200 and "Energy report 2" in page.text and '/gen/0.html' in page.text
    assert hits["results"] and all(r["url"].startswith(base) for r in hits["results"])
