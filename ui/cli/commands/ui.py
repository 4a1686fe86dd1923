"""Serve the browser UI: ``python app.py ui [--host H] [--port P]`` (loopback by default).

The Streamlit server is a child process (``ui/web/server.py``) that never outlives this one: Ctrl-C,
SIGTERM and SIGHUP here stop it (and then this process, with 130, 143 or 129), and if this process
dies any other way the child notices and stops itself.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from agents.settings import config_file

if TYPE_CHECKING:
    from app import App

HELP = "open the browser UI (Streamlit) on a loopback address"

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "ui" / "web" / "streamlit_app.py"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``ui``."""
    parser.add_argument("--host", help="address to listen on (default: settings ui.host, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: settings ui.port, 8501)")


def streamlit_command(host: str, port: int) -> list[str]:
    """The ``streamlit run`` command line for the UI, run by ``ui.web.server`` bound to this process."""
    return [
        sys.executable, "-m", "ui.web.server", str(os.getpid()), "run", str(SCRIPT),
        "--server.headless", "true",
        "--server.address", host,
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "minimal",
    ]


def child_env(app: App) -> dict[str, str]:
    """The environment for the server: the same settings sources, pinned to this process's files."""
    env = dict(os.environ)
    config = config_file()
    if config is not None:
        env["QUARRY_CONFIG"] = str(config.resolve())
    env["QUARRY_HOME"] = str(app.settings.home)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    return env


class _Stopped(Exception):
    """This process got SIGTERM or SIGHUP while the server ran."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise _Stopped(signum)


def serve(command: list[str], env: dict[str, str]) -> int:
    """Run the server until it exits or this process is stopped; the server never outlives the call.

    The child's stdin is a pipe nobody writes to: its end of file tells the child this process is gone.
    """
    previous = {sig: signal.signal(sig, _raise_stopped) for sig in (signal.SIGTERM, signal.SIGHUP)}
    proc = subprocess.Popen(command, cwd=os.getcwd(), env=env, stdin=subprocess.PIPE)
    try:
        try:
            return proc.wait()
        finally:  # a second signal while stopping acts as usual: the child still stops itself
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    except KeyboardInterrupt:
        return _stop(proc, 130)
    except _Stopped as stopped:
        return _stop(proc, 128 + stopped.signum)
    finally:
        if proc.poll() is None:  # an unexpected error above: still never leave the server behind
            _stop(proc, 1)
        if proc.stdin is not None:
            proc.stdin.close()


def _stop(proc: subprocess.Popen[bytes], code: int) -> int:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return code


def run(args: argparse.Namespace, app: App) -> int:
    """Run the Streamlit server in the foreground until it stops (Ctrl-C, SIGTERM or SIGHUP stop it)."""
    host = args.host or app.settings.ui.host
    port = args.port or app.settings.ui.port
    print(f"Quarry UI on http://{host}:{port} (Ctrl-C to stop)", flush=True)
    app.close()  # the server process builds its own app from the same settings
    return serve(streamlit_command(host, port), child_env(app))
