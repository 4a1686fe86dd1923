"""Serve the browser UI: ``python app.py ui [--host H] [--port P]`` (loopback by default)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from agents.settings import config_file

if TYPE_CHECKING:
    from app import App

HELP = "open the browser UI (Streamlit) on a loopback address"

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "ui" / "streamlit_app.py"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``ui``."""
    parser.add_argument("--host", help="address to listen on (default: settings ui.host, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: settings ui.port, 8501)")


def streamlit_command(host: str, port: int) -> list[str]:
    """The ``streamlit run`` command line for the UI."""
    return [
        sys.executable, "-m", "streamlit", "run", str(SCRIPT),
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


def run(args: argparse.Namespace, app: App) -> int:
    """Run the Streamlit server in the foreground until it stops (Ctrl-C stops it)."""
    host = args.host or app.settings.ui.host
    port = args.port or app.settings.ui.port
    print(f"Quarry UI on http://{host}:{port} (Ctrl-C to stop)", flush=True)
    app.close()  # the server process builds its own app from the same settings
    proc = subprocess.Popen(streamlit_command(host, port), cwd=os.getcwd(), env=child_env(app))
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 130
