"""See and clear the fetcher's disk HTTP cache (``<data dir>/cache/http``); downloaded models are never touched.

``cache stats`` prints the entry count, size and bounds; ``cache clear`` removes every cached page.
Only files named like HTTP cache entries inside the HTTP cache folder are removed, so the models in
``<data dir>/cache/models`` (chat models, embedding models, the ONNX embedder) stay where they are.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from tools.web.http_cache import MB, HttpCache, cache_stats

if TYPE_CHECKING:
    from app import App

HELP = "show the web page cache's size (stats) or empty it (clear); downloaded models are kept"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cache``."""
    parser.add_argument("action", choices=("stats", "clear"), help="stats: size and bounds; clear: remove all pages")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def describe(app: App) -> dict[str, Any]:
    """The HTTP cache's folder, entries, size and bounds (also shown by ``doctor``)."""
    fetch = app.settings.fetch
    stats = cache_stats(app.settings.http_cache_dir)
    return {
        "directory": str(stats.directory),
        "entries": stats.entries,
        "bytes": stats.bytes,
        "max_mb": fetch.cache_max_mb,
        "max_age_days": fetch.cache_max_age_days,
        "enabled": fetch.use_cache,
    }


def summary(info: dict[str, Any]) -> str:
    """One line: entries, size against the cap, age limit."""
    pages = f"{info['entries']} page{'' if info['entries'] == 1 else 's'}"
    return (
        f"{pages}, {info['bytes'] / MB:.1f} MB of {info['max_mb']:g} MB, "
        f"unused pages kept {info['max_age_days']:g} days" + ("" if info["enabled"] else " (caching is off)")
    )


def run(args: argparse.Namespace, app: App) -> int:
    """Print the cache's stats, or clear it and say what was removed."""
    info = describe(app)
    if args.action == "clear":
        report = HttpCache(app.settings.http_cache_dir).clear()
        info = {**describe(app), "removed": report.removed, "freed_bytes": report.freed_bytes}
    if args.json:
        print(json.dumps(info, indent=2))
    elif args.action == "clear":
        print(
            f"Removed {info['removed']} cached pages ({info['freed_bytes'] / MB:.1f} MB) from {info['directory']}; "
            f"downloaded models in {app.settings.models_dir} were kept."
        )
    else:
        print(f"HTTP cache {info['directory']}: {summary(info)}.")
    return 0
