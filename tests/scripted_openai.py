"""A scripted OpenAI-compatible server on loopback: chat completions from a scripted brain, embeddings.

For tests that run the real app in another process (``python app.py ui``) with settings pointing
``llm.backend = "openai"`` and ``memory.embedding_backend = "openai"`` at it, so model calls take the
real HTTP path through the openai SDK. ``/v1/chat/completions`` answers structured requests with
``brain(messages, schema)`` (the schema from ``response_format``) as JSON text, plain requests with
"ok"; ``/v1/embeddings`` answers with the deterministic ``HashingEmbedder`` vectors; every request
is counted in ``.calls``.

API: ``ScriptedOpenAI(brain).start()`` / ``.stop()`` (or ``with``); ``.base_url`` (ends in ``/v1``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from memory.embeddings import HashingEmbedder

Brain = Callable[[Sequence[dict[str, str]], Any], Any]


def schema_of(body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema a chat request asks for, in either dialect (or ``None``)."""
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        return schema if isinstance(schema, dict) else None
    if fmt.get("type") == "json_object" and isinstance(fmt.get("schema"), dict):
        return dict(fmt["schema"])
    return None


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        return

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, {"object": "list", "data": [{"id": "scripted", "object": "model", "owned_by": "test"}]})
        else:
            self._send(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        owner = self.server.owner
        if self.path.endswith("/chat/completions"):
            self._send(200, owner.chat(body))
        elif self.path.endswith("/embeddings"):
            self._send(200, owner.embeddings(body))
        else:
            self._send(404, {"error": {"message": "not found"}})


class _Server(ThreadingHTTPServer):
    owner: ScriptedOpenAI
    daemon_threads = True


class ScriptedOpenAI:
    """The server; see the module docstring."""

    def __init__(self, brain: Brain) -> None:
        self.brain = brain
        self.calls: dict[str, int] = {}
        self._embedder = HashingEmbedder()
        self._lock = threading.Lock()
        self._server: _Server | None = None

    def _count(self, kind: str) -> None:
        with self._lock:
            self.calls[kind] = self.calls.get(kind, 0) + 1

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        """One chat completion."""
        self._count("chat")
        messages = body.get("messages", [])
        schema = schema_of(body)
        answer = "ok" if schema is None else json.dumps(self.brain(messages, schema))
        words = sum(len(str(m.get("content", "")).split()) for m in messages)
        return {
            "id": f"chatcmpl-{time.time_ns()}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "scripted"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": answer}}],
            "usage": {"prompt_tokens": words, "completion_tokens": len(answer.split()),
                      "total_tokens": words + len(answer.split())},
        }

    def embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        """Deterministic embeddings for every input string."""
        self._count("embeddings")
        texts = body.get("input", [])
        texts = [texts] if isinstance(texts, str) else list(texts)
        vectors = self._embedder([str(t) for t in texts])
        return {"object": "list", "model": body.get("model", "hashing"),
                "data": [{"object": "embedding", "index": i, "embedding": [float(x) for x in vec]}
                         for i, vec in enumerate(vectors)],
                "usage": {"prompt_tokens": 0, "total_tokens": 0}}

    def start(self) -> ScriptedOpenAI:
        """Serve on an ephemeral loopback port in a daemon thread."""
        server = _Server(("127.0.0.1", 0), _Handler)
        server.owner = self
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``."""
        assert self._server is not None, "the scripted OpenAI server is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> ScriptedOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
