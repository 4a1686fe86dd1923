"""Findings and the knowledge graph (entities, relations) of the memory store.

Guarantees: a finding is keyed by (run, sub-question, statement), an entity by its canonical name
and a relation by (subject, predicate, object), so repeating a write merges instead of duplicating;
merges only ever add provenance (aliases, source ids, evidence chunk ids, run ids) and move
``last_seen`` forward. Entities are matched through their aliases before any new one is created, so
"IBM" and "International Business Machines" converge once either is recorded as the other's alias.
Records from earlier runs stay available and carry their run ids. The batched writes
(``upsert_entities``, ``upsert_relations``) merge each item exactly as the single ones would, in
order (a later item sees the earlier ones), with one Chroma write per batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import networkx as nx

from memory import records as rec
from memory.ids import entity_id, entity_key, finding_id, relation_id
from memory.options import NewEntity, NewRelation
from memory.types import Entity, Finding, Relation

if TYPE_CHECKING:
    import numpy as np


class KnowledgeMixin:
    """Findings, entities and relations; mixed into ``memory.store.Memory``."""

    # Provided by ``Memory``: the collections, the write lock, upsert-with-embedding and embedding.
    _cols: dict[str, Any]
    _lock: threading.RLock
    _upsert: Callable[[str, list[str], list[str], list[dict[str, Any]]], None]
    _embed: Callable[[Sequence[str]], list[np.ndarray]]

    # -- findings -----------------------------------------------------------------------------
    def add_finding(self, run_id: str, question: str, text: str, chunk_ids: Sequence[str]) -> Finding:
        """Record an agent's statement about a sub-question with the chunks supporting it (idempotent)."""
        return self.add_findings(run_id, question, [(text, chunk_ids)])[0]

    def add_findings(self, run_id: str, question: str, found: Sequence[tuple[str, Sequence[str]]]) -> list[Finding]:
        """Record several (statement, chunk ids) findings of one sub-question with one write, as ``add_finding``."""
        fids = [finding_id(run_id, question, text) for text, _ in found]
        with self._lock:
            if not found:
                return []
            got = self._cols["findings"].get(ids=list(dict.fromkeys(fids)), include=["metadatas"])
            known = dict(zip(got["ids"], got["metadatas"], strict=True))
            staged: dict[str, Finding] = {}
            out = []
            for fid, (text, chunk_ids) in zip(fids, found, strict=True):
                prior = staged.get(fid)
                meta = known.get(fid, {})
                created = (
                    prior.created_at if prior else str(meta.get("created_at", "")) if fid in known else rec.now_iso()
                )
                old = list(prior.chunk_ids) if prior else list(meta.get("chunk_ids") or [])
                staged[fid] = Finding(fid, run_id, question, text, tuple(rec.merged(old, chunk_ids)), created)
                out.append(staged[fid])
            self._upsert(
                "findings",
                list(staged),
                [f.text for f in staged.values()],
                [rec.finding_meta(f) for f in staged.values()],
            )
        return out

    def findings(self, run_id: str | None = None, question: str | None = None) -> list[Finding]:
        """Findings, optionally of one run and/or one sub-question, oldest first."""
        clauses: list[dict[str, Any]] = [{"run_id": run_id}] if run_id else []
        if question:
            clauses.append({"question": question})
        where = None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}
        got = self._cols["findings"].get(where=where, include=["documents", "metadatas"])
        found = [
            rec.to_finding(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]
        return sorted(found, key=lambda f: (f.created_at, f.id))

    def related_findings(self, query: str, k: int = 10, *, exclude_run: str | None = None) -> list[Finding]:
        """Findings (of any earlier run) closest in meaning to ``query``; each carries its run id."""
        col = self._cols["findings"]
        total = col.count()
        if not total:
            return []
        where = {"run_id": {"$ne": exclude_run}} if exclude_run else None
        qvec = self._embed([query])[0]
        res = col.query(
            query_embeddings=[qvec], n_results=min(k, total), where=where, include=["documents", "metadatas"]
        )
        return [
            rec.to_finding(i, d, m)
            for i, d, m in zip(res["ids"][0], res["documents"][0], res["metadatas"][0], strict=True)
        ]

    # -- entities -----------------------------------------------------------------------------
    def _by_alias(self, keys: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
        clauses = [{"alias_keys": {"$contains": key}} for key in keys if key]
        if not clauses:
            return []
        where = clauses[0] if len(clauses) == 1 else {"$or": clauses}
        got = self._cols["entities"].get(where=where, include=["metadatas"])
        return list(zip(got["ids"], got["metadatas"], strict=True))

    def upsert_entity(
        self,
        name: str,
        type: str,
        *,
        aliases: Sequence[str] = (),
        description: str = "",
        source_ids: Sequence[str] = (),
        run_id: str,
    ) -> Entity:
        """Create an entity or merge into the one sharing its name or an alias; returns the stored entity."""
        return self.upsert_entities([NewEntity(name, type, run_id, tuple(aliases), description, tuple(source_ids))])[0]

    def upsert_entities(self, items: Sequence[NewEntity]) -> list[Entity]:
        """Upsert entities in order with one write, each merged as ``upsert_entity`` would (later see earlier)."""
        for item in items:
            if not entity_key(item.name.strip()):
                raise ValueError("an entity needs a name with at least one letter or digit")
        now = rec.now_iso()
        with self._lock:
            # One read for every stored entity any item may match (by name or alias), in store order.
            pool = self._by_alias(rec.merged([entity_key(n) for item in items for n in (item.name, *item.aliases)]))
            staged: dict[str, tuple[Entity, dict[str, Any]]] = {}
            out = [self._stage_entity(item, now, pool, staged) for item in items]
            docs = [f"{e.name}\n{e.description}".strip() for e, _ in staged.values()]
            self._upsert("entities", list(staged), docs, [m for _, m in staged.values()])
        return out

    def _stage_entity(
        self,
        item: NewEntity,
        now: str,
        pool: list[tuple[str, dict[str, Any]]],
        staged: dict[str, tuple[Entity, dict[str, Any]]],
    ) -> Entity:
        """Merge one entity into what is stored (``pool``) or staged in this batch; stage the result, unwritten."""
        name = item.name.strip()
        keys = rec.merged([entity_key(n) for n in (name, *item.aliases)])
        wanted = {k for k in keys if k}
        stored = {i for i, _ in pool}
        current = [(i, staged[i][1] if i in staged else m) for i, m in pool]
        current += [(i, m) for i, (_, m) in staged.items() if i not in stored]  # created earlier in this batch
        matches = [(i, m) for i, m in current if wanted & set(m.get("alias_keys") or [])]
        eid = entity_id(name)
        own = next((m for m in matches if m[0] == eid), None)
        eid, meta = own or (matches[0] if matches else (eid, {}))
        old = rec.to_entity(eid, meta) if meta else None
        kind = old.type if old and old.type != "thing" else (item.type or "thing")
        canonical = old.name if old else name
        entity = Entity(
            id=eid,
            name=canonical,
            type=kind,
            aliases=tuple(n for n in rec.merged(old.aliases if old else (), [name], item.aliases) if n != canonical),
            description=(old.description if old and old.description else item.description),
            source_ids=tuple(rec.merged(old.source_ids if old else (), item.source_ids)),
            run_ids=tuple(rec.merged(old.run_ids if old else (), [item.run_id])),
        )
        alias_keys = rec.merged(meta.get("alias_keys") or [], keys)
        emeta = rec.entity_meta(
            entity, alias_keys=alias_keys, first_seen=str(meta.get("first_seen") or now), last_seen=now
        )
        staged[eid] = (entity, emeta)
        return entity

    def entities(self, run_id: str | None = None) -> list[Entity]:
        """Every entity, optionally only those a run saw."""
        where = {"run_ids": {"$contains": run_id}} if run_id else None
        got = self._cols["entities"].get(where=where, include=["metadatas"])
        return sorted(
            (rec.to_entity(i, m) for i, m in zip(got["ids"], got["metadatas"], strict=True)), key=lambda e: e.id
        )

    def get_entities(self, ids: Sequence[str]) -> list[Entity]:
        """Entities by id (unknown ids skipped)."""
        if not ids:
            return []
        got = self._cols["entities"].get(ids=list(dict.fromkeys(ids)), include=["metadatas"])
        return [rec.to_entity(i, m) for i, m in zip(got["ids"], got["metadatas"], strict=True)]

    def find_entities(self, name: str, k: int = 5) -> list[Entity]:
        """Entities matching ``name``: exact name/alias matches first, then the nearest by embedding."""
        found = {i: rec.to_entity(i, m) for i, m in self._by_alias([entity_key(name)])}
        col = self._cols["entities"]
        total = col.count()
        if len(found) < k and total:
            res = col.query(query_embeddings=[self._embed([name])[0]], n_results=min(k, total), include=["metadatas"])
            for i, m in zip(res["ids"][0], res["metadatas"][0], strict=True):
                found.setdefault(i, rec.to_entity(i, m))
        return list(found.values())[:k]

    # -- relations ----------------------------------------------------------------------------
    def upsert_relation(
        self,
        subject_id: str,
        relation: str,
        object_id: str,
        *,
        evidence_chunk_ids: Sequence[str] = (),
        source_ids: Sequence[str] = (),
        run_id: str,
    ) -> Relation:
        """Create a relation or add provenance to the existing (subject, relation, object) edge."""
        item = NewRelation(subject_id, relation, object_id, run_id, tuple(evidence_chunk_ids), tuple(source_ids))
        return self.upsert_relations([item])[0]

    def upsert_relations(self, items: Sequence[NewRelation]) -> list[Relation]:
        """Upsert relations in order with one write, each merged as ``upsert_relation`` would."""
        now = rec.now_iso()
        rids = [relation_id(r.subject_id, r.relation, r.object_id) for r in items]
        with self._lock:
            if not items:
                return []
            got = self._cols["relations"].get(ids=list(dict.fromkeys(rids)), include=["metadatas"])
            staged = {i: rec.to_relation(i, m) for i, m in zip(got["ids"], got["metadatas"], strict=True)}
            out = []
            for item, rid in zip(items, rids, strict=True):
                old = staged.get(rid)
                staged[rid] = Relation(
                    id=rid,
                    subject_id=item.subject_id,
                    relation=old.relation if old else item.relation.strip(),
                    object_id=item.object_id,
                    evidence_chunk_ids=tuple(
                        rec.merged(old.evidence_chunk_ids if old else (), item.evidence_chunk_ids)
                    ),
                    source_ids=tuple(rec.merged(old.source_ids if old else (), item.source_ids)),
                    run_ids=tuple(rec.merged(old.run_ids if old else (), [item.run_id])),
                    first_seen=old.first_seen if old else now,
                    last_seen=now,
                )
                out.append(staged[rid])
            written = [staged[r] for r in dict.fromkeys(rids)]
            names = {e.id: e.name for e in self.get_entities([i for r in written for i in (r.subject_id, r.object_id)])}
            docs = [
                f"{names.get(r.subject_id, r.subject_id)} {r.relation} {names.get(r.object_id, r.object_id)}"
                for r in written
            ]
            self._upsert("relations", [r.id for r in written], docs, [rec.relation_meta(r) for r in written])
        return out

    def relations(self, run_id: str | None = None) -> list[Relation]:
        """Every relation, optionally only those a run recorded or confirmed."""
        where = {"run_ids": {"$contains": run_id}} if run_id else None
        got = self._cols["relations"].get(where=where, include=["metadatas"])
        return sorted(
            (rec.to_relation(i, m) for i, m in zip(got["ids"], got["metadatas"], strict=True)), key=lambda r: r.id
        )

    def graph(self, run_id: str | None = None) -> nx.MultiDiGraph:
        """The knowledge graph (optionally of one run) as a networkx ``MultiDiGraph``."""
        from memory.graph_view import build_graph

        relations = self.relations(run_id)
        ids = (
            {e.id for e in self.entities(run_id)} | {r.subject_id for r in relations} | {r.object_id for r in relations}
        )
        return build_graph(self.get_entities(sorted(ids)), relations)
