"""The onnx embedding backend for real: Chroma's ONNXMiniLM_L6_V2 over a tiny generated model and tokenizer.

The archive (``tests.onnx_factory``) is served by a loopback fixture web or read from a local file; the
download, checksum, unpacking, caching and Chroma's tokenizer, onnxruntime session and pooling all run.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from tokenizers import Tokenizer

from agents.settings import SettingsError, load_settings
from app import App
from memory.embeddings import OnnxEmbedder, build_embedder
from memory.embeddings_onnx import ONNX_FILES, ONNX_SHA256, ONNX_URL, onnx_fingerprint, onnx_folder
from memory.errors import EmbeddingError
from memory.store import Memory
from tests import onnx_factory
from tests.fixture_web import FixtureWeb

DIM = 32
ARCHIVE_PATH = "/models/onnx.tar.gz"


@pytest.fixture(scope="module")
def archive() -> bytes:
    """A tiny stand-in for Chroma's onnx.tar.gz (built once for this module)."""
    return onnx_factory.onnx_archive(DIM, seed=7)


@pytest.fixture
def sha(archive: bytes) -> str:
    """The archive's SHA-256."""
    return hashlib.sha256(archive).hexdigest()


@pytest.fixture
def web(archive: bytes) -> Iterator[FixtureWeb]:
    """A loopback server with the archive at ``ARCHIVE_PATH`` and nothing else."""
    with FixtureWeb({ARCHIVE_PATH: archive}, defaults=False) as server:
        yield server


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _assert_nothing_cached(cache: Path) -> None:
    """A failure leaves no model, no archive and no temporary folder in the cache."""
    assert _files(cache) == []
    leftovers = list((cache / "onnx").iterdir()) if (cache / "onnx").exists() else []
    assert leftovers == []


def _served(web: FixtureWeb, path: str, body: bytes) -> tuple[str, str]:
    web.add_page(path, body, "application/gzip")
    return web.url(path), hashlib.sha256(body).hexdigest()


def _one_sentence(message: str) -> None:
    assert message.endswith(".") and message[0].isupper() and ";" in message and "\n" not in message


def test_constants_are_chromadbs() -> None:
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    assert ONNX_URL == ONNXMiniLM_L6_V2.MODEL_DOWNLOAD_URL
    assert ONNX_SHA256 == ONNXMiniLM_L6_V2._MODEL_SHA256  # the default checksum is the archive Chroma trusts
    assert onnx_fingerprint(ONNX_SHA256, 384) == "onnx:all-MiniLM-L6-v2:384"  # stores built before keep working
    assert onnx_folder(Path("/m")) == Path("/m/onnx/all-MiniLM-L6-v2")


def test_vectors_are_the_models_mean_pooled_and_normalized(tmp_path: Path, web: FixtureWeb, sha: str) -> None:
    emb = OnnxEmbedder(str(tmp_path / "cache"), url=web.url(ARCHIVE_PATH), sha256=sha)
    texts = ["Perovskite solar cell efficiency", "A whale in the ocean", "lithium battery 2024", "zzz qqq"]
    vectors = np.asarray(emb(texts))
    assert emb.dim == DIM and vectors.shape == (4, DIM)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(np.asarray(emb(texts)), vectors)  # deterministic
    np.testing.assert_allclose(np.asarray(emb([texts[1], texts[0]])), vectors[[1, 0]], atol=1e-6)  # batch-independent
    assert min(np.linalg.norm(vectors[i] - vectors[j]) for i in range(4) for j in range(i)) > 0.05
    assert emb.fingerprint == f"onnx:sha256-{sha[:16]}:{DIM}"

    # The same numbers straight from onnxruntime and the tokenizer: mean over real tokens, then L2.
    files = emb.folder / "onnx"
    session = ort.InferenceSession(str(files / "model.onnx"), providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(files / "tokenizer.json"))
    for text, got in zip(texts, vectors, strict=True):
        ids = np.asarray([tokenizer.encode(text).ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        mean = session.run(None, feed)[0][0].mean(axis=0)
        np.testing.assert_allclose(got, mean / np.linalg.norm(mean), atol=1e-5)


def test_downloaded_once_then_read_from_the_cache(tmp_path: Path, web: FixtureWeb, sha: str) -> None:
    cache, url = tmp_path / "cache", web.url(ARCHIVE_PATH)
    first = OnnxEmbedder(str(cache), url=url, sha256=sha)
    assert web.hits(ARCHIVE_PATH) == 1
    folder = onnx_folder(cache, sha)
    assert first.folder == folder and folder.name == f"all-MiniLM-L6-v2-{sha[:16]}"
    assert sorted(p.name for p in (folder / "onnx").iterdir()) == sorted(ONNX_FILES)
    assert [p.name for p in (cache / "onnx").iterdir()] == [folder.name]  # no archive or temporary left
    web.stop()  # offline from now on
    second = OnnxEmbedder(str(cache), url=url, sha256=sha)
    assert web.hits(ARCHIVE_PATH) == 1
    np.testing.assert_array_equal(np.asarray(second(["solar cell"])), np.asarray(first(["solar cell"])))


def test_a_local_file_or_file_url_needs_no_server(tmp_path: Path, archive: bytes, sha: str) -> None:
    local = tmp_path / "downloads" / "onnx.tar.gz"
    local.parent.mkdir()
    local.write_bytes(archive)
    by_path = OnnxEmbedder(str(tmp_path / "a"), url=str(local), sha256=sha)
    by_url = OnnxEmbedder(str(tmp_path / "b"), url=local.as_uri(), sha256=sha.upper())
    np.testing.assert_array_equal(np.asarray(by_path(["ocean"])), np.asarray(by_url(["ocean"])))
    assert local.read_bytes() == archive  # the user's copy is left alone


def test_an_incomplete_earlier_copy_is_replaced(tmp_path: Path, web: FixtureWeb, sha: str) -> None:
    cache = tmp_path / "cache"
    stale = onnx_folder(cache, sha) / "onnx"
    stale.mkdir(parents=True)
    (stale / "model.onnx").write_bytes(b"half a model")
    emb = OnnxEmbedder(str(cache), url=web.url(ARCHIVE_PATH), sha256=sha)
    assert web.hits(ARCHIVE_PATH) == 1 and len(emb(["cell"])[0]) == DIM
    assert sorted(p.name for p in stale.iterdir()) == sorted(ONNX_FILES)


def test_memory_adds_and_searches_with_onnx_vectors(tmp_path: Path, web: FixtureWeb, sha: str) -> None:
    cache, url = tmp_path / "cache", web.url(ARCHIVE_PATH)
    texts = {
        "https://a.example/solar": "Perovskite solar cell efficiency rose again this year.",
        "https://a.example/whale": "The whale crossed the ocean in the spring.",
        "https://a.example/battery": "Lithium battery prices fell by 12 percent.",
    }
    store = Memory.open(tmp_path / "chroma", embedder=OnnxEmbedder(str(cache), url=url, sha256=sha))
    for link, text in texts.items():
        store.add_source(link, link.rsplit("/", 1)[1], text, run_id="run1")
    assert store.stats()["embedding"] == f"onnx:sha256-{sha[:16]}:{DIM}"
    for link, text in texts.items():  # a chunk's own text is its nearest neighbour
        assert store.search(text, k=1, mode="dense")[0].source.urls == (link,)
    assert store.search("whale ocean", k=1)[0].source.urls == ("https://a.example/whale",)
    store.close()

    again = Memory.open(tmp_path / "chroma", embedder=OnnxEmbedder(str(cache), url=url, sha256=sha))
    assert again.search(texts["https://a.example/battery"], k=1, mode="dense")[0].source.title == "battery"
    assert again.stats()["counts"]["chunks"] == 3
    again.close()
    assert web.hits(ARCHIVE_PATH) == 1


def test_settings_reach_the_embedder(
    tmp_path: Path, web: FixtureWeb, sha: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUARRY_MEMORY__EMBEDDING_BACKEND", "onnx")
    monkeypatch.setenv("QUARRY_MEMORY__ONNX_URL", web.url(ARCHIVE_PATH))
    monkeypatch.setenv("QUARRY_MEMORY__ONNX_SHA256", sha)
    settings = load_settings(home=tmp_path / "home")
    app = App(settings=settings)
    try:
        store = app.memory()
        assert store.stats()["embedding"] == f"onnx:sha256-{sha[:16]}:{DIM}"
        assert onnx_folder(settings.models_dir, sha).is_dir() and web.hits(ARCHIVE_PATH) == 1
    finally:
        app.close()
    monkeypatch.setenv("QUARRY_MEMORY__ONNX_SHA256", "not-a-checksum")
    with pytest.raises(SettingsError, match="onnx_sha256"):
        load_settings(home=tmp_path / "home")


def test_build_embedder_passes_the_mirror_and_checksum(tmp_path: Path, web: FixtureWeb, sha: str) -> None:
    emb = build_embedder("onnx", "", cache_dir=tmp_path, onnx_url=web.url(ARCHIVE_PATH), onnx_sha256=sha)
    assert isinstance(emb, OnnxEmbedder) and emb.get_config() == {
        "cache_dir": str(tmp_path), "url": web.url(ARCHIVE_PATH), "sha256": sha}
    assert OnnxEmbedder.build_from_config(emb.get_config()) is emb  # Chroma gets the live instance back


# ------------------------------------------------------------------ failures: one sentence, nothing cached


def test_offline(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(EmbeddingError) as err:
        OnnxEmbedder(str(tmp_path / "cache"), url=f"http://127.0.0.1:{port}/onnx.tar.gz")
    message = str(err.value)
    assert "offline, or the server cannot be reached" in message and "memory.onnx_url" in message
    assert ONNX_URL in message  # what to download by hand
    _one_sentence(message)
    _assert_nothing_cached(tmp_path / "cache")


def test_not_found_then_found(tmp_path: Path, web: FixtureWeb, archive: bytes, sha: str) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(EmbeddingError, match=r"HTTP 404.*memory\.onnx_url") as err:
        OnnxEmbedder(str(cache), url=web.url("/later/onnx.tar.gz"), sha256=sha)
    _one_sentence(str(err.value))
    _assert_nothing_cached(cache)
    url, _ = _served(web, "/later/onnx.tar.gz", archive)  # the mirror catches up: the next start works
    assert len(OnnxEmbedder(str(cache), url=url, sha256=sha)(["x"])[0]) == DIM


def test_a_mirror_is_held_to_chromas_checksum(tmp_path: Path, web: FixtureWeb) -> None:
    with pytest.raises(EmbeddingError) as err:  # a mirror serving something else than Chroma's archive
        OnnxEmbedder(str(tmp_path / "cache"), url=web.url(ARCHIVE_PATH))
    message = str(err.value)
    assert f"not {ONNX_SHA256}" in message and "memory.onnx_sha256" in message
    _one_sentence(message)
    _assert_nothing_cached(tmp_path / "cache")


def test_checksum_mismatch(tmp_path: Path, web: FixtureWeb, sha: str) -> None:
    wrong = hashlib.sha256(b"another archive").hexdigest()
    with pytest.raises(EmbeddingError, match=f"SHA-256 {sha}, not {wrong}"):
        OnnxEmbedder(str(tmp_path / "cache"), url=web.url(ARCHIVE_PATH), sha256=wrong)
    _assert_nothing_cached(tmp_path / "cache")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<html>Access denied</html>" * 10, "cannot be unpacked"),
        (onnx_factory.pack({"../escape.txt": b"outside", "onnx/model.onnx": b"x"}), "cannot be unpacked"),
        (onnx_factory.pack({k: v for k, v in onnx_factory.archive_files(8).items() if "tokenizer.json" not in k}),
         "lacks onnx/tokenizer.json"),
        (onnx_factory.pack({**onnx_factory.archive_files(8), "onnx/model.onnx": b"not a model"}),
         "does not load or run"),
    ],
    ids=["not-an-archive", "path-escape", "missing-file", "broken-model"],
)
def test_bad_archive(tmp_path: Path, web: FixtureWeb, body: bytes, expected: str) -> None:
    url, digest = _served(web, "/bad/onnx.tar.gz", body)
    with pytest.raises(EmbeddingError, match=expected) as err:
        OnnxEmbedder(str(tmp_path / "cache"), url=url, sha256=digest)
    assert "memory.onnx_url" in str(err.value)
    _one_sentence(str(err.value))
    _assert_nothing_cached(tmp_path / "cache")
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "cache" / "escape.txt").exists()


@pytest.mark.parametrize(
    ("url", "sha256", "expected"),
    [
        ("ftp://mirror.example/onnx.tar.gz", None, "neither http"),
        ("/nowhere/onnx.tar.gz", None, "Cannot read the ONNX model archive /nowhere/onnx.tar.gz"),
        (None, "abc123", "set memory.onnx_sha256 to 64 hex digits"),
    ],
    ids=["scheme", "missing-file", "bad-checksum"],
)
def test_bad_settings(tmp_path: Path, url: str | None, sha256: str | None, expected: str) -> None:
    with pytest.raises(EmbeddingError, match=expected) as err:
        OnnxEmbedder(str(tmp_path / "cache"), url=url, sha256=sha256)
    _one_sentence(str(err.value))
    _assert_nothing_cached(tmp_path / "cache")
