"""The llama.cpp embedding path on a tiny generated GGUF: batching, pooling, truncation, the store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memory.embeddings import LlamaEmbedder, build_embedder, resolve_gguf
from memory.errors import EmbeddingError, EmbeddingMismatchError
from memory.store import Memory
from tests.gguf_factory import write_corrupt_gguf


@pytest.fixture(scope="module")
def embedder(tiny_gguf: Path) -> LlamaEmbedder:
    return LlamaEmbedder(str(tiny_gguf), batch_tokens=256, n_threads=1)


def test_vectors_are_normalized_and_batching_changes_nothing(embedder: LlamaEmbedder) -> None:
    texts = ["short", "a somewhat longer sentence about bees", "x" * 40, "short"]
    together = np.asarray(embedder(texts))
    alone = np.asarray([embedder([t])[0] for t in texts])
    assert together.shape == (4, embedder.dim)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-4)
    assert np.allclose(together, alone, atol=1e-3)
    assert np.allclose(together[0], together[3])
    assert not np.allclose(together[0], together[1])


def test_many_inputs_span_several_decodes_and_long_ones_are_truncated(embedder: LlamaEmbedder) -> None:
    texts = [f"passage number {i} " * (1 + i % 7) for i in range(60)] + ["long " * 2000]
    vectors = np.asarray(embedder(texts))
    assert vectors.shape == (61, embedder.dim) and np.isfinite(vectors).all()


def test_fingerprint_names_the_model(embedder: LlamaEmbedder, tiny_gguf: Path) -> None:
    assert embedder.fingerprint == f"llama:{tiny_gguf.name}:{embedder.dim}"
    assert embedder.get_config()["model_path"] == str(tiny_gguf)


def test_store_with_llama_embeddings(embedder: LlamaEmbedder, tmp_path: Path, tiny_gguf: Path) -> None:
    store = Memory.open(tmp_path / "c", embedder=embedder)
    _, chunks = store.add_source("https://x.example", "X", "Bees dance.\n\nAnts march in lines.", run_id="r")
    hits = store.search("ants march", k=2)
    assert hits[0].chunk.id in {c.id for c in chunks}
    store.close()
    other = build_embedder("hashing", "")
    with pytest.raises(EmbeddingMismatchError):
        Memory.open(tmp_path / "c", embedder=other)


def test_bad_model_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingError, match="does not exist"):
        LlamaEmbedder(str(tmp_path / "missing.gguf"))
    with pytest.raises(EmbeddingError, match="cannot load"):
        LlamaEmbedder(str(write_corrupt_gguf(tmp_path / "bad.gguf")))
    with pytest.raises(EmbeddingError, match="neither a GGUF file"):
        resolve_gguf("not-a-model", tmp_path)
    with pytest.raises(EmbeddingError, match="Unknown embedding backend"):
        build_embedder("magic", "m")


def test_chroma_gets_the_live_embedder_back(embedder: LlamaEmbedder) -> None:
    # Chroma rebuilds a collection's function from its config on every upsert; it must not reload the model.
    assert LlamaEmbedder.build_from_config(embedder.get_config()) is embedder


def test_parallel_callers_get_the_same_vectors_as_one_caller(embedder: LlamaEmbedder) -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"passage {i} about bees and honey " * (1 + i % 5) for i in range(24)]
    alone = np.asarray(embedder(texts))
    with ThreadPoolExecutor(4) as pool:  # searches embed queries while writers embed passages
        parts = list(pool.map(lambda i: np.asarray(embedder(texts[i:i + 3])), range(0, 24, 3)))
    assert np.allclose(np.concatenate(parts), alone, atol=1e-3)
