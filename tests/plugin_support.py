"""Helpers for plugin tests: installed-looking distributions on a temporary path, the example plugin
installed into the venv, and a loopback stand-in for arXiv's Atom API."""

from __future__ import annotations

import importlib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "quarry-plugin-example"
ECHO_SERVER = Path(__file__).with_name("mcp_echo_server.py")  # a real MCP server over stdio


def write_distribution(site: Path, package: str, version: str, module: str, source: str) -> None:
    """A distribution as pip would leave it: a module plus ``*.dist-info`` with a ``quarry.tools`` entry point."""
    (site / f"{module}.py").write_text(source)
    info = site / f"{package.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[quarry.tools]\n{module} = {module}:register\n")


def process_gone(pid: int) -> bool:
    """True when no process ``pid`` exists (zombies count as alive: nobody reaped them)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return False
        time.sleep(0.05)
    return False


@pytest.fixture
def plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary directory on ``sys.path`` where tests put distributions."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    return site


@pytest.fixture(scope="session")
def example_plugin() -> metadata.Distribution:
    """The example plugin, installed editable into the venv (``./quarry test`` installs it already)."""
    try:
        return metadata.distribution("quarry-plugin-example")
    except metadata.PackageNotFoundError:
        pass
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "-e", str(EXAMPLE)],
        capture_output=True, text=True, check=False,
    )
    importlib.invalidate_caches()
    if done.returncode != 0:
        pytest.fail(f"could not install {EXAMPLE}: {done.stderr.strip()[-400:]}; run pip install -e on it")
    return metadata.distribution("quarry-plugin-example")


def atom_entry(url: str, title: str, summary: str, published: str, authors: list[str]) -> str:
    """One ``<entry>`` of an arXiv Atom feed."""
    names = "".join(f"<author><name>{a}</name></author>" for a in authors)
    return (
        f"<entry><id>{url}</id><published>{published}T10:00:00Z</published><title>{title}</title>"
        f"<summary>{summary}</summary>{names}"
        f'<link href="{url}" rel="alternate" type="text/html"/></entry>'
    )


def atom_feed(entries: list[str]) -> str:
    """An arXiv-style Atom feed holding ``entries``."""
    body = "\n".join(entries)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">{body}</feed>'


ATOM_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>arXiv Query</title>
  <entry>
    <id>http://arxiv.org/abs/2401.00001v1</id>
    <published>2024-01-02T10:00:00Z</published>
    <title>Stability of perovskite
      solar cells under heat</title>
    <summary>We study the thermal stability of perovskite solar cells.</summary>
    <author><name>A. Author</name></author>
    <author><name>B. Author</name></author>
    <link href="http://arxiv.org/abs/2401.00001v1" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/2401.00001v1" rel="related" type="application/pdf"/>
  </entry>
  <entry>
    <id>http://arxiv.org/abs/2402.00002v2</id>
    <published>2024-02-03T10:00:00Z</published>
    <title>Tandem cells</title>
    <summary>Silicon-perovskite tandems reach new efficiencies.</summary>
    <author><name>C. Author</name></author>
    <link href="http://arxiv.org/abs/2402.00002v2" rel="alternate" type="text/html"/>
  </entry>
</feed>
"""


@dataclass
class ArxivStandIn:
    """A loopback HTTP server answering ``/api/query`` with ``feed``; logs the queries."""

    url: str = ""
    queries: list[dict[str, list[str]]] = field(default_factory=list)
    feed: str = ATOM_FEED


@pytest.fixture
def arxiv_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[ArxivStandIn]:
    """The stand-in, with ``ARXIV_API_URL`` pointing the example plugin at it."""
    stand_in = ArxivStandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != "/api/query":
                self.send_error(404)
                return
            stand_in.queries.append(parse_qs(parts.query))
            body = stand_in.feed.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}/api/query"
    monkeypatch.setenv("ARXIV_API_URL", stand_in.url)
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()
