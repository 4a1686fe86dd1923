"""The shared memory: one Chroma store for sources, chunks, findings and the knowledge graph.

Guarantees:
- Writes are idempotent upserts keyed by content hashes (``memory.ids``): ingesting the same text
  twice, resuming an interrupted ingest or repeating a run duplicates nothing, and the same content
  seen under several URLs is one source listing all of them. Chunks are written before their source
  record, so a source that exists is complete.
- Every collection records the embedder's fingerprint; opening a store with another embedding model
  raises ``EmbeddingMismatchError`` naming ``python app.py memory reindex``.
- Each chunk record carries a copy of its source's fields, rewritten whenever the source record
  changes, so search reads one collection (``memory.hybrid``: dense + BM25 fused, optional MMR).
- Telemetry is off. Local mode uses ``PersistentClient``; ``host`` selects ``HttpClient``.

Record layouts are documented in ``memory.records``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError, NotFoundError

from memory import records as rec
from memory.chunking import chunk_text
from memory.embeddings import QuarryEmbedder
from memory.errors import EmbeddingMismatchError, MemoryStoreError
from memory.hybrid import LEXICAL_FILE, HybridSearchMixin, Lexical
from memory.ids import chunk_id, content_hash, normalize_url, source_id
from memory.knowledge import KnowledgeMixin
from memory.options import Filters, MemoryOptions, NewSource
from memory.runs import RunsMixin
from memory.types import Chunk, Source


class Memory(HybridSearchMixin, KnowledgeMixin, RunsMixin):
    """Sources, chunks, findings, entities and relations in one Chroma store."""

    def __init__(
        self, client: Any, embedder: QuarryEmbedder, options: MemoryOptions, where: str, index_file: Path | None = None
    ) -> None:
        self._client = client
        self.index_file = index_file
        self.embedder = embedder
        self.options = options
        self.where = where
        self._lock = threading.RLock()
        self._lex = Lexical()
        # The chunk count for the search path (a Chroma read costs milliseconds), rechecked at most
        # every ``RECHECK_S`` to notice other clients' writes.
        self._count: tuple[float, int] = (0.0, -1)
        try:
            self._cols = {name: self._collection(name) for name in rec.COLLECTIONS}
        except MemoryStoreError:
            self.close()
            raise
        # An empty store's lexical index is trivially in sync; a filled one is loaded on first search.
        self._lex.synced = self._cols["chunks"].count() == 0

    @classmethod
    def open(
        cls,
        path: str | Path | None,
        *,
        host: str | None = None,
        port: int = 8000,
        embedder: QuarryEmbedder,
        options: MemoryOptions | None = None,
    ) -> Memory:
        """Open (or create) the store in ``path``, or on the Chroma server at ``host:port``."""
        client, where = _connect(path, host, port)
        return cls(client, embedder, options or MemoryOptions(), where, _index_file(path, host))

    @classmethod
    def reindex(
        cls,
        path: str | Path | None,
        *,
        host: str | None = None,
        port: int = 8000,
        embedder: QuarryEmbedder,
        options: MemoryOptions | None = None,
        on_progress: Callable[[str, int, int], None] | None = None,
    ) -> Memory:
        """Re-embed every collection of the store with ``embedder`` (nothing is lost), then open it."""
        from memory.maintenance import reindex

        client, where = _connect(path, host, port)
        reindex(client, embedder, on_progress)
        return cls(client, embedder, options or MemoryOptions(), where, _index_file(path, host))

    def _collection(self, name: str) -> Any:
        fingerprint = self.embedder.fingerprint
        try:
            existing = self._client.get_collection(name, embedding_function=None)
        except (NotFoundError, ValueError):
            existing = None
        if existing is not None:
            recorded = (existing.metadata or {}).get("embedding")
            if recorded != fingerprint:
                raise EmbeddingMismatchError(
                    f"The memory in {self.where} was embedded with {recorded} but {fingerprint} is configured; "
                    "run `python app.py memory reindex` (or configure the original model)."
                )
        return self._client.get_or_create_collection(
            name,
            metadata={"embedding": fingerprint, "schema": rec.SCHEMA_VERSION},
            configuration={"hnsw": {"space": "cosine"}},
            embedding_function=self.embedder,
        )

    # -- embeddings ---------------------------------------------------------------------------
    def _embed(self, texts: Sequence[str]) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        step = self.options.embed_batch
        for lo in range(0, len(texts), step):
            out.extend(np.asarray(v, dtype=np.float32) for v in self.embedder(list(texts[lo : lo + step])))
        return out

    def _upsert(self, name: str, ids: list[str], docs: list[str], metas: list[dict[str, Any]]) -> None:
        """Upsert records of one collection, embedding them as ``records.embed_text`` says."""
        if not ids:
            return
        vectors = self._embed([rec.embed_text(name, d, m) for d, m in zip(docs, metas, strict=True)])
        step = max(1, min(self._client.get_max_batch_size(), 1000))
        for lo in range(0, len(ids), step):
            self._cols[name].upsert(
                ids=ids[lo : lo + step],
                documents=docs[lo : lo + step],
                metadatas=metas[lo : lo + step],
                embeddings=vectors[lo : lo + step],
            )

    # -- sources and chunks -------------------------------------------------------------------
    def add_source(
        self,
        url: str,
        title: str,
        text: str,
        *,
        run_id: str,
        fetched_at: str | None = None,
        pages: Iterable[Any] = (),
        kind: str = "web",
        metadata: dict[str, Any] | None = None,
    ) -> tuple[Source, list[Chunk]]:
        """Store a source and its chunks (idempotent; the same content under another URL is merged)."""
        item = NewSource(url, title, text, run_id, fetched_at, tuple(pages), kind, metadata)
        return self.add_sources([item])[0]

    def add_sources(self, items: Sequence[NewSource]) -> list[tuple[Source, list[Chunk]]]:
        """Store many sources at once (one embedding pass and a few writes); same guarantees as ``add_source``."""
        for item in items:
            if not item.text.strip():
                raise MemoryStoreError(f"The source {item.url} has no text to store; skip it or extract it again.")
        stamped = [(item, item.fetched_at or rec.now_iso(), content_hash(item.text)) for item in items]
        with self._lock:
            if not stamped:
                return []
            sids = list(dict.fromkeys(source_id(d) for _, _, d in stamped))
            got = self._cols["sources"].get(ids=sids, include=["metadatas"])
            known = dict(zip(got["ids"], got["metadatas"], strict=True))
            fresh: dict[str, tuple[Source, list[Chunk], dict[str, Any]]] = {}
            for item, fetched_at, digest in stamped:
                sid = source_id(digest)
                if sid not in known and sid not in fresh:
                    fresh[sid] = self._prepare(item, sid, digest, fetched_at)
            chunks = [c for _, cs, _ in fresh.values() for c in cs]
            metas = [m for _, _, m in fresh.values() for m in m["chunk_metas"]]
            self._upsert("chunks", [c.id for c in chunks], [c.text for c in chunks], metas)
            self._index([(c.id, rec.chunk_embed_text(c.text, m)) for c, m in zip(chunks, metas, strict=True)])
            smetas = [m["source"] for _, _, m in fresh.values()]
            self._upsert("sources", list(fresh), [rec.source_document(s) for s, _, _ in fresh.values()], smetas)
            self._changed()
            out: list[tuple[Source, list[Chunk]]] = []
            done: set[str] = set()
            for item, fetched_at, digest in stamped:
                sid = source_id(digest)
                if sid in fresh and sid not in done:
                    done.add(sid)
                    _, cs, m = fresh[sid]
                    out.append((rec.to_source(sid, m["source"]), cs))
                    continue
                meta = self._cols["sources"].get(ids=[sid], include=["metadatas"])["metadatas"][0]
                out.append(self._merge_source(sid, meta, item.url, item.run_id, fetched_at, rec.iso_to_ts(fetched_at)))
            return out

    def _prepare(
        self, item: NewSource, sid: str, digest: str, fetched_at: str
    ) -> tuple[Source, list[Chunk], dict[str, Any]]:
        """A new source's record and its chunks with their metadata, not yet written."""
        fetched_ts = rec.iso_to_ts(fetched_at)
        text = item.text
        spans = chunk_text(
            text,
            max_tokens=self.options.chunk_tokens,
            overlap=self.options.chunk_overlap,
            pages=_page_tuples(item.pages),
        )
        chunks = [
            Chunk(chunk_id(sid, i, text[s.start : s.end]), sid, text[s.start : s.end], i, s.start, s.end, s.page,
                  s.heading, (item.run_id,))
            for i, s in enumerate(spans)
        ]  # fmt: skip
        urls = (normalize_url(item.url),)
        source = Source(sid, item.url, item.title, fetched_at, digest, "ok", urls, item.kind, dict(item.metadata or {}))
        smeta = rec.source_meta(source, fetched_ts=fetched_ts, run_ids=[item.run_id], n_chunks=len(chunks))
        cmetas = [rec.chunk_meta(c, smeta) for c in chunks]
        return source, chunks, {"chunk_metas": cmetas, "source": smeta}

    def _merge_source(
        self, sid: str, meta: dict[str, Any], url: str, run_id: str, fetched_at: str, fetched_ts: float
    ) -> tuple[Source, list[Chunk]]:
        """The source exists: add this URL and run, refresh the fetch time, tag its chunks with the run."""
        urls = rec.merged(meta.get("urls") or [], [normalize_url(url)])
        runs = rec.merged(meta.get("run_ids") or [], [run_id])
        meta = {**meta, "urls": urls, "run_ids": runs}
        if fetched_ts > float(meta.get("fetched_ts", 0)):
            meta.update(fetched_at=fetched_at, fetched_ts=fetched_ts)
        source = rec.to_source(sid, meta)
        self._cols["sources"].update(ids=[sid], metadatas=[meta], documents=[rec.source_document(source)])
        self._changed()
        got = self._cols["chunks"].get(where={"source_id": sid}, include=["documents", "metadatas"])
        copy = rec.source_copy(meta)
        current = [{**m, **copy, "run_ids": rec.merged(m.get("run_ids") or [], [run_id])} for m in got["metadatas"]]
        stale = [i for i, (old, new) in enumerate(zip(got["metadatas"], current, strict=True)) if old != new]
        if stale:
            self._cols["chunks"].update(ids=[got["ids"][i] for i in stale], metadatas=[current[i] for i in stale])
        got["metadatas"] = current
        chunks = [rec.to_chunk(c, d, m) for c, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]
        return source, sorted(chunks, key=lambda c: c.position)

    def get_source(self, id: str) -> Source | None:
        """A source by id, or None."""
        got = self._cols["sources"].get(ids=[id], include=["metadatas"])
        return rec.to_source(got["ids"][0], got["metadatas"][0]) if got["ids"] else None

    def get_sources(self, ids: Sequence[str]) -> list[Source]:
        """Sources by id in one read, in the order asked (unknown ids are skipped)."""
        if not ids:
            return []
        got = self._cols["sources"].get(ids=list(dict.fromkeys(ids)), include=["metadatas"])
        found = {i: rec.to_source(i, m) for i, m in zip(got["ids"], got["metadatas"], strict=True)}
        return [found[i] for i in dict.fromkeys(ids) if i in found]

    def source_by_url(self, url: str) -> Source | None:
        """The most recently fetched source seen under ``url`` (any of its URLs), or None."""
        got = self._cols["sources"].get(where={"urls": {"$contains": normalize_url(url)}}, include=["metadatas"])
        if not got["ids"]:
            return None
        best = max(range(len(got["ids"])), key=lambda i: float(got["metadatas"][i].get("fetched_ts", 0)))
        return rec.to_source(got["ids"][best], got["metadatas"][best])

    def sources_by_urls(self, urls: Sequence[str]) -> dict[str, Source]:
        """``source_by_url`` for many URLs in one read: each URL seen in memory -> its most recent source."""
        keys = {u: normalize_url(u) for u in urls}
        clauses = [{"urls": {"$contains": k}} for k in dict.fromkeys(keys.values())]
        if not clauses:
            return {}
        got = self._cols["sources"].get(
            where=clauses[0] if len(clauses) == 1 else {"$or": clauses}, include=["metadatas"]
        )
        best: dict[str, tuple[float, str, dict[str, Any]]] = {}
        wanted = set(keys.values())
        for sid, meta in zip(got["ids"], got["metadatas"], strict=True):
            ts = float(meta.get("fetched_ts", 0))
            for key in wanted.intersection(meta.get("urls") or []):
                if key not in best or ts > best[key][0]:
                    best[key] = (ts, sid, meta)
        return {u: rec.to_source(best[k][1], best[k][2]) for u, k in keys.items() if k in best}

    def sources(self, kind: str | None = None) -> list[Source]:
        """Every source (optionally of one kind), most recent first."""
        got = self._cols["sources"].get(where={"kind": kind} if kind else None, include=["metadatas"])
        pairs = sorted(zip(got["ids"], got["metadatas"], strict=True), key=lambda p: -float(p[1].get("fetched_ts", 0)))
        return [rec.to_source(i, m) for i, m in pairs]

    def is_fresh(self, url: str, days: float) -> bool:
        """Whether ``url`` was fetched successfully within the last ``days`` days."""
        source = self.source_by_url(url)
        if source is None or source.status != "ok":
            return False
        return time.time() - rec.iso_to_ts(source.fetched_at) <= days * 86400.0

    def get_chunks(self, ids: Sequence[str]) -> list[Chunk]:
        """Chunks by id, in the order asked (unknown ids are skipped)."""
        if not ids:
            return []
        got = self._cols["chunks"].get(ids=list(dict.fromkeys(ids)), include=["documents", "metadatas"])
        found = {
            c: rec.to_chunk(c, d, m) for c, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }
        return [found[i] for i in dict.fromkeys(ids) if i in found]

    def chunks_of(self, source: str) -> list[Chunk]:
        """Every chunk of a source, in order."""
        got = self._cols["chunks"].get(where={"source_id": source}, include=["documents", "metadatas"])
        chunks = [rec.to_chunk(c, d, m) for c, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]
        return sorted(chunks, key=lambda c: c.position)

    def forget_source(self, id_or_url: str) -> int:
        """Remove a source and its chunks; returns the number of chunks removed (0 if unknown)."""
        with self._lock:
            source = self.get_source(id_or_url) or self.source_by_url(id_or_url)
            if source is None:
                return 0
            got = self._cols["chunks"].get(where={"source_id": source.id}, include=[])
            if got["ids"]:
                self._cols["chunks"].delete(ids=got["ids"])
            self._cols["sources"].delete(ids=[source.id])
            self._changed()
            if self._lex.index.remove(got["ids"]):
                self._lex.dirty = True
            return len(got["ids"])

    # -- administration -----------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Counts per collection, sources per kind and per run, the embedding model and where the store is."""
        counts = {name: col.count() for name, col in self._cols.items()}
        kinds = {k: len(self._cols["sources"].get(where={"kind": k}, include=[])["ids"]) for k in ("web", "local")}
        return {"where": self.where, "embedding": self.embedder.fingerprint, "counts": counts, "sources_by_kind": kinds,
                "sources_by_run": self.sources_per_run()}

    def close(self) -> None:
        """Save the lexical index if it changed, then release the Chroma client (the embedder is the caller's)."""
        with self._lock:
            self._save_lexical()
        closer = getattr(self._client, "close", None)
        if callable(closer):
            closer()


def _connect(path: str | Path | None, host: str | None, port: int) -> tuple[Any, str]:
    """A Chroma client (telemetry off): HTTP when ``host`` is set, else persistent in ``path``."""
    settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if host:
            return chromadb.HttpClient(host=host, port=port, settings=settings), f"http://{host}:{port}"
        if path is not None:
            Path(path).mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(path), settings=settings), str(path)
        return chromadb.EphemeralClient(settings=settings), "(in memory)"
    except (ValueError, OSError, ChromaError) as exc:
        target = f"the Chroma server at {host}:{port}" if host else f"the memory store in {path}"
        raise MemoryStoreError(f"Cannot open {target} ({exc}); check the path or that the server runs.") from exc


def _index_file(path: str | Path | None, host: str | None) -> Path | None:
    """Where a local store keeps its saved BM25 index (server and in-memory stores keep none)."""
    return None if host or path is None else Path(path) / LEXICAL_FILE


def _page_tuples(pages: Iterable[Any]) -> list[tuple[int, int, int]]:
    """Pages as (number, start, end), from ``PageSpan``-like objects or tuples."""
    out = []
    for p in pages:
        if isinstance(p, (tuple, list)):
            out.append((int(p[0]), int(p[1]), int(p[2])))
        else:
            out.append((int(p.number), int(p.start), int(p.end)))
    return out


__all__ = ["Filters", "Memory", "MemoryOptions", "NewSource"]
