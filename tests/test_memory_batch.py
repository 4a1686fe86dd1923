"""Batched ingest (Memory.add_sources) on a real Chroma directory: the same results and guarantees as add_source."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from memory.embeddings import HashingEmbedder
from memory.errors import MemoryStoreError
from memory.options import NewEntity, NewRelation
from memory.store import Memory, NewSource
from memory.types import Chunk, Entity, Source

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


ENTITIES = [
    NewEntity("International Business Machines", "organization", "run1", ("IBM",), "A computer maker.", ("s1",)),
    NewEntity("Armonk", "place", "run1", (), "", ("s1",)),
    NewEntity("IBM", "thing", "run2", ("Big Blue",), "", ("s2",)),  # an alias of the first: merged into it
    NewEntity("Armonk", "town", "run2", (), "A town in New York.", ("s2",)),
]


def _entity_shape(entities: list[Entity]) -> list[tuple[object, ...]]:
    return [(e.id, e.name, e.type, e.aliases, e.description, e.source_ids, e.run_ids) for e in entities]


def test_upsert_entities_merges_in_order_like_one_upsert_each(tmp_path: Path) -> None:
    one, many = _open(tmp_path / "one"), _open(tmp_path / "many")
    try:
        singles = [
            one.upsert_entity(
                e.name,
                e.type,
                aliases=e.aliases,
                description=e.description,
                source_ids=e.source_ids,
                run_id=e.run_id,
            )
            for e in ENTITIES
        ]
        batched = many.upsert_entities(ENTITIES)
        assert _entity_shape(batched) == _entity_shape(singles)
        assert batched[2].id == batched[0].id and batched[2].aliases == ("IBM", "Big Blue")
        assert _entity_shape(many.entities()) == _entity_shape(one.entities())
        assert len(many.entities()) == 2
        assert many.find_entities("Big Blue")[0].id == batched[0].id
    finally:
        one.close()
        many.close()


def test_upsert_relations_merges_provenance_like_one_upsert_each(tmp_path: Path) -> None:
    one, many = _open(tmp_path / "one"), _open(tmp_path / "many")
    try:
        ibm, armonk = many.upsert_entities(ENTITIES[:2])
        one.upsert_entities(ENTITIES[:2])
        edges = [
            NewRelation(ibm.id, "headquartered in ", armonk.id, "run1", ("c1",), ("s1",)),
            NewRelation(ibm.id, "headquartered in", armonk.id, "run2", ("c2", "c1"), ("s2",)),
            NewRelation(armonk.id, "hosts", ibm.id, "run1", ("c3",), ("s1",)),
        ]
        singles = [
            one.upsert_relation(
                r.subject_id,
                r.relation,
                r.object_id,
                evidence_chunk_ids=r.evidence_chunk_ids,
                source_ids=r.source_ids,
                run_id=r.run_id,
            )
            for r in edges
        ]
        batched = many.upsert_relations(edges)
        shape = [(r.id, r.relation, r.evidence_chunk_ids, r.source_ids, r.run_ids) for r in batched]
        assert shape == [(r.id, r.relation, r.evidence_chunk_ids, r.source_ids, r.run_ids) for r in singles]
        assert batched[1].evidence_chunk_ids == ("c1", "c2") and batched[1].run_ids == ("run1", "run2")
        assert len(many.relations()) == 2 and many.upsert_relations([]) == []
        again = many.upsert_relations(edges[:1])  # idempotent: provenance is only ever added
        assert again[0].evidence_chunk_ids == ("c1", "c2") and len(many.relations()) == 2
    finally:
        one.close()
        many.close()


def test_a_nameless_entity_fails_the_batch_before_anything_is_written(mem: Memory) -> None:
    with pytest.raises(ValueError, match="needs a name"):
        mem.upsert_entities([ENTITIES[0], NewEntity(" -- ", "thing", "run1")])
    assert mem.entities() == []


def test_add_findings_equals_one_add_finding_each_and_merges_repeats(tmp_path: Path) -> None:
    one, many = _open(tmp_path / "one"), _open(tmp_path / "many")
    found = [("Turbines spin.", ["c1"]), ("Blades wear.", ["c2"]), ("Turbines spin.", ["c3", "c1"])]
    try:
        singles = [one.add_finding("run1", "What spins?", text, ids) for text, ids in found]
        batched = many.add_findings("run1", "What spins?", found)
        shape = [(f.id, f.run_id, f.question, f.text, f.chunk_ids) for f in batched]
        assert shape == [(f.id, f.run_id, f.question, f.text, f.chunk_ids) for f in singles]
        assert batched[2].chunk_ids == ("c1", "c3") and batched[2].id == batched[0].id
        stored = many.findings("run1")
        assert sorted((f.text, f.chunk_ids) for f in stored) == [
            ("Blades wear.", ("c2",)),
            ("Turbines spin.", ("c1", "c3")),
        ]
        again = many.add_findings("run1", "What spins?", found[:1])  # idempotent; keeps its first creation time
        assert again[0].created_at == batched[0].created_at and len(many.findings()) == 2
        assert many.add_findings("run1", "What spins?", []) == []
    finally:
        one.close()
        many.close()


def test_get_sources_reads_many_in_the_order_asked(mem: Memory) -> None:
    stored = [s for s, _ in mem.add_sources(PAGES[:3])]
    asked = [stored[2].id, "unknown", stored[0].id, stored[2].id]
    assert [s.id for s in mem.get_sources(asked)] == [stored[2].id, stored[0].id]
    assert mem.get_sources([stored[1].id]) == [mem.get_source(stored[1].id)] and mem.get_sources([]) == []


def test_sources_by_urls_equals_source_by_url_for_each(mem: Memory) -> None:
    text = PAGES[0].text
    mem.add_sources([NewSource("https://a.example/story", "Story", text, "r1", "2026-01-01T00:00:00Z")])
    mem.add_sources([NewSource("https://b.example/copy/", "Copy", text, "r2", "2026-02-01T00:00:00Z"), PAGES[1]])
    urls = ["https://a.example/story#top", "https://B.example/copy/", PAGES[1].url, "https://nowhere.example/x"]
    found = mem.sources_by_urls(urls)
    assert set(found) == set(urls[:3])
    for url in urls:
        assert found.get(url) == mem.source_by_url(url)
    assert found[urls[0]].fetched_at == "2026-02-01T00:00:00Z"  # the merged source, fetched most recently
    assert mem.sources_by_urls([]) == {}
