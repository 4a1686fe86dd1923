"""Fetch one URL through the network guard and print its extracted content.

Prints the page's main content as Markdown under a short metadata header (``--json``: the extracted
Document as JSON; ``--raw``: the fetched text without extraction). A refused or failed URL ends the
command with exit status 1 and one line saying why.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from tools.types import Document, FetchResult

if TYPE_CHECKING:
    from app import App

HELP = "fetch one URL through the network guard and print its main content as Markdown"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``fetch``."""
    parser.add_argument("url", help="an http or https URL")
    parser.add_argument("--json", action="store_true", help="print the extracted Document as JSON")
    parser.add_argument("--raw", action="store_true", help="print the fetched text without extraction")


async def _fetch(app: App, url: str) -> FetchResult:
    fetcher = app.fetcher()
    try:
        return await fetcher.fetch(url)
    finally:
        await fetcher.aclose()


def render(doc: Document, result: FetchResult) -> str:
    """The Markdown shown for a fetched page: a metadata header, then the content."""
    meta = [
        ("URL", result.final_url),
        ("Author", doc.author),
        ("Published", doc.published),
        ("Language", doc.language),
        ("Type", result.content_type),
        ("Fetched", result.fetched_at + (" (cache)" if result.from_cache else "")),
        ("Pages", str(len(doc.pages)) if doc.pages else None),
    ]
    lines = [f"# {doc.title or result.final_url}", ""]
    lines += [f"- {name}: {value}" for name, value in meta if value]
    if result.truncated:
        lines.append("- Note: the page was cut at the size cap")
    return "\n".join([*lines, "", doc.markdown.strip(), ""])


def run(args: argparse.Namespace, app: App) -> int:
    """Fetch, extract and print; errors reach ``app.main`` as one-line ``ToolError``s."""
    result = asyncio.run(_fetch(app, args.url))
    if args.raw:
        print(result.text if result.text is not None else f"({len(result.body)} bytes of {result.content_type})")
        return 0
    from tools.extract import extract_result

    doc = extract_result(result)
    if args.json:
        print(json.dumps(asdict(doc), indent=2, ensure_ascii=False, default=str))
    else:
        print(render(doc, result))
    return 0
