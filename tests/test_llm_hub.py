"""Hugging Face references: downloaded once from a (fake, loopback) Hub; offline says what to do.

The downloads run in a subprocess so that ``HF_HUB_OFFLINE`` (read by huggingface_hub when it is
imported) is exactly what each case needs; the fake Hub speaks the two requests
``hf_hub_download`` makes: ``HEAD`` for the metadata, then ``GET`` for the bytes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from agents.errors import ModelNotFoundError
from agents.llm.hub import cached_path, is_hub_reference, resolve_model

ROOT = Path(__file__).resolve().parents[1]
PAYLOAD = b"GGUF" + bytes(range(256)) * 64


class _Hub(BaseHTTPRequestHandler):
    log: ClassVar[list[str]] = []

    def _answer(self, with_body: bool) -> None:
        type(self).log.append(f"{self.command} {self.path}")
        if self.path != "/owner/repo/resolve/main/models/tiny.gguf":
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("X-Repo-Commit", "a" * 40)
        self.send_header("ETag", f'"{hashlib.sha256(PAYLOAD).hexdigest()}"')
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        if with_body:
            self.wfile.write(PAYLOAD)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def fake_hub() -> Iterator[tuple[str, type[_Hub]]]:
    handler = type("Hub", (_Hub,), {"log": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def _resolve_in_subprocess(reference: str, models: Path, endpoint: str | None, offline: bool) -> tuple[int, str]:
    done = _run_resolve(reference, models, endpoint, offline)
    return done.returncode, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr


def _run_resolve(reference: str, models: Path, endpoint: str | None, offline: bool) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys; from pathlib import Path; from agents.llm.hub import resolve_model\n"
        "from agents.errors import ModelNotFoundError\n"
        "try:\n"
        f"    print(resolve_model({reference!r}, Path({str(models)!r}), endpoint={endpoint!r}))\n"
        "except ModelNotFoundError as err:\n"
        "    print(err); sys.exit(3)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1" if offline else "0", "HF_HOME": str(models / "hf-home")}
    env.pop("HF_ENDPOINT", None)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def dead_endpoint() -> Iterator[str]:
    """A loopback port that accepts a connection and drops it at once (a Hub behind a broken network)."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def drop() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=drop, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()


def _refused_endpoint() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"  # closed again: connecting is refused


@pytest.mark.parametrize("kind", ["refused", "dropped"])
def test_an_unreachable_hub_gives_one_sentence_at_once(kind: str, dead_endpoint: str, tmp_path: Path) -> None:
    endpoint = _refused_endpoint() if kind == "refused" else dead_endpoint
    done = _run_resolve("owner/repo/tiny.gguf", tmp_path, endpoint, offline=False)
    assert done.returncode == 3
    assert done.stdout.strip().startswith("Could not download owner/repo/tiny.gguf from Hugging Face (offline")
    assert "\n" not in done.stdout.strip() and done.stderr == ""  # no "Retrying in 1s" lines


def test_reference_is_downloaded_once_into_the_models_folder(fake_hub: Any, tmp_path: Path) -> None:
    endpoint, hub = fake_hub
    reference = "owner/repo/models/tiny.gguf"
    models = tmp_path / "models"
    code, out = _resolve_in_subprocess(reference, models, endpoint, offline=False)
    assert code == 0, out
    target = models / "owner" / "repo" / "models" / "tiny.gguf"
    assert Path(out) == target and target.read_bytes() == PAYLOAD
    assert sum(line.startswith("GET") for line in hub.log) == 1
    requests = len(hub.log)
    # Second time: found on disk, no request at all, even offline.
    assert resolve_model(reference, models) == target
    code, out = _resolve_in_subprocess(reference, models, endpoint, offline=True)
    assert code == 0 and Path(out) == target and len(hub.log) == requests


def test_missing_file_on_the_hub_says_how_to_use_a_local_file(fake_hub: Any, tmp_path: Path) -> None:
    endpoint, _ = fake_hub
    code, out = _resolve_in_subprocess("owner/repo/other.gguf", tmp_path, endpoint, offline=False)
    assert code == 3 and "Could not download owner/repo/other.gguf" in out
    assert "QUARRY_LLM__MODEL=/path/to/model.gguf" in out


def test_offline_without_the_file_says_how_to_use_a_local_file(tmp_path: Path) -> None:
    code, out = _resolve_in_subprocess("owner/repo/tiny.gguf", tmp_path, None, offline=True)
    assert code == 3 and "QUARRY_LLM__MODEL=/path/to/model.gguf" in out and "\n" not in out


def test_local_paths_and_references_are_told_apart(tmp_path: Path) -> None:
    assert is_hub_reference("bartowski/Qwen2.5-7B-Instruct-GGUF/Qwen2.5-7B-Instruct-Q4_K_M.gguf")
    assert not is_hub_reference("./models/x.gguf") and not is_hub_reference("/abs/x.gguf")
    assert not is_hub_reference("owner/repo")
    local = tmp_path / "m.gguf"
    local.write_bytes(b"GGUF")
    assert cached_path(str(local), tmp_path) == local
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        resolve_model(str(tmp_path / "missing.gguf"), tmp_path)


def test_the_embedding_model_failure_names_its_own_setting(tmp_path: Path) -> None:
    from app import build_app
    from memory.errors import MemoryStoreError

    app = build_app(home=tmp_path / "home")
    app.settings.memory.embedding_model = "owner/repo/embed.gguf"
    with pytest.raises((ModelNotFoundError, MemoryStoreError)) as caught:
        app.memory()
    message = str(caught.value)
    assert "QUARRY_MEMORY__EMBEDDING_MODEL=/path/to/model.gguf" in message and "QUARRY_LLM__MODEL" not in message
