"""Client/server mode: the memory against a real ``chroma run`` server on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from memory.embeddings import HashingEmbedder
from memory.errors import EmbeddingMismatchError, MemoryStoreError
from memory.store import Filters, Memory
from tests.fixture_gguf import free_port


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """``chroma run`` on 127.0.0.1 with its data in a temporary folder; yields the port."""
    chroma = Path(sys.executable).parent / "chroma"
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("chroma run did not start")
                time.sleep(0.3)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_memory_over_http(chroma_server: int) -> None:
    store = Memory.open(None, host="127.0.0.1", port=chroma_server, embedder=HashingEmbedder())
    source, chunks = store.add_source("https://srv.example/a", "Server", "Chroma serves many clients.", run_id="r1")
    store.add_source("https://srv.example/b", "Server", "Chroma serves many clients.", run_id="r2")
    assert store.source_by_url("https://srv.example/b") is not None
    assert store.search("many clients", k=1, filters=Filters(run_id="r2"))[0].chunk.id == chunks[0].id
    # a second client sees the same data, including the lexical side
    other = Memory.open(None, host="127.0.0.1", port=chroma_server, embedder=HashingEmbedder())
    assert other.search("clients", k=1, mode="lexical")[0].source.id == source.id
    other.close()
    with pytest.raises(EmbeddingMismatchError):
        Memory.open(None, host="127.0.0.1", port=chroma_server, embedder=HashingEmbedder(dim=8))
    store.close()


def test_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(MemoryStoreError, match="Chroma server"):
        Memory.open(None, host="127.0.0.1", port=free_port(), embedder=HashingEmbedder())
