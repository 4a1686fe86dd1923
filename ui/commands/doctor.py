"""Report what Quarry will run on: the llama.cpp build, the models, the data directory, the HTTP cache."""

from __future__ import annotations

import argparse
import json
import platform
import sys
from typing import TYPE_CHECKING, Any

from agents.settings import ROLES, config_file
from ui.commands import cache as cache_command

if TYPE_CHECKING:
    from app import App

HELP = "check the installation: llama.cpp build (GPU or not), models, data directory, web page cache"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``doctor``."""
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--no-load", action="store_true", help="do not load the model (skip context/template checks)"
    )


def _llama_build() -> dict[str, Any]:
    try:
        import llama_cpp
    except ImportError as exc:  # the set-up step installs it; say how if it did not
        return {"installed": False, "error": f"{exc}; run ./quarry doctor to set up again"}
    return {
        "installed": True,
        "version": llama_cpp.__version__,
        "gpu_offload": bool(llama_cpp.llama_supports_gpu_offload()),
    }


def collect(app: App, load: bool = True) -> dict[str, Any]:
    """The doctor report as a dict (also used by the browser UI's settings page)."""
    from agents import llm

    settings = app.settings
    config = config_file()
    models = {role: settings.model_for(role).model_dump() for role in ROLES}
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "data_dir": str(settings.home),
        "config_file": str(config) if config else None,
        "llama_cpp": _llama_build(),
        "models": models,
        "model": llm.describe(settings, load=load),
        "http_cache": cache_command.describe(app),
    }


def run(args: argparse.Namespace, app: App) -> int:
    """Print the report; exit 1 when the default model cannot be used."""
    report = collect(app, load=not args.no_load)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        from ui.terminal import print_doctor

        print_doctor(report)
        info = report["http_cache"]
        print(f"HTTP cache: {cache_command.summary(info)} in {info['directory']} (empty it: app.py cache clear).")
    return 0 if report["model"].get("ok", False) else 1
