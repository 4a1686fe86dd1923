"""Inspect and maintain the shared memory: ``memory stats | search QUERY | forget SOURCE | forget --run ID | reindex``.

``stats`` prints counts per collection, sources per kind and per run, and the embedding model;
``search`` runs the same hybrid retrieval the agents use (``--kind local`` for your own documents);
``forget`` removes one source (by id, URL or file path) and its chunks, or with ``--run`` what one run
alone added (sources and chunks no other run read, its findings, the graph facts only it supports:
``Memory.forget_run``); an unknown source or run is one sentence and changes nothing; ``reindex``
re-embeds the whole store with the configured embedding model (needed after changing
``memory.embedding_model``; nothing is lost on the way).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app import App

HELP = "memory stats | search QUERY | forget SOURCE | forget --run RUN_ID | reindex"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """Untrusted stored text made safe for a terminal: control characters (escape codes) removed."""
    return _CONTROL.sub("", text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``memory``."""
    parser.add_argument("--json", action="store_true", help="print JSON")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("stats", help="counts per collection, sources per kind, embedding model")
    search = sub.add_parser("search", help="hybrid search over stored chunks")
    search.add_argument("query", nargs="+")
    search.add_argument("-k", type=int, default=5, help="how many passages (default 5)")
    search.add_argument("--kind", choices=["web", "local"], help="only web pages or only your documents")
    search.add_argument("--run", dest="run_id", help="only chunks a given run read")
    search.add_argument("--mmr", action="store_true", help="diversify the results")
    forget = sub.add_parser("forget", help="remove a source (id, URL or file path) and its chunks, or one run's")
    forget.add_argument("source", nargs="?")
    forget.add_argument("--run", dest="forget_run", metavar="RUN_ID",
                        help="remove what this run alone added (sources, chunks, findings, graph facts)")
    sub.add_parser("reindex", help="re-embed everything with the configured embedding model")


def _search(args: argparse.Namespace, app: App) -> list[dict[str, Any]]:
    from memory.store import Filters

    filters = Filters(kind=args.kind, run_id=args.run_id)
    hits = app.memory().search(" ".join(args.query), k=args.k, filters=filters, mmr=args.mmr)
    return [
        {
            "score": round(h.score, 5),
            "chunk_id": h.chunk.id,
            "title": h.source.title,
            "url": h.source.url,
            "page": h.chunk.page,
            "heading": h.chunk.heading,
            "text": h.chunk.text,
        }
        for h in hits
    ]


def run(args: argparse.Namespace, app: App) -> int:
    """Run one memory action; exit 1 when ``forget`` finds nothing to remove."""
    if args.action == "stats":
        result: Any = app.memory().stats()
    elif args.action == "search":
        result = _search(args, app)
    elif args.action == "forget" and (getattr(args, "forget_run", None) is None) == (args.source is None):
        print("quarry: give either a source or --run RUN_ID to forget, not both or neither.", file=sys.stderr)
        return 2
    elif args.action == "forget" and getattr(args, "forget_run", None) is not None:
        forgotten = app.memory().forget_run(args.forget_run)
        if forgotten is None:
            print(f"quarry: memory holds nothing of a run {args.forget_run!r}; `memory stats` lists its runs.",
                  file=sys.stderr)
            return 2
        result = {"run": args.forget_run, **dataclasses.asdict(forgotten)}
    elif args.action == "forget":
        removed = app.memory().forget_source(args.source)
        result = {"source": args.source, "chunks_removed": removed}
        if not removed:
            print(f"quarry: no source {args.source!r} in memory; `memory search` shows sources.", file=sys.stderr)
            return 1
    else:
        print("quarry: re-embedding the memory with the configured model…", file=sys.stderr)
        result = app.memory(reindex=True).stats()
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        _print(args.action, result)
    return 0


def _print(action: str, result: Any) -> None:
    if action == "search":
        if not result:
            print("no matching passages")
        for i, hit in enumerate(result, start=1):
            where = clean(hit["url"]) + (f" p.{hit['page']}" if hit["page"] else "")
            print(f"{i}. [{hit['score']:.4f}] {clean(hit['title'])} — {where}  ({hit['chunk_id']})")
            print("   " + clean(" ".join(hit["text"].split()))[:300])
    elif action == "forget" and "run" in result:
        print(f"forgot run {clean(result['run'])}: {result['sources']} sources, {result['chunks']} chunks, "
              f"{result['findings']} findings, {result['entities']} entities, {result['relations']} relations "
              f"removed; {result['untagged']} records other runs share were kept")
    elif action == "forget":
        print(f"removed {result['chunks_removed']} chunks of {clean(result['source'])}")
    else:
        print(f"memory: {result['where']}  embedding: {result['embedding']}")
        for name, count in result["counts"].items():
            print(f"  {name:<10} {count}")
        print("  sources: " + ", ".join(f"{k} {v}" for k, v in result["sources_by_kind"].items()))
        for run, count in result.get("sources_by_run", {}).items():
            print(f"  run {clean(run)}: {count} sources")
