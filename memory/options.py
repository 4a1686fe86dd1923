"""Options and query values of the memory: chunking/retrieval settings, a source to add, search filters.

``Filters.where()`` is the single place a filter becomes a Chroma ``where`` clause, so the dense and
the lexical retrievers always see exactly the same subset of chunks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memory import records as rec


@dataclass(frozen=True)
class MemoryOptions:
    """Chunking and retrieval settings (app.py maps ``Settings.memory`` onto these)."""

    chunk_tokens: int = 256
    chunk_overlap: int = 32
    candidates: int = 100  # per retriever, before fusion
    rrf_k: float = 60.0
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    mmr_lambda: float = 0.7
    embed_batch: int = 64


@dataclass(frozen=True)
class NewSource:
    """One source to store with ``Memory.add_sources`` (the arguments of ``add_source``)."""

    url: str
    title: str
    text: str
    run_id: str
    fetched_at: str | None = None
    pages: tuple[Any, ...] = ()
    kind: str = "web"
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True)
class NewEntity:
    """One entity to store with ``Memory.upsert_entities`` (the arguments of ``upsert_entity``)."""

    name: str
    type: str
    run_id: str
    aliases: tuple[str, ...] = ()
    description: str = ""
    source_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewRelation:
    """One relation to store with ``Memory.upsert_relations`` (the arguments of ``upsert_relation``)."""

    subject_id: str
    relation: str
    object_id: str
    run_id: str
    evidence_chunk_ids: tuple[str, ...] = ()
    source_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Filters:
    """Restrict a search: to a run, to sources, to a kind ("web"|"local"), to a fetch-time window (ISO)."""

    run_id: str | None = None
    source_ids: Sequence[str] | None = None
    kind: str | None = None
    since: str | None = None
    until: str | None = None

    def where(self) -> dict[str, Any] | None:
        """The Chroma ``where`` clause for chunks."""
        clauses: list[dict[str, Any]] = []
        if self.run_id:
            clauses.append({"run_ids": {"$contains": self.run_id}})
        if self.source_ids is not None:
            clauses.append({"source_id": {"$in": list(self.source_ids) or ["-"]}})
        if self.kind:
            clauses.append({"kind": self.kind})
        if self.since:
            clauses.append({"fetched_ts": {"$gte": rec.iso_to_ts(self.since)}})
        if self.until:
            clauses.append({"fetched_ts": {"$lte": rec.iso_to_ts(self.until)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}
