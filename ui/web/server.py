"""The browser UI's server process: Streamlit, bound to the life of the process that started it.

``python -m ui.web.server PARENT_PID run SCRIPT [streamlit options]`` runs Streamlit in this process and
guarantees it stops when its parent (``python app.py ui``) is gone, however the parent ended —
Ctrl-C, SIGTERM, SIGHUP, SIGKILL or a crash:

- the parent holds the write end of a pipe that is this process's stdin and never writes to it; a
  thread here blocks reading it, and end-of-file (the kernel closes the pipe when the parent dies)
  stops the server. This works on every platform and needs no polling;
- on Linux the kernel also sends SIGTERM when the parent dies (``prctl(PR_SET_PDEATHSIG)``), which
  covers a pipe kept open by something else.

Stopping is Streamlit's own SIGTERM handling (a clean shutdown); if the server is still up
``GRACE_S`` seconds later, the process exits at once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import stat
import sys
import threading

GRACE_S = 10.0
PR_SET_PDEATHSIG = 1


def _stop(reason: str) -> None:
    """Ask Streamlit to shut down (SIGTERM to this process); exit hard if it has not after the grace period."""
    print(f"quarry ui: {reason}; stopping the server.", file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGTERM)
    threading.Event().wait(GRACE_S)
    os._exit(1)


def _watch_stdin() -> None:
    try:
        while sys.stdin.buffer.read(4096):
            pass  # the parent never writes; anything read is ignored
    except (OSError, ValueError):
        pass
    _stop("the process that started the UI has ended")


def die_with_parent(parent_pid: int) -> None:
    """Stop this process when ``parent_pid`` (the process that started it) ends, however it ends."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the line above took effect
        _stop("the process that started the UI had already ended")
    if sys.stdin is not None and stat.S_ISFIFO(os.fstat(sys.stdin.fileno()).st_mode):
        threading.Thread(target=_watch_stdin, name="quarry-ui-lifeline", daemon=True).start()


def main(argv: list[str]) -> int:
    """Bind this process to its parent, then run the Streamlit command line with ``argv[1:]``."""
    die_with_parent(int(argv[0]))
    from streamlit.web import cli

    sys.argv = ["streamlit", *argv[1:]]
    cli.main(prog_name="streamlit")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
