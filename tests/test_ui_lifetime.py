"""The UI server never outlives ``python app.py ui``, and the suite fails when a test leaves a process running.

Real processes throughout: ``app.py ui`` with its Streamlit child on a loopback port, the
``ui.web.server`` lifeline under a parent killed with SIGKILL, and a pytest session that leaks one.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.browser.support import free_port, server_env, wait_healthy
from tests.process_guard import descendants

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def gone(pid: int, timeout: float = 15.0) -> bool:
    """True once ``pid`` has exited (or is a zombie) within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)  # polling the process table
    return False


def port_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:``port``."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_app_ui_stopped_with_a_signal_stops_its_server(tmp_path: Path, signum: int) -> None:
    port = free_port()
    command = [sys.executable, str(ROOT / "app.py"), "ui", "--port", str(port)]
    proc = subprocess.Popen(command, cwd=tmp_path, env=server_env(tmp_path / "home"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        servers = descendants(proc.pid)
        assert any("ui.web.server" in p.command for p in servers)
        proc.send_signal(signum)
        assert proc.wait(timeout=20) == 128 + signum
        assert all(gone(p.pid) for p in servers)
        assert port_free(port)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


LAUNCHER = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", {child!r}], stdin={stdin})
print(child.pid, flush=True)
time.sleep(120)
"""

BOUND_CHILD = (
    "import os, time; from ui.web.server import die_with_parent; die_with_parent(os.getppid()); time.sleep(120)"
)


@pytest.mark.parametrize("stdin", ["subprocess.PIPE", "subprocess.DEVNULL"], ids=["pipe", "pdeathsig-only"])
def test_the_server_process_ends_when_its_parent_is_killed(tmp_path: Path, stdin: str) -> None:
    code = LAUNCHER.format(child=BOUND_CHILD, stdin=stdin)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              env=env, cwd=tmp_path)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        time.sleep(0.5)  # let the child bind itself to its parent before the parent dies
        parent.kill()
        parent.wait()
        assert gone(child, timeout=10)
    finally:
        parent.stdout.close()
        if not gone(child, timeout=0):
            os.kill(child, signal.SIGKILL)


def test_a_session_that_leaves_a_process_running_fails_and_names_it(tmp_path: Path) -> None:
    (tmp_path / "test_leak.py").write_text(textwrap.dedent("""
        import subprocess, sys

        def test_leaks():
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)  # leaked-on-purpose"])
    """), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.process_guard", "-p", "no:cacheprovider",
                           str(tmp_path / "test_leak.py")], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == pytest.ExitCode.TESTS_FAILED, done.stdout + done.stderr
    assert "still running at the end of the session" in done.stdout
    assert "leaked-on-purpose" in done.stdout
