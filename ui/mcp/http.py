"""Streamable HTTP for ``quarry mcp --http PORT``: loopback by default, a bearer token beyond it.

Guarantees: ``check_listen`` refuses a host other than loopback unless a token is given; with a
token, every HTTP request must carry ``Authorization: Bearer <token>`` (compared in constant time)
or it is answered 401 before it reaches the MCP server.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from typing import Any

from ui.errors import BadInputError

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.strip("[]").lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_listen(host: str, token: str | None) -> None:
    """Refuse to listen beyond loopback without a token, or with an empty one (one sentence)."""
    if token is not None and not token.strip():
        raise BadInputError("--token is empty; give a long random secret (e.g. `openssl rand -hex 32`).")
    if not is_loopback(host) and token is None:
        raise BadInputError(f"Listening on {host} lets other machines reach Quarry; give --token SECRET "
                            "(clients send it as a bearer token) or listen on 127.0.0.1.")


class BearerGuard:
    """ASGI middleware: HTTP requests without ``Authorization: Bearer <token>`` get 401."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and not self._authorized(scope):
            body = json.dumps({"error": "unauthorized",
                               "message": "Send the server's token as 'Authorization: Bearer <token>'."}).encode()
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)

    def _authorized(self, scope: dict[str, Any]) -> bool:
        given = dict(scope.get("headers") or []).get(b"authorization", b"")
        return hmac.compare_digest(given, self._expected)


def http_app(server: Any, host: str, token: str | None) -> Any:
    """The server's streamable-HTTP ASGI app at ``/mcp``, behind the bearer guard when a token is given."""
    app = server.streamable_http_app(host=host)
    return BearerGuard(app, token) if token is not None else app


async def serve_http(server: Any, host: str, port: int, token: str | None) -> None:
    """Serve until stopped (uvicorn; Ctrl-C ends it)."""
    import uvicorn

    check_listen(host, token)
    config = uvicorn.Config(http_app(server, host, token), host=host, port=port, log_level="warning")
    await uvicorn.Server(config).serve()
