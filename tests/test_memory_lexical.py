"""The saved BM25 index: identical to the one it was saved from, used on reopen, rebuilt when stale."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from memory.embeddings import HashingEmbedder
from memory.retrieval import BM25Index, ids_key
from memory.store import LEXICAL_FILE, Memory

DOCS = {
    "a": "Honeybees communicate the direction of food with a waggle dance.",
    "b": "A colony has one queen, thousands of workers and a few hundred drones.",
    "c": "The dance angle encodes the direction relative to the sun.",
    "d": "Bumblebees nest in the ground and live in small colonies.",
}
QUERIES = ["waggle dance direction", "colony queen workers", "sun", "ground nest bumblebees"]


def test_saved_index_scores_like_the_original_and_stays_incremental(tmp_path: Path) -> None:
    index = BM25Index()
    index.add_many(DOCS.items())
    index.remove(["b"])
    index.add("c", "The dance angle encodes the direction relative to the sun at noon.")
    path = tmp_path / "lexical.npz"
    index.save(path)
    key = ids_key(["a", "c", "d"])
    loaded = BM25Index.load(path, key)
    assert loaded is not None and len(loaded) == 3 and "b" not in loaded
    for q in QUERIES:
        assert loaded.search(q, 10) == index.search(q, 10)
    for idx in (index, loaded):  # further writes behave the same on both
        idx.add("e", "Queen bees of a new colony leave with a swarm.")
        idx.remove(["a"])
    for q in [*QUERIES, "swarm queen"]:
        got, want = loaded.search(q, 10), index.search(q, 10)
        assert [d for d, _ in got] == [d for d, _ in want]
        assert np.allclose([s for _, s in got], [s for _, s in want])


def test_load_refuses_another_key_and_unreadable_files(tmp_path: Path) -> None:
    index = BM25Index()
    index.add_many(DOCS.items())
    path = tmp_path / "lexical.npz"
    index.save(path)
    assert BM25Index.load(path, ids_key(["a", "b", "c"])) is None
    assert BM25Index.load(tmp_path / "missing.npz", ids_key(DOCS)) is None
    path.write_bytes(b"not an index")
    assert BM25Index.load(path, ids_key(DOCS)) is None


def _fill(store: Memory, n: int, start: int = 0) -> list[str]:
    out = []
    for i in range(start, start + n):
        source, _ = store.add_source(
            f"https://bees.example/{i}", f"Bees {i}", f"Hive number{i} keeps marker{i} honey.", run_id="r"
        )
        out.append(source.id)
    return out


def test_store_saves_on_close_and_reopen_uses_the_saved_index(tmp_path: Path) -> None:
    path = tmp_path / "chroma"
    store = Memory.open(path, embedder=HashingEmbedder())
    _fill(store, 3)
    store.close()
    file = path / LEXICAL_FILE
    saved = BM25Index.load(file, ids_key(_chunk_ids(path)))
    assert saved is not None and len(saved) == 3
    # Same ids, other postings: if reopening rebuilt from Chroma, "zebra" would match nothing.
    planted = BM25Index()
    planted.add_many((cid, "zebra stripes" if i == 0 else "plain") for i, cid in enumerate(saved.ids))
    planted.save(file)
    store = Memory.open(path, embedder=HashingEmbedder())
    try:
        assert [c for c, _ in store.rank("zebra", mode="lexical")] == [saved.ids[0]]
    finally:
        store.close()


def test_stale_saved_index_is_rebuilt_after_adds_and_forgets(tmp_path: Path) -> None:
    path = tmp_path / "chroma"
    store = Memory.open(path, embedder=HashingEmbedder())
    sids = _fill(store, 3)
    store.close()
    file = path / LEXICAL_FILE
    old = file.read_bytes()
    store = Memory.open(path, embedder=HashingEmbedder())
    _fill(store, 2, start=3)
    store.forget_source(sids[0])
    store.close()
    file.write_bytes(old)  # as if another writer changed the store after this file was saved
    store = Memory.open(path, embedder=HashingEmbedder())
    try:
        assert [h.source.title for h in store.search("marker4", k=3, mode="lexical")] == ["Bees 4"]
        assert store.search("marker0", k=3, mode="lexical") == []
    finally:
        store.close()
    rebuilt = BM25Index.load(file, ids_key(_chunk_ids(path)))
    assert rebuilt is not None and len(rebuilt) == 4


def _chunk_ids(path: Path) -> list[str]:
    store = Memory.open(path, embedder=HashingEmbedder())
    try:
        return [c.id for s in store.sources() for c in store.chunks_of(s.id)]
    finally:
        store.close()
