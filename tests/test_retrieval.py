"""BM25, reciprocal-rank fusion and MMR, and hybrid search over a small corpus with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memory.embeddings import HashingEmbedder
from memory.retrieval import BM25Index, Tokenizer, mmr, rrf
from memory.store import Memory

CORPUS = {
    "photosynthesis": "Plants convert sunlight, water and carbon dioxide into glucose and oxygen in chloroplasts.",
    "volcano": "A volcano erupts when magma rises through the crust and escapes as lava and ash.",
    "antibiotics": "Antibiotics kill bacteria or stop their growth; they do not work against viruses.",
    "tides": "Ocean tides are caused mainly by the gravitational pull of the Moon on the Earth's oceans.",
    "vaccines": "Vaccines train the immune system to recognise a pathogen without causing the disease.",
    "rainbow": "A rainbow appears when sunlight is refracted, reflected and dispersed in water droplets.",
    "inflation": "Inflation is the rate at which the general level of prices for goods and services rises.",
    "blockchain": "A blockchain is a ledger of blocks linked by cryptographic hashes and replicated across nodes.",
    "glaciers": "Glaciers form where snow accumulates over many years and compresses into moving ice.",
    "earthquakes": "Earthquakes happen when stress along a fault is released suddenly, sending seismic waves.",
}
QUERIES = {
    "why does the moon cause ocean tides": "tides",
    "how do vaccines train the immune system": "vaccines",
    "do antibiotics work against viruses": "antibiotics",
    "what happens when magma escapes from a volcano": "volcano",
    "how are rainbows formed from sunlight in droplets": "rainbow",
    "what makes glaciers move": "glaciers",
    "seismic waves from faults": "earthquakes",
    "prices of goods rising": "inflation",
}


def test_tokenizer_stems_and_drops_stop_words() -> None:
    assert Tokenizer()("The glaciers are MOVING slowly") == ["glacier", "move", "slowli"]


def test_bm25_ranks_add_remove_and_mask() -> None:
    index = BM25Index()
    index.add_many((k, v) for k, v in CORPUS.items())
    assert index.search("tides moon", 3)[0][0] == "tides"
    assert {doc for doc, _ in index.search("sunlight", 5)} == {"rainbow", "photosynthesis"}
    assert [doc for doc, _ in index.search("sunlight", 5, only=["rainbow", "volcano"])] == ["rainbow"]
    assert index.remove(["tides", "nope"]) == 1
    assert "tides" not in index and all(doc != "tides" for doc, _ in index.search("tides moon", 10))
    index.add("tides", "Tides again, driven by the moon.")
    assert index.search("tides moon", 1)[0][0] == "tides" and len(index) == len(CORPUS)
    assert index.search("zebra quantum", 5) == []


def test_bm25_rarer_terms_weigh_more() -> None:
    index = BM25Index()
    index.add_many([("a", "common common rare"), ("b", "common"), ("c", "common other"), ("d", "rare thing")])
    scores = dict(index.search("rare common", 4))
    assert scores["a"] > scores["d"] > scores["b"]


def _full_sort(index: BM25Index, query: str, k: int, only: set[str] | None = None) -> list[tuple[str, float]]:
    scores = index.scores(query)
    if only is not None:
        scores = scores * np.isin(np.asarray(index.ids), sorted(only))
    rows = np.flatnonzero(scores > 0)
    return [(index.ids[r], float(scores[r])) for r in rows[np.lexsort((rows, -scores[rows]))][:k]]


def test_bm25_top_k_is_exactly_a_full_sort() -> None:
    # Rare words (few postings) and common ones (most rows), with many tied scores: the pruned
    # top-k selection must return what sorting every row would, ties by indexing order.
    rng = np.random.default_rng(7)
    common, rare = [f"common{i}" for i in range(5)], [f"rare{i}" for i in range(40)]
    index = BM25Index(tokenizer=str.split)
    for d in range(3000):
        words = [*rng.choice(common, size=int(rng.integers(1, 6))), *rng.choice(rare, size=int(rng.integers(0, 2)))]
        index.add(f"d{d}", " ".join(words))
    index.remove([f"d{d}" for d in range(0, 3000, 7)])
    only = {f"d{d}" for d in range(1, 3000, 3)}
    for query in ["rare3 common1", "common0 common2", "rare1 rare2 rare3 common4", "rare39", "absent", "common3"]:
        for k in (1, 5, 10, 100, 5000):
            assert index.search(query, k) == _full_sort(index, query, k)
            assert index.search(query, k, only) == _full_sort(index, query, k, only)


def test_rrf_and_weights() -> None:
    fused = rrf([["a", "b", "c"], ["c", "a"]], k=60)
    assert max(fused, key=fused.__getitem__) == "a"
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    weighted = rrf([["a", "b"], ["b", "a"]], k=1, weights=[1.0, 3.0])
    assert weighted["b"] > weighted["a"]


def test_mmr_prefers_diversity() -> None:
    vecs = {"a": np.array([1.0, 0.0]), "a2": np.array([0.999, 0.045]), "b": np.array([0.0, 1.0])}
    relevance = {"a": 1.0, "a2": 0.95, "b": 0.6}
    assert mmr(vecs, relevance, 2, lambda_=0.5) == ["a", "b"]
    assert mmr(vecs, relevance, 2, lambda_=1.0) == ["a", "a2"]


@pytest.fixture
def corpus_memory(tmp_path: Path) -> Memory:
    store = Memory.open(tmp_path / "c", embedder=HashingEmbedder(dim=512))
    for key, text in CORPUS.items():
        store.add_source(f"https://facts.example/{key}", key.title(), text, run_id="r")
    return store


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_known_answers_rank_first(corpus_memory: Memory, mode: str) -> None:
    right = 0
    for query, answer in QUERIES.items():
        hits = corpus_memory.search(query, k=3, mode=mode)
        assert answer in {h.source.url.rsplit("/", 1)[1] for h in hits} or mode == "dense"
        right += hits[0].source.url.endswith("/" + answer)
    assert right >= (len(QUERIES) if mode != "dense" else len(QUERIES) - 3)
    corpus_memory.close()


def test_mmr_search_returns_distinct_chunks(corpus_memory: Memory) -> None:
    hits = corpus_memory.search("sunlight water", k=4, mmr=True)
    assert len({h.chunk.id for h in hits}) == 4
    assert {h.source.url.rsplit("/", 1)[1] for h in hits[:2]} & {"rainbow", "photosynthesis"}
    corpus_memory.close()
