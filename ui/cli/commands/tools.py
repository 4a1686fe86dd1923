"""List the tools a research run can call, or call one for debugging.

``tools`` lists every tool — built-in, from an installed plugin (package and version) or from an
MCP server configured in the settings file (started for the listing, stopped after) — with its
description and argument schema. ``tools call NAME --args JSON`` runs one tool and prints its output;
it exits 1 when the tool fails. Plugins or servers that could not be loaded are reported on stderr,
one line each, and everything else still works.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from tools.errors import PluginError

if TYPE_CHECKING:
    from app import App
    from tools.registry import ToolOutcome, ToolRegistry

HELP = "list the tools (built-in, plugins, MCP servers) or call one: tools call NAME --args JSON"

_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``tools``."""
    parser.add_argument("action", nargs="?", choices=("list", "call"), default="list",
                        help="list the tools (default) or call one")
    parser.add_argument("name", nargs="?", help="the tool to call (with `call`)")
    parser.add_argument("--args", default="{}", metavar="JSON", help="the tool's arguments as a JSON object")
    parser.add_argument("--timeout", type=float, default=None, metavar="S",
                        help="seconds before the call is abandoned (default: plugins.tool_timeout_s)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--no-mcp", action="store_true", help="do not start the configured MCP servers")


def clean(text: str) -> str:
    """Text from a plugin or server made safe for a terminal: no control characters or escapes."""
    return _CONTROL.sub("", text)


def describe(registry: ToolRegistry) -> list[dict[str, Any]]:
    """Every tool as a dict: name, origin, description, the (bounded) argument schema."""
    return [
        {
            "name": tool.name,
            "origin": tool.origin,
            "description": tool.description,
            "parameters": registry.arguments_schema(tool.name),
        }
        for tool in registry.tools()
    ]


def parse_arguments(raw: str) -> dict[str, Any]:
    """The ``--args`` JSON object; anything else raises ``PluginError`` with one sentence."""
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PluginError(f"--args is not valid JSON ({exc.msg} at character {exc.pos}); give a JSON object.") from exc
    if not isinstance(value, dict):
        raise PluginError("--args must be a JSON object such as '{\"query\": \"heat pumps\"}'.")
    return value


def run(args: argparse.Namespace, app: App) -> int:
    """List the tools or call one; exit 1 when a called tool fails."""
    registry = app.registry()
    if args.action == "call" and not args.name:
        raise PluginError("Name the tool to call: tools call NAME --args JSON (run `tools` to list them).")
    arguments = parse_arguments(args.args) if args.action == "call" else {}
    if args.no_mcp:
        return _run(args, registry, arguments)
    with registry.sync_session():
        return _run(args, registry, arguments)


def _run(args: argparse.Namespace, registry: ToolRegistry, arguments: dict[str, Any]) -> int:
    for problem in registry.problems:
        print(f"quarry: {clean(problem)}", file=sys.stderr)
    if args.action == "list":
        _print_list(describe(registry), as_json=args.json)
        return 0
    outcome = registry.call_sync(args.name, arguments, timeout_s=args.timeout)
    _print_outcome(outcome, as_json=args.json)
    return 0 if outcome.ok else 1


def _print_list(tools: list[dict[str, Any]], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(tools, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False)
    if not tools:
        console.print("No tools are available.")
    for tool in tools:
        console.print(f"[bold]{escape(tool['name'])}[/bold]  [dim]({escape(clean(tool['origin']))})[/dim]")
        console.print("  " + escape(clean(tool["description"])).replace("\n", "\n  "))
        schema = json.dumps(tool["parameters"], ensure_ascii=False)
        console.print("  arguments: " + escape(clean(schema)), soft_wrap=True)
        console.print()


def _print_outcome(outcome: ToolOutcome, *, as_json: bool) -> None:
    if as_json:
        payload = asdict(outcome)
        print(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
        return
    if not outcome.ok:
        print(f"quarry: {clean(outcome.error or 'the tool failed')}", file=sys.stderr)
        return
    if isinstance(outcome.output, list):
        for result in outcome.output:
            print(f"{result.rank}. {clean(result.title)}\n   {clean(result.url)}\n   {clean(result.snippet)}")
        if not outcome.output:
            print("(no results)")
        return
    print(clean(outcome.output))
