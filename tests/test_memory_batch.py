"""Batched ingest (Memory.add_sources) on a real Chroma directory: the same results and guarantees as add_source."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from memory.embeddings import HashingEmbedder
from memory.errors import MemoryStoreError
from memory.store import Memory, NewSource
from memory.types import Chunk, Source

PAGES = [
    NewSource(
        f"https://wind.example/{i}",
        f"Wind {i}",
        f"# Turbine {i}\n\nTurbine {i} produced {i * 3} megawatt hours in March.\n\n"
        + " ".join(f"Sentence {j} about blade pitch and gearbox wear on turbine {i}." for j in range(60)),
        "run1",
        f"2026-01-0{i + 1}T00:00:00Z",
    )
    for i in range(4)
]


def _open(path: Path) -> Memory:
    return Memory.open(path, embedder=HashingEmbedder())


@pytest.fixture
def mem(tmp_path: Path) -> Iterator[Memory]:
    store = _open(tmp_path / "chroma")
    yield store
    store.close()


def _shape(results: list[tuple[Source, list[Chunk]]]) -> list[tuple[object, ...]]:
    return [
        (s.id, s.url, s.title, s.fetched_at, s.content_hash, s.urls, s.kind, [(c.id, c.text, c.position) for c in cs])
        for s, cs in results
    ]


def test_add_sources_equals_one_add_source_per_item(tmp_path: Path) -> None:
    one, many = _open(tmp_path / "one"), _open(tmp_path / "many")
    try:
        singles = [one.add_source(p.url, p.title, p.text, run_id=p.run_id, fetched_at=p.fetched_at) for p in PAGES]
        batched = many.add_sources(PAGES)
        assert _shape(batched) == _shape(singles)
        assert any(len(cs) > 1 for _, cs in batched)  # the pages really were split into several chunks
        assert many.stats()["counts"] == one.stats()["counts"]
        for store in (one, many):
            assert store.search("turbine 2 megawatt", k=1)[0].source.url == "https://wind.example/2"
    finally:
        one.close()
        many.close()


def test_add_sources_is_idempotent(mem: Memory) -> None:
    first = mem.add_sources(PAGES)
    counts = mem.stats()["counts"]
    again = mem.add_sources(PAGES)
    assert _shape(again) == _shape(first)
    assert mem.stats()["counts"] == counts  # nothing duplicated
    assert [c.id for c in mem.chunks_of(first[0][0].id)] == [c.id for c in first[0][1]]


def test_add_sources_merges_syndicated_urls_within_and_across_batches(mem: Memory) -> None:
    text = PAGES[0].text
    first = mem.add_sources(
        [
            NewSource("https://a.example/story", "Story", text, "run1"),
            NewSource("https://b.example/copy#x", "Copy", text, "run1"),
        ]
    )
    assert first[0][0].id == first[1][0].id
    assert first[1][0].urls == ("https://a.example/story", "https://b.example/copy")
    later = mem.add_sources([NewSource("https://c.example/mirror", "Mirror", text, "run2")])
    source, chunks = later[0]
    assert source.id == first[0][0].id
    assert source.urls == ("https://a.example/story", "https://b.example/copy", "https://c.example/mirror")
    assert all(c.run_ids == ("run1", "run2") for c in chunks)
    assert mem.stats()["counts"]["sources"] == 1
    assert mem.source_by_url("https://c.example/mirror") == mem.get_source(source.id)


def test_add_source_is_a_one_item_add_sources(tmp_path: Path) -> None:
    a, b = _open(tmp_path / "a"), _open(tmp_path / "b")
    try:
        p = PAGES[1]
        single = a.add_source(p.url, p.title, p.text, run_id=p.run_id, fetched_at=p.fetched_at)
        assert _shape([single]) == _shape(b.add_sources([p]))
    finally:
        a.close()
        b.close()


def test_a_batch_with_an_empty_page_writes_nothing(mem: Memory) -> None:
    with pytest.raises(MemoryStoreError, match="no text to store"):
        mem.add_sources([PAGES[0], NewSource("https://empty.example", "Empty", "  \n", "run1")])
    assert mem.stats()["counts"]["sources"] == 0 and mem.stats()["counts"]["chunks"] == 0
