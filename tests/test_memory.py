"""The memory store on a real Chroma directory with the deterministic hashing embedder."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import chromadb
import pytest
from chromadb.api.types import Documents, Embeddings
from chromadb.config import Settings

from memory import graph_view
from memory.embeddings import HashingEmbedder
from memory.errors import EmbeddingError, EmbeddingMismatchError, MemoryStoreError
from memory.store import Filters, Memory, MemoryOptions, NewSource
from tools.types import PageSpan

ARTICLE = """# Honeybees

Honeybees communicate the direction of food with a waggle dance performed inside the hive.

The dance angle encodes the direction relative to the sun.

## Colony

A colony has one queen, thousands of workers and a few hundred drones in summer.
"""


@pytest.fixture
def mem(tmp_path: Path) -> Iterator[Memory]:
    store = Memory.open(tmp_path / "chroma", embedder=HashingEmbedder())
    yield store
    store.close()


def test_add_source_chunks_keep_offsets_headings_and_run(mem: Memory) -> None:
    source, chunks = mem.add_source("https://bees.example/a", "Bees", ARTICLE, run_id="run1")
    assert source.urls == ("https://bees.example/a",)
    assert chunks and all(ARTICLE[c.start : c.end] == c.text for c in chunks)
    assert [c.heading for c in chunks] == ["Honeybees", "Colony"]
    assert all(c.run_ids == ("run1",) for c in chunks)
    assert mem.get_chunks([chunks[1].id, chunks[0].id]) == [chunks[1], chunks[0]]
    assert mem.get_source(source.id) == source
    assert mem.chunks_of(source.id) == chunks


def test_ingesting_twice_duplicates_nothing(mem: Memory) -> None:
    first, chunks1 = mem.add_source("https://bees.example/a", "Bees", ARTICLE, run_id="run1")
    second, chunks2 = mem.add_source("https://bees.example/a", "Bees", ARTICLE, run_id="run1")
    assert first.id == second.id and [c.id for c in chunks1] == [c.id for c in chunks2]
    assert mem.stats()["counts"]["chunks"] == len(chunks1)
    assert mem.stats()["counts"]["sources"] == 1


def test_syndicated_copy_is_one_source_with_all_urls_and_runs(mem: Memory) -> None:
    mem.add_source("https://bees.example/a?utm_source=feed", "Bees", ARTICLE, run_id="run1")
    copy = "  " + ARTICLE.replace("\n\n", "\n\n\n")  # whitespace differences only
    source, chunks = mem.add_source("https://mirror.example/bees#top", "Bees (mirror)", copy, run_id="run2")
    assert source.urls == ("https://bees.example/a", "https://mirror.example/bees")
    assert source.metadata["run_ids"] == ["run1", "run2"]
    assert all(c.run_ids == ("run1", "run2") for c in chunks)
    assert mem.stats()["counts"]["sources"] == 1
    assert mem.source_by_url("https://mirror.example/bees") == source
    assert mem.source_by_url("https://bees.example/a") == source
    hits = mem.search("waggle dance direction", k=3)
    assert hits and all(h.source == source for h in hits)  # the chunks' copy follows the merged source


def test_search_reads_the_source_of_chunks_stored_without_its_copy(tmp_path: Path) -> None:
    store = Memory.open(tmp_path / "c", embedder=HashingEmbedder())
    source, chunks = store.add_source("https://bees.example/a", "Bees", ARTICLE, run_id="run1")
    store.close()
    client = chromadb.PersistentClient(path=str(tmp_path / "c"), settings=Settings(anonymized_telemetry=False))
    old_layout = {k: None for k in ("source_url", "source_urls", "source_fetched_at", "source_content_hash",
                                    "source_status", "source_extra")}  # fmt: skip
    chunk_col = client.get_collection("chunks", embedding_function=None)
    chunk_col.update(ids=[c.id for c in chunks], metadatas=[old_layout] * len(chunks))

    def first_meta() -> Mapping[str, Any]:
        return (chunk_col.get(ids=[chunks[0].id])["metadatas"] or [{}])[0]

    assert "source_content_hash" not in first_meta()
    store = Memory.open(tmp_path / "c", embedder=HashingEmbedder())
    hits = store.search("queen workers drones", k=2)
    assert hits and all(h.source == source for h in hits)
    store.add_source("https://mirror.example/bees", "Bees", ARTICLE, run_id="run2")  # a merge restores the copy
    assert "source_content_hash" in first_meta()
    store.close()


class _FailingAfter(HashingEmbedder):
    """Embeds ``budget`` batches, then fails like a model crashing mid-ingest."""

    def __init__(self, budget: int) -> None:
        super().__init__()
        self.budget = budget

    def __call__(self, input: Documents) -> Embeddings:
        if self.budget <= 0:
            raise EmbeddingError("the model stopped; try again.")
        self.budget -= 1
        return super().__call__(input)


def test_resume_after_interrupted_ingest(tmp_path: Path) -> None:
    text = "\n\n".join(f"Paragraph {i} about topic number {i} with several words." for i in range(40))
    options = MemoryOptions(chunk_tokens=16, chunk_overlap=0, embed_batch=4)
    crashing = Memory.open(tmp_path / "c", embedder=_FailingAfter(budget=3), options=options)
    with pytest.raises(EmbeddingError):
        crashing.add_source("file:///doc.txt", "Doc", text, run_id="r", kind="local")
    crashing.close()
    store = Memory.open(tmp_path / "c", embedder=HashingEmbedder(), options=options)
    assert store.source_by_url("file:///doc.txt") is None  # no source until all its chunks exist
    source, chunks = store.add_source("file:///doc.txt", "Doc", text, run_id="r", kind="local")
    assert len(chunks) == 40
    assert store.stats()["counts"]["chunks"] == 40
    assert source.kind == "local"
    store.close()


def test_other_embedding_model_is_a_clear_error(tmp_path: Path) -> None:
    Memory.open(tmp_path / "c", embedder=HashingEmbedder(dim=64)).close()
    with pytest.raises(EmbeddingMismatchError, match=r"python app\.py memory reindex"):
        Memory.open(tmp_path / "c", embedder=HashingEmbedder(dim=32))


def test_reindex_keeps_everything(tmp_path: Path) -> None:
    store = Memory.open(tmp_path / "c", embedder=HashingEmbedder(dim=64))
    store.add_source("https://bees.example/a", "Bees", ARTICLE, run_id="run1")
    store.add_finding("run1", "How do bees talk?", "With a waggle dance.", [])
    ent = store.upsert_entity("Honeybee", "species", run_id="run1")
    store.upsert_relation(
        ent.id, "performs", store.upsert_entity("Waggle dance", "behaviour", run_id="run1").id, run_id="run1"
    )
    before = store.stats()["counts"]
    store.close()
    again = Memory.reindex(tmp_path / "c", embedder=HashingEmbedder(dim=32))
    assert again.stats()["counts"] == before
    assert again.stats()["embedding"] == "hashing:32"
    assert again.search("waggle dance direction", k=1)[0].chunk.heading == "Honeybees"
    again.close()
    Memory.open(tmp_path / "c", embedder=HashingEmbedder(dim=32)).close()


def test_filters_by_run_source_kind_and_time(mem: Memory) -> None:
    web, _ = mem.add_source(
        "https://a.example", "A", "Solar panels convert light.", run_id="r1", fetched_at="2024-01-01T00:00:00Z"
    )
    local, _ = mem.add_source(
        "/docs/b.md", "B", "Solar panels on roofs.", run_id="r2", kind="local", fetched_at="2025-06-01T00:00:00+00:00"
    )

    def found(f: Filters) -> set[str]:
        return {h.source.id for h in mem.search("solar panels", k=5, filters=f)}

    assert found(Filters()) == {web.id, local.id}
    assert found(Filters(run_id="r1")) == {web.id}
    assert found(Filters(kind="local")) == {local.id}
    assert found(Filters(source_ids=[web.id])) == {web.id}
    assert found(Filters(source_ids=[])) == set()
    assert found(Filters(since="2025-01-01")) == {local.id}
    assert found(Filters(until="2024-12-31T23:59:59")) == {web.id}


def test_freshness_window(mem: Memory) -> None:
    mem.add_source("https://old.example", "Old", "Old news.", run_id="r", fetched_at="2000-01-01T00:00:00Z")
    mem.add_source("https://new.example", "New", "New news.", run_id="r")
    assert not mem.is_fresh("https://old.example", days=7)
    assert mem.is_fresh("https://new.example/", days=7)
    assert not mem.is_fresh("https://never.example", days=7)


def test_forget_source_removes_it_from_both_retrievers(mem: Memory) -> None:
    source, chunks = mem.add_source("https://bees.example/a", "Bees", ARTICLE, run_id="run1")
    assert mem.search("waggle dance", k=3)
    assert mem.forget_source("https://bees.example/a") == len(chunks)
    assert mem.search("waggle dance", k=3) == []
    assert mem.search("waggle dance", k=3, mode="lexical") == []
    assert mem.get_source(source.id) is None and mem.forget_source(source.id) == 0


def test_findings_across_runs(mem: Memory) -> None:
    _, chunks = mem.add_source("https://bees.example/a", "Bees", ARTICLE, run_id="run1")
    first = mem.add_finding("run1", "How do bees talk?", "Bees dance.", [chunks[0].id])
    again = mem.add_finding("run1", "How do bees talk?", "Bees dance.", [chunks[1].id])
    assert first.id == again.id and again.chunk_ids == (chunks[0].id, chunks[1].id)
    mem.add_finding("run2", "Colony size?", "Thousands of workers.", [chunks[1].id])
    assert [f.run_id for f in mem.findings()] == ["run1", "run2"]
    assert [f.text for f in mem.findings(run_id="run2")] == ["Thousands of workers."]
    assert mem.findings(question="How do bees talk?")[0].chunk_ids == again.chunk_ids
    earlier = mem.related_findings("how many workers in a colony", k=1, exclude_run="run1")
    assert [(f.run_id, f.text) for f in earlier] == [("run2", "Thousands of workers.")]


def test_entities_merge_through_aliases_and_relations_keep_provenance(mem: Memory) -> None:
    ibm = mem.upsert_entity(
        "International Business Machines", "organization", aliases=["IBM"], run_id="r1", source_ids=["s1"]
    )
    same = mem.upsert_entity("ibm", "thing", description="A computer company.", run_id="r2", source_ids=["s2"])
    assert same.id == ibm.id and same.name == "International Business Machines"
    assert same.type == "organization" and same.run_ids == ("r1", "r2") and same.source_ids == ("s1", "s2")
    town = mem.upsert_entity("Armonk", "place", run_id="r1")
    rel = mem.upsert_relation(
        ibm.id, "headquartered in", town.id, evidence_chunk_ids=["c1"], source_ids=["s1"], run_id="r1"
    )
    rel2 = mem.upsert_relation(ibm.id, "Headquartered in", town.id, evidence_chunk_ids=["c2"], run_id="r2")
    assert rel2.id == rel.id and rel2.evidence_chunk_ids == ("c1", "c2") and rel2.run_ids == ("r1", "r2")
    assert rel2.first_seen == rel.first_seen
    assert [r.id for r in mem.relations(run_id="r2")] == [rel.id] and mem.relations(run_id="r9") == []
    assert mem.find_entities("IBM", k=1)[0].id == ibm.id
    assert {e.id for e in mem.find_entities("Armonk town", k=5)} >= {town.id}
    g = mem.graph()
    assert g.number_of_nodes() == 2 and list(g.edges(keys=True)) == [(ibm.id, town.id, rel.id)]
    assert graph_view.to_json(g)["edges"][0]["evidence_chunk_ids"] == ["c1", "c2"]


def test_stats_and_client_errors(mem: Memory, tmp_path: Path) -> None:
    mem.add_source("/docs/a.txt", "A", "Some local text.", run_id="r", kind="local")
    stats: dict[str, Any] = mem.stats()
    assert stats["sources_by_kind"] == {"web": 0, "local": 1} and stats["embedding"] == "hashing:256"
    with pytest.raises(MemoryStoreError, match="no text"):
        mem.add_source("https://empty.example", "Empty", "   ", run_id="r")
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(MemoryStoreError, match="Cannot open"):
        Memory.open(blocker / "chroma", embedder=HashingEmbedder())


def test_pdf_pages_reach_chunks(mem: Memory) -> None:
    text = "First page text about alpha.\n\nSecond page text about beta."
    pages = (PageSpan(1, 0, 29), PageSpan(2, 30, len(text)))
    _, chunks = mem.add_source("/docs/x.pdf", "X", text, run_id="r", pages=pages, kind="local")
    assert [(c.page, c.text) for c in chunks] == [
        (1, "First page text about alpha."),
        (2, "Second page text about beta."),
    ]
    assert mem.search("beta", k=1)[0].chunk.page == 2


def test_add_sources_in_one_batch_merges_duplicates_and_known_sources(mem: Memory) -> None:
    known, _ = mem.add_source("https://bees.example/a", "Bees", ARTICLE, run_id="run1")
    results = mem.add_sources(
        [
            NewSource("https://x.example/1", "One", "First text about owls.", "run2"),
            NewSource("https://x.example/1-copy", "One", "First text about owls.", "run2"),
            NewSource("https://bees.example/b", "Bees", ARTICLE, "run2"),
        ]
    )
    assert results[0][0].id == results[1][0].id and results[1][0].urls == (
        "https://x.example/1",
        "https://x.example/1-copy",
    )
    assert results[2][0].id == known.id and results[2][0].metadata["run_ids"] == ["run1", "run2"]
    assert mem.stats()["counts"]["sources"] == 2
    assert mem.search("owls", k=1)[0].source.urls == results[1][0].urls
    assert mem.add_sources([]) == []
