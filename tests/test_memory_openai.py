"""The OpenAI-compatible embeddings backend over real HTTP to a loopback ``/v1/embeddings`` server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from memory.embeddings import HashingEmbedder, OpenAIEmbedder, build_embedder
from memory.errors import EmbeddingError
from memory.store import Memory

_REFERENCE = HashingEmbedder(dim=256)


class _Handler(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []  # noqa: RUF012  shared log of request bodies

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        if body["model"] != "embedder":
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "no such model"}}')
            return
        vectors = [3.0 * np.asarray(v) for v in _REFERENCE(body["input"])]  # not normalized on purpose
        data = [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)]
        payload = json.dumps({"object": "list", "model": "embedder", "data": data[::-1],  # out of order on purpose
                              "usage": {"prompt_tokens": 1, "total_tokens": 1}}).encode()  # fmt: skip
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def test_vectors_come_back_in_order_and_normalized(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMBED_KEY", "secret-123")
    embedder = build_embedder("openai", "embedder", base_url=server, api_key_env="EMBED_KEY")
    texts = [f"text number {i}" for i in range(300)]  # more than one request's worth
    got = np.asarray(embedder(texts))
    assert np.allclose(got, np.asarray(_REFERENCE(texts)), atol=1e-6)
    assert _Handler.requests[-1]["auth"] == "Bearer secret-123" and _Handler.requests[-1]["path"] == "/v1/embeddings"
    assert len(_Handler.requests[-2]["input"]) == 256
    assert embedder.fingerprint == f"openai:{server}:embedder"
    assert "secret" not in json.dumps(embedder.get_config())
    embedder.close()


def test_store_over_openai_embeddings(server: str, tmp_path: Path) -> None:
    embedder = OpenAIEmbedder("embedder", base_url=server)
    store = Memory.open(tmp_path / "c", embedder=embedder)
    store.add_source("https://owl.example", "Owls", "Owls hunt at night.", run_id="r")
    store.add_source("https://heron.example", "Herons", "Herons fish at dawn.", run_id="r")
    assert store.search("herons fish", k=1, mode="dense")[0].source.url == "https://heron.example"
    store.close()
    embedder.close()


def test_server_errors_become_embedding_errors(server: str) -> None:
    embedder = OpenAIEmbedder("missing-model", base_url=server)
    with pytest.raises(EmbeddingError, match="embeddings endpoint"):
        embedder(["x"])
    embedder.close()
