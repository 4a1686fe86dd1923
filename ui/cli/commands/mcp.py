"""Serve Quarry over MCP: research, follow-up questions, memory search and reports as tools.

Over stdio by default (what Claude Desktop, Cursor, VS Code and Zed start as an ``mcpServers``
command); with ``--http PORT`` over streamable HTTP at ``http://HOST:PORT/mcp``, on 127.0.0.1 unless
``--host`` says otherwise, and any host beyond loopback only with ``--token SECRET`` (clients send it
as ``Authorization: Bearer SECRET``). Tools: research, ask, search_memory, get_report, list_runs;
each finished run's report is a resource. Exit codes: 0 stopped, 2 bad options.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ui.cli import engine

if TYPE_CHECKING:
    from app import App

HELP = "serve research, follow-ups, memory search and reports to MCP clients (stdio or --http PORT)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``mcp``."""
    parser.add_argument("--http", type=int, metavar="PORT", help="serve streamable HTTP on PORT instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="with --http: address to listen on (default 127.0.0.1)")
    parser.add_argument("--token", help="bearer token every HTTP client must send (required beyond loopback)")
    engine.add_model_arguments(parser)


@engine.exit_on_user_errors
def run(args: argparse.Namespace, app: App) -> int:
    """Serve until the client disconnects (stdio) or Ctrl-C (HTTP); returns the exit code."""
    import anyio

    from ui.errors import BadInputError
    from ui.mcp.http import check_listen, serve_http
    from ui.mcp.server import build_server

    if args.http is None and (args.token is not None or args.host != "127.0.0.1"):
        raise BadInputError("--host and --token apply to --http PORT; stdio needs neither.")
    if args.http is not None:
        if not 0 < args.http < 65536:
            raise BadInputError(f"--http {args.http} is not a TCP port; give a number from 1 to 65535.")
        check_listen(args.host, args.token)
    engine.apply_overrides(app, args, model_and_search=False)
    server = build_server(app)
    if args.http is None:
        anyio.run(server.run_stdio_async)
        return 0
    print(f"quarry: MCP over streamable HTTP at http://{args.host}:{args.http}/mcp", file=sys.stderr, flush=True)
    anyio.run(serve_http, server, args.host, args.http, args.token)
    return 0
