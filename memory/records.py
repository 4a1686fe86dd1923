"""The Chroma record layout of each collection, and conversions to and from ``memory.types``.

Collections and their metadata (lists are Chroma list values, never empty — an empty list is omitted):

``sources``   id ``src_<content hash>``; document: title and URLs; embedding: the title.
              url (primary, as first seen), urls [normalized URLs this content was seen under],
              title, fetched_at (ISO), fetched_ts (epoch s), content_hash, status, kind ("web"|"local"),
              run_ids [..], n_chunks, extra (JSON of caller metadata).
``chunks``    id ``chk_<hash>``; document: the exact passage; embedding: title, heading and passage.
              source_id, position, start, end, page (0 = none), heading, title, kind, fetched_ts, run_ids [..],
              and a copy of the source's other fields (source_url, source_urls [..], source_fetched_at,
              source_content_hash, source_status, source_extra), kept equal to the source record by every
              write, so a search hit is built from its chunk record alone (schema 2; schema-1 chunks lack
              the copy and their hits read the source record).
``findings``  id ``fnd_<hash>``; document: the statement; embedding: question and statement.
              run_id, question, chunk_ids [..], created_at.
``entities``  id ``ent_<hash of canonical name>``; document: name and description; embedding: the name.
              name, type, aliases [..], alias_keys [canonical names incl. the name], description,
              source_ids [..], run_ids [..], first_seen, last_seen.
``relations`` id ``rel_<hash>``; document: "subject relation object"; embedding: the document.
              subject_id, relation, object_id, evidence_chunk_ids [..], source_ids [..], run_ids [..],
              first_seen, last_seen.

Every collection's own metadata records ``embedding`` (the embedder's fingerprint) and ``schema``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from memory.types import Chunk, Entity, Finding, Relation, Source

SCHEMA_VERSION = 2
COLLECTIONS = ("sources", "chunks", "findings", "entities", "relations")


def now_iso() -> str:
    """The current UTC time, ISO 8601 with microseconds (so records written in order sort in order)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def iso_to_ts(value: str) -> float:
    """Epoch seconds of an ISO 8601 time (naive times are UTC); raises ValueError if unparsable."""
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def merged(*groups: Iterable[str]) -> list[str]:
    """Union of string lists, order of first appearance kept, empties dropped."""
    seen: dict[str, None] = {}
    for group in groups:
        for item in group:
            if item:
                seen.setdefault(item, None)
    return list(seen)


def _lists(meta: Mapping[str, Any], **values: list[str]) -> dict[str, Any]:
    out = dict(meta)
    for key, value in values.items():
        if value:
            out[key] = list(value)
        else:
            out.pop(key, None)
    return out


def _tuple(meta: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = meta.get(key)
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def source_meta(s: Source, *, fetched_ts: float, run_ids: list[str], n_chunks: int) -> dict[str, Any]:
    """Chroma metadata of a source."""
    meta = {
        "url": s.url,
        "title": s.title,
        "fetched_at": s.fetched_at,
        "fetched_ts": fetched_ts,
        "content_hash": s.content_hash,
        "status": s.status,
        "kind": s.kind,
        "n_chunks": n_chunks,
        "extra": json.dumps(s.metadata, default=str, sort_keys=True),
    }
    return _lists(meta, urls=list(s.urls), run_ids=run_ids)


def source_document(s: Source) -> str:
    """The stored document of a source: its title and URLs (searchable as text)."""
    return "\n".join([s.title, *s.urls])


def to_source(sid: str, meta: Mapping[str, Any]) -> Source:
    """A ``Source`` from its Chroma record."""
    return Source(
        id=sid,
        url=str(meta.get("url", "")),
        title=str(meta.get("title", "")),
        fetched_at=str(meta.get("fetched_at", "")),
        content_hash=str(meta.get("content_hash", "")),
        status=str(meta.get("status", "ok")),
        urls=_tuple(meta, "urls"),
        kind=str(meta.get("kind", "web")),
        metadata={**json.loads(str(meta.get("extra") or "{}")), "run_ids": list(_tuple(meta, "run_ids"))},
    )


def chunk_meta(c: Chunk, source: Mapping[str, Any]) -> dict[str, Any]:
    """Chroma metadata of a chunk of the source whose Chroma metadata is ``source``."""
    meta = {
        "source_id": c.source_id,
        "position": c.position,
        "start": c.start,
        "end": c.end,
        "page": c.page or 0,
        "heading": c.heading or "",
    }
    return _lists({**meta, **source_copy(source)}, run_ids=list(c.run_ids))


_COPIED = ("url", "fetched_at", "content_hash", "status", "extra")


def source_copy(source: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a source's metadata that each of its chunks carries (see the module docstring)."""
    copy = {"title": source.get("title", ""), "kind": source.get("kind", "web"), "fetched_ts": source["fetched_ts"]}
    copy.update({f"source_{key}": source.get(key, "") for key in _COPIED})
    return _lists(copy, source_urls=list(source.get("urls") or []))


def chunk_source(meta: Mapping[str, Any]) -> Source | None:
    """The source of a chunk from the copy in its metadata, or None for a chunk written without one."""
    if "source_content_hash" not in meta:
        return None
    fields = {key: meta.get(f"source_{key}") for key in _COPIED}
    fields.update(title=meta.get("title", ""), kind=meta.get("kind", "web"), urls=meta.get("source_urls"))
    return to_source(str(meta["source_id"]), {**fields, "run_ids": meta.get("run_ids")})


def chunk_embed_text(text: str, meta: Mapping[str, Any]) -> str:
    """What is embedded and lexically indexed for a chunk: title, heading, then the passage."""
    context = [str(meta.get("title") or ""), str(meta.get("heading") or "")]
    head = "\n".join(dict.fromkeys(p for p in context if p and p not in text[:200]))
    return f"{head}\n{text}" if head else text


def to_chunk(cid: str, text: str, meta: Mapping[str, Any]) -> Chunk:
    """A ``Chunk`` from its Chroma record."""
    return Chunk(
        id=cid,
        source_id=str(meta["source_id"]),
        text=text,
        position=int(meta.get("position", 0)),
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        page=int(meta.get("page") or 0) or None,
        heading=str(meta.get("heading") or "") or None,
        run_ids=_tuple(meta, "run_ids"),
    )


def finding_meta(f: Finding) -> dict[str, Any]:
    """Chroma metadata of a finding."""
    meta = {"run_id": f.run_id, "question": f.question, "created_at": f.created_at}
    return _lists(meta, chunk_ids=list(f.chunk_ids))


def to_finding(fid: str, text: str, meta: Mapping[str, Any]) -> Finding:
    """A ``Finding`` from its Chroma record."""
    return Finding(
        id=fid,
        run_id=str(meta.get("run_id", "")),
        question=str(meta.get("question", "")),
        text=text,
        chunk_ids=_tuple(meta, "chunk_ids"),
        created_at=str(meta.get("created_at", "")),
    )


def entity_meta(e: Entity, *, alias_keys: list[str], first_seen: str, last_seen: str) -> dict[str, Any]:
    """Chroma metadata of an entity."""
    meta = {
        "name": e.name,
        "type": e.type,
        "description": e.description,
        "first_seen": first_seen,
        "last_seen": last_seen,
    }
    return _lists(
        meta, aliases=list(e.aliases), alias_keys=alias_keys, source_ids=list(e.source_ids), run_ids=list(e.run_ids)
    )


def to_entity(eid: str, meta: Mapping[str, Any]) -> Entity:
    """An ``Entity`` from its Chroma record."""
    return Entity(
        id=eid,
        name=str(meta.get("name", "")),
        type=str(meta.get("type", "thing")),
        aliases=_tuple(meta, "aliases"),
        description=str(meta.get("description", "")),
        source_ids=_tuple(meta, "source_ids"),
        run_ids=_tuple(meta, "run_ids"),
    )


def relation_meta(r: Relation) -> dict[str, Any]:
    """Chroma metadata of a relation."""
    meta = {
        "subject_id": r.subject_id,
        "relation": r.relation,
        "object_id": r.object_id,
        "first_seen": r.first_seen,
        "last_seen": r.last_seen,
    }
    return _lists(
        meta,
        evidence_chunk_ids=list(r.evidence_chunk_ids),
        source_ids=list(r.source_ids),
        run_ids=list(r.run_ids),
    )


def to_relation(rid: str, meta: Mapping[str, Any]) -> Relation:
    """A ``Relation`` from its Chroma record."""
    return Relation(
        id=rid,
        subject_id=str(meta.get("subject_id", "")),
        relation=str(meta.get("relation", "")),
        object_id=str(meta.get("object_id", "")),
        evidence_chunk_ids=_tuple(meta, "evidence_chunk_ids"),
        source_ids=_tuple(meta, "source_ids"),
        run_ids=_tuple(meta, "run_ids"),
        first_seen=str(meta.get("first_seen", "")),
        last_seen=str(meta.get("last_seen", "")),
    )


def embed_text(collection: str, document: str, meta: Mapping[str, Any]) -> str:
    """The text embedded for a record of ``collection`` (used on write and by reindex)."""
    if collection == "chunks":
        return chunk_embed_text(document, meta)
    if collection == "sources":
        return str(meta.get("title") or document)
    if collection == "findings":
        return f"{meta.get('question', '')}\n{document}".strip()
    if collection == "entities":
        return str(meta.get("name") or document)
    return document
