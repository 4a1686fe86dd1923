"""Fixtures: tiny random-weight GGUF models, and llama-cpp-python's OpenAI-compatible server on them.

- ``tiny_gguf``: a 2-layer llama model with a byte vocabulary and a ChatML template (session).
- ``tiny_gguf_no_template``: the same without a chat template (session).
- ``llama_server``: ``python -m llama_cpp.server`` serving ``tiny_gguf`` on 127.0.0.1 (session);
  yields its base URL (``http://127.0.0.1:PORT/v1``). The model name it answers to is "tiny".
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gguf_factory import write_tiny_gguf
from tests.process_guard import stop_process


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-weight llama GGUF with a ChatML template."""
    return write_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


@pytest.fixture(scope="session")
def tiny_gguf_no_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-weight llama GGUF without a chat template."""
    return write_tiny_gguf(tmp_path_factory.mktemp("gguf") / "bare.gguf", chat_template=None)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def llama_server(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on loopback, serving ``tiny_gguf``."""
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(tiny_gguf), "--model_alias", "tiny",
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--verbose", "False",
    ]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 60
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/models", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start in 60 s: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        stop_process(proc, timeout_s=10)
