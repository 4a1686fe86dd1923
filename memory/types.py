"""Value objects that cross the memory boundary: sources, chunks, hits, findings, graph facts.

Ids are content-derived (see ``memory.ids``) so writes are idempotent: the same text from the same
source always gets the same chunk id, and a resumed or repeated run duplicates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Source:
    """A fetched page or local file. One source may be reachable under several URLs."""

    id: str  # hash of the normalized content
    url: str  # primary URL, or a file path for local documents
    title: str
    fetched_at: str  # ISO 8601 UTC
    content_hash: str
    status: str = "ok"  # "ok" | "failed" | "refused"
    urls: tuple[str, ...] = ()  # every URL this content was seen under
    kind: str = "web"  # "web" | "local"
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """A passage of a source: the unit of retrieval and of citation."""

    id: str
    source_id: str
    text: str
    position: int  # 0-based index within the source
    start: int  # [start, end) character offsets in the source's text
    end: int
    page: int | None = None  # 1-based page for PDFs
    heading: str | None = None  # nearest heading above the passage
    run_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    """A retrieval result: the chunk, its source and a fused score (higher is better)."""

    chunk: Chunk
    source: Source
    score: float


@dataclass(frozen=True)
class Finding:
    """An agent's short statement about a sub-question, citing the chunks that support it."""

    id: str
    run_id: str
    question: str
    text: str
    chunk_ids: tuple[str, ...]
    created_at: str = ""


@dataclass(frozen=True)
class Entity:
    """A node of the knowledge graph."""

    id: str
    name: str
    type: str = "thing"
    aliases: tuple[str, ...] = ()
    description: str = ""
    source_ids: tuple[str, ...] = ()
    run_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Relation:
    """An edge of the knowledge graph with its provenance."""

    id: str
    subject_id: str
    relation: str
    object_id: str
    evidence_chunk_ids: tuple[str, ...] = ()
    source_ids: tuple[str, ...] = ()
    run_ids: tuple[str, ...] = ()
    first_seen: str = ""
    last_seen: str = ""
