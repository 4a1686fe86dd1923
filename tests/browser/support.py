"""Real-browser test helpers: a Streamlit server on a loopback port and headless Debian Chromium.

The server is a real subprocess (``python app.py ui`` or ``streamlit run`` on a test script); the
browser is Debian's ``/usr/bin/chromium`` driven by Playwright (never ``playwright install``).
Readiness is the app's own signals — ``/_stcore/health`` answering ``ok``, then expected text in
the connected page — never fixed sleeps. Screenshots go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.process_guard import stop_process

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


def need_chromium() -> None:
    """Skip with the fix when Debian's chromium is missing (``./quarry test`` installs it)."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed; run ./quarry test (it installs tests/system-packages.txt)")


def free_port() -> int:
    """An unused loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(base_url: str, proc: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    """Block until Streamlit's health endpoint answers ``ok`` (or the server dies)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the UI server exited with {proc.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200 and resp.read().strip() == b"ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)  # polling interval of a readiness check, not a fixed wait for the app
    raise RuntimeError(f"the UI server at {base_url} was not healthy within {timeout:.0f} s")


@contextmanager
def serve(command: list[str], port: int, env: dict[str, str], log: Path) -> Iterator[str]:
    """Run a UI server subprocess; yields its base URL once healthy; stops it afterwards."""
    base_url = f"http://127.0.0.1:{port}"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_healthy(base_url, proc)
            yield base_url
        finally:
            stop_process(proc)


def server_env(home: Path, **extra: str) -> dict[str, str]:
    """The server's environment: this one minus QUARRY_* and keys, with the test's data directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUARRY_") and not k.endswith("_API_KEY")}
    env.update({"QUARRY_HOME": str(home), "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
                "ANONYMIZED_TELEMETRY": "False", "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"})
    env.update(extra)
    return env


@contextmanager
def browser() -> Iterator[Any]:
    """A headless Chromium (fresh profile per launch) driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chrome = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chrome
        finally:
            chrome.close()


def shot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/browser/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def open_app(page: Any, url: str, expect: str, timeout_ms: int = 60_000) -> None:
    """Load a page of the app and wait until the connected app shows ``expect`` (not the skeleton)."""
    page.goto(url)
    page.get_by_text(expect, exact=False).first.wait_for(state="visible", timeout=timeout_ms)


def python() -> str:
    """The interpreter running the tests (the project's venv)."""
    return sys.executable


def wait(page: Any, locator: Any, label: str, timeout_ms: int = 30_000) -> None:
    """Wait for ``locator`` to be visible; on a timeout save ``FAILED-<label>.png`` and re-raise."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        locator.wait_for(state="visible", timeout=timeout_ms)
    except PlaywrightTimeout:
        shot(page, f"FAILED-{label}")
        raise


def colour_blobs(png: bytes, rgb: tuple[int, int, int], tolerance: int = 14, cell: int = 24) -> list[tuple[int, int]]:
    """Centres of the patches of ``rgb`` in a screenshot (where to click a drawn node), biggest first."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    cells: dict[tuple[int, int], list[tuple[int, int]]] = {}
    width = image.size[0]
    data = image.tobytes()
    for i in range(0, len(data), 3):
        r, g, b = data[i], data[i + 1], data[i + 2]
        y, x = divmod(i // 3, width)
        if abs(r - rgb[0]) <= tolerance and abs(g - rgb[1]) <= tolerance and abs(b - rgb[2]) <= tolerance:
            cells.setdefault((x // cell, y // cell), []).append((x, y))
    blobs = sorted(cells.values(), key=len, reverse=True)
    return [(sum(p[0] for p in b) // len(b), sum(p[1] for p in b) // len(b)) for b in blobs if len(b) >= 20]
