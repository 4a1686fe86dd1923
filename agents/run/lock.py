"""Liveness of research runs: the process executing a run holds an exclusive lock on its folder.

Guarantees:
- ``RunLock.acquire(folder, run_id)`` takes an exclusive ``flock`` on ``<run folder>/run.lock``
  (creating the file) and writes the holder's pid, host and start time into it; while it is held a
  second ``acquire`` — from another process, or another session of this one — raises ``RunBusyError``
  with one sentence, so two sessions never execute one run (and write its checkpoint) at once.
- The kernel drops the lock when the holder dies, however it dies (SIGKILL, OOM, power loss), so
  ``lock_state(folder)`` tells a run still executing (``"held"``) from one whose process is gone
  (``"free"``) without trusting ``run.json``, which a killed process never got to update.
- Readers only take a shared lock for an instant and ``acquire`` retries for a second, so listing
  runs never makes a start or a resume fail.
- The lock file is never deleted (unlinking races with a process taking it); it keeps the last
  holder's details, which ``holder(folder)`` reads for messages.
- Without ``fcntl`` (Windows) ``acquire`` only records the holder and ``lock_state`` answers
  ``"unknown"``: the status recorded in ``run.json`` stands there.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any, Literal

from agents.errors import RunBusyError

try:
    import fcntl
except ImportError:  # Windows: no flock; liveness is unknown there
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = "run.lock"
LockState = Literal["held", "free", "unknown"]
ACQUIRE_WAIT_S = 1.0  # covers a reader's momentary shared lock, never a live holder


class RunLock:
    """The exclusive lock of one executing run; ``release()`` (idempotent) or process death drops it."""

    def __init__(self, path: Path, fd: int | None) -> None:
        self.path = path
        self._fd = fd
        self._mutex = threading.Lock()

    @classmethod
    def acquire(cls, folder: Path, run_id: str) -> RunLock:
        """Lock ``folder`` for this process; ``RunBusyError`` when another session is executing the run."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None and not _lock_within(fd, ACQUIRE_WAIT_S):
            os.close(fd)
            raise RunBusyError(_busy_sentence(run_id, holder(folder)), run_id=run_id)
        details = {"run_id": run_id, "pid": os.getpid(), "host": socket.gethostname(), "started": _now()}
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(details).encode("utf-8"))  # os.pwrite is POSIX-only
        return cls(path, fd)

    @property
    def held(self) -> bool:
        """True until ``release()``."""
        return self._fd is not None

    def release(self) -> None:
        """Drop the lock (safe to call twice, from any thread)."""
        with self._mutex:
            fd, self._fd = self._fd, None
        if fd is None:
            return
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def lock_state(folder: Path) -> LockState:
    """``"held"`` while a live process executes the run in ``folder``, ``"free"`` when none does."""
    if fcntl is None:
        return "unknown"
    try:
        fd = os.open(folder / LOCK_NAME, os.O_RDONLY)
    except FileNotFoundError:
        return "free"  # never locked: a run from before locks existed, or one not started yet
    except OSError:
        return "unknown"
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return "held"
    except OSError:
        return "unknown"
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return "free"
    finally:
        os.close(fd)


def holder(folder: Path) -> dict[str, Any]:
    """The details the last holder wrote (run_id, pid, host, started), or ``{}``."""
    try:
        data = json.loads((folder / LOCK_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def describe_holder(details: dict[str, Any]) -> str:
    """``process 123 on host, since 2026-…`` (whatever of it is known), for messages."""
    parts = [f"process {details['pid']}" if details.get("pid") else "another process"]
    if details.get("host"):
        parts.append(f"on {details['host']}")
    text = " ".join(parts)
    return f"{text}, since {details['started']}" if details.get("started") else text


def _lock_within(fd: int, seconds: float) -> bool:
    assert fcntl is not None
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)


def _busy_sentence(run_id: str, details: dict[str, Any]) -> str:
    return (f"Run {run_id} is already running ({describe_holder(details)}); wait for it to finish, "
            f"or stop that process and then resume with `quarry research --resume {run_id}`.")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
