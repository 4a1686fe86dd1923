"""A pytest plugin: the suite fails when a process a test started is still running at the end.

At session start the pytest process becomes a child subreaper (Linux ``PR_SET_CHILD_SUBREAPER``),
so a process whose parent died (an orphaned server, a daemon) is re-parented to pytest instead of
init and still counts as started by the tests. At session end — after every fixture's teardown —
each live descendant is named, killed, and the exit status set to "tests failed". Processes are
read from ``/proc``; where there is none (not Linux) the check is skipped.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PROC = Path("/proc")
PR_SET_CHILD_SUBREAPER = 36
SETTLE_S = 5.0  # processes being stopped right now get this long to exit


@dataclass(frozen=True)
class Process:
    """One live process: id, parent id and command line."""

    pid: int
    ppid: int
    command: str


def _read(pid: int) -> Process | None:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    state, ppid = stat.rsplit(")", 1)[1].split()[:2]
    if state in ("Z", "X"):  # exited, not yet reaped: nothing is running
        return None
    command = " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)
    return Process(pid, int(ppid), command or stat.split("(", 1)[1].rsplit(")", 1)[0])


def descendants(root: int) -> list[Process]:
    """Every live process below ``root`` (children, their children, …), from ``/proc``."""
    table = [p for p in (_read(int(d.name)) for d in PROC.iterdir() if d.name.isdigit()) if p is not None]
    found: list[Process] = []
    parents = {root}
    while True:
        new = [p for p in table if p.ppid in parents and p not in found]
        if not new:
            return found
        found += new
        parents = {p.pid for p in new}


def become_subreaper() -> bool:
    """Make this process the one orphaned descendants are re-parented to (Linux); False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    return int(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0


def leftovers(root: int, settle_s: float = SETTLE_S) -> list[Process]:
    """Descendants of ``root`` still alive after waiting up to ``settle_s`` for them to exit."""
    deadline = time.monotonic() + settle_s
    while True:
        alive = descendants(root)
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.1)  # polling a process table, not waiting for an app


def pytest_sessionstart(session: pytest.Session) -> None:
    """Adopt orphans of the tests' processes from here on."""
    if PROC.is_dir():
        become_subreaper()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session naming every process the tests left running, then kill them."""
    if not PROC.is_dir():
        return
    alive = leftovers(os.getpid())
    if not alive:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"{len(alive)} process(es) started by the tests are still running at the end of the session:"]
    lines += [f"  pid {p.pid} (parent {p.ppid}): {p.command[:300]}" for p in alive]
    for line in lines:
        if reporter is not None:
            reporter.write_line(line, red=True)
        else:
            print(line, file=sys.stderr)
    for p in alive:
        with contextlib.suppress(OSError):
            os.kill(p.pid, signal.SIGKILL)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def stop_process(proc: subprocess.Popen[Any], timeout_s: float = 15.0) -> None:
    """Terminate a child a test started, killing it when it does not exit within ``timeout_s``."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
