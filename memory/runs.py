"""What each run put in memory: claiming reused sources, sources per run, and forgetting one run.

Guarantees: ``claim_sources`` adds a run to sources it reused (and their chunks) without re-embedding
anything, so a run's provenance lists every source it read. ``forget_run`` removes what one run alone
added — sources and their chunks no other run read, its findings, entities and relations no other
run recorded — and only takes the run's id (and the evidence of removed chunks and sources) off what
other runs share; a relation left without either end entity goes too. An unknown run id changes
nothing and returns None.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from memory import records as rec


@dataclass(frozen=True)
class Forgotten:
    """What ``forget_run`` removed (counts) and how many shared records it only untagged."""

    sources: int = 0
    chunks: int = 0
    findings: int = 0
    entities: int = 0
    relations: int = 0
    untagged: int = 0


def _without(meta: dict[str, Any], key: str, drop: set[str]) -> dict[str, Any]:
    """``meta`` with the values in ``drop`` taken off its list ``key`` (None, which deletes it, when empty)."""
    left = [v for v in meta.get(key) or [] if v not in drop]
    return {**meta, key: left or None}


class RunsMixin:
    """Per-run provenance; mixed into ``memory.store.Memory``."""

    # Provided by ``Memory`` (and its lexical search mixin).
    _cols: dict[str, Any]
    _lock: threading.RLock
    _lex: Any
    _changed: Callable[[], None]

    def _tagged(self, name: str, run_id: str) -> tuple[list[str], list[dict[str, Any]]]:
        got = self._cols[name].get(where={"run_ids": {"$contains": run_id}}, include=["metadatas"])
        return list(got["ids"]), list(got["metadatas"])

    def claim_sources(self, source_ids: Sequence[str], run_id: str) -> int:
        """Record that ``run_id`` read these stored sources (and their chunks); returns how many changed."""
        if not source_ids:
            return 0
        with self._lock:
            got = self._cols["sources"].get(ids=list(dict.fromkeys(source_ids)), include=["metadatas"])
            todo = [(i, m) for i, m in zip(got["ids"], got["metadatas"], strict=True)
                    if run_id not in (m.get("run_ids") or [])]
            if not todo:
                return 0
            metas = [{**m, "run_ids": rec.merged(m.get("run_ids") or [], [run_id])} for _, m in todo]
            self._cols["sources"].update(ids=[i for i, _ in todo], metadatas=metas)
            chunks = self._cols["chunks"].get(where={"source_id": {"$in": [i for i, _ in todo]}}, include=["metadatas"])
            if chunks["ids"]:
                cmetas = [{**m, "run_ids": rec.merged(m.get("run_ids") or [], [run_id])} for m in chunks["metadatas"]]
                self._cols["chunks"].update(ids=chunks["ids"], metadatas=cmetas)
            return len(todo)

    def sources_per_run(self) -> dict[str, int]:
        """How many stored sources each run read (a source read by several runs counts for each)."""
        got = self._cols["sources"].get(include=["metadatas"])
        counts: dict[str, int] = {}
        for meta in got["metadatas"]:
            for run in meta.get("run_ids") or []:
                counts[run] = counts.get(run, 0) + 1
        return dict(sorted(counts.items()))

    def forget_run(self, run_id: str) -> Forgotten | None:
        """Remove what ``run_id`` alone added and untag what it shares (see the module docstring)."""
        with self._lock:
            findings = self._cols["findings"].get(where={"run_id": run_id}, include=[])["ids"]
            tagged = {name: self._tagged(name, run_id) for name in ("sources", "entities", "relations")}
            if not findings and not any(ids for ids, _ in tagged.values()):
                return None
            sources, chunks, untagged = self._forget_sources(run_id, *tagged["sources"])
            if findings:
                self._cols["findings"].delete(ids=findings)
            entities, n = self._forget_tagged("entities", run_id, *tagged["entities"], {"source_ids": sources})
            evidence = {"source_ids": sources, "evidence_chunk_ids": chunks}
            relations, m = self._forget_tagged("relations", run_id, *tagged["relations"], evidence)
            dangling = self._drop_dangling(set(entities))
            self._changed()
            return Forgotten(len(sources), len(chunks), len(findings), len(entities), len(relations) + dangling,
                             untagged + n + m)

    def _forget_sources(
        self, run_id: str, ids: list[str], metas: list[dict[str, Any]]
    ) -> tuple[set[str], set[str], int]:
        """Delete the run's own sources and chunks, untag the shared ones; returns what it removed."""
        alone = {i for i, m in zip(ids, metas, strict=True) if set(m.get("run_ids") or []) <= {run_id}}
        shared = [(i, m) for i, m in zip(ids, metas, strict=True) if i not in alone]
        gone: list[str] = []
        if alone:
            gone = self._cols["chunks"].get(where={"source_id": {"$in": sorted(alone)}}, include=[])["ids"]
            if gone:
                self._cols["chunks"].delete(ids=gone)
                if self._lex.index.remove(gone):
                    self._lex.dirty = True
            self._cols["sources"].delete(ids=sorted(alone))
        if shared:
            self._cols["sources"].update(ids=[i for i, _ in shared],
                                         metadatas=[_without(m, "run_ids", {run_id}) for _, m in shared])
        chunk_ids, chunk_metas = self._tagged("chunks", run_id)
        if chunk_ids:
            untag = [_without(m, "run_ids", {run_id}) for m in chunk_metas]
            self._cols["chunks"].update(ids=chunk_ids, metadatas=untag)
        return alone, set(gone), len(shared)

    def _forget_tagged(
        self, name: str, run_id: str, ids: list[str], metas: list[dict[str, Any]],
        evidence: dict[str, set[str]],
    ) -> tuple[list[str], int]:
        """Delete the run's own entities or relations and untag the shared ones; returns (removed ids, untagged)."""
        alone = [i for i, m in zip(ids, metas, strict=True) if set(m.get("run_ids") or []) <= {run_id}]
        shared = [(i, m) for i, m in zip(ids, metas, strict=True) if i not in alone]
        if alone:
            self._cols[name].delete(ids=alone)
        kept = []
        for i, meta in shared:
            meta = _without(meta, "run_ids", {run_id})
            for key, drop in evidence.items():
                meta = _without(meta, key, drop)
            kept.append((i, meta))
        if kept:
            self._cols[name].update(ids=[i for i, _ in kept], metadatas=[m for _, m in kept])
        return alone, len(kept)

    def _drop_dangling(self, entities: set[str]) -> int:
        """Delete relations whose subject or object is among the removed ``entities``; returns how many."""
        if not entities:
            return 0
        ends = sorted(entities)
        where = {"$or": [{"subject_id": {"$in": ends}}, {"object_id": {"$in": ends}}]}
        ids = self._cols["relations"].get(where=where, include=[])["ids"]
        if ids:
            self._cols["relations"].delete(ids=ids)
        return len(ids)
