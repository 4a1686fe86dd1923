"""Hybrid retrieval over the chunks collection: dense (Chroma HNSW, cosine) and lexical (BM25).

Guarantees:
- ``rank`` fuses the dense and lexical rankings with weighted reciprocal-rank fusion, under the same
  filters on both sides; ``search`` optionally diversifies with MMR and returns each hit with its
  source, read from the chunk record's copy of the source (one Chroma read for all hits; chunks
  written before schema 2 have no copy and their sources are read from the sources collection).
- The BM25 index follows the chunks collection: our own writes update it, and a different chunk
  count (another client's writes, noticed within ``RECHECK_S``) rebuilds it.
- A local store keeps its BM25 index in ``quarry-lexical.npz`` beside the Chroma files (saved after a
  rebuild and on ``close`` when changed); it is used on reopen only when it holds exactly the chunk
  ids Chroma holds, otherwise it is rebuilt from the chunks and saved again.
- ``search(..., relevant_to=question, run_id=...)`` is the read that crosses runs: what earlier runs
  stored is returned only when ``memory.relevance`` finds it about the question.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from memory import records as rec
from memory import relevance
from memory.retrieval import BM25Index, ids_key, rrf
from memory.retrieval import mmr as mmr_order
from memory.types import Hit

if TYPE_CHECKING:
    from memory.embeddings import QuarryEmbedder
    from memory.options import Filters, MemoryOptions
    from memory.types import Source

LEXICAL_FILE = "quarry-lexical.npz"  # the saved BM25 index, next to a local store's Chroma files
RECHECK_S = 2.0  # how stale the search path may see another client's writes


@dataclass
class Lexical:
    """The BM25 index and whether it matches the chunks collection and its saved copy."""

    index: BM25Index = field(default_factory=BM25Index)
    synced: bool = False
    dirty: bool = False  # changed since it was saved or loaded


class HybridSearchMixin:
    """``rank`` and ``search``; mixed into ``memory.store.Memory``."""

    # Provided by ``Memory``.
    _cols: dict[str, Any]
    _lock: threading.RLock
    _lex: Lexical
    _count: tuple[float, int]  # (monotonic time checked, chunk count), -1 when unknown
    embedder: QuarryEmbedder
    options: MemoryOptions
    index_file: Path | None
    get_sources: Callable[[Sequence[str]], list[Source]]

    def _index(self, docs: list[tuple[str, str]]) -> None:
        """Add freshly written chunks (id, indexed text) to the BM25 index if it is in use."""
        if self._lex.synced and docs:
            self._lex.index.add_many(docs)
            self._lex.dirty = True

    def _sync_lexical(self, total: int | None = None) -> BM25Index:
        """The BM25 index, (re)built from the chunks collection when it is missing or out of date."""
        lex = self._lex
        if lex.synced and len(lex.index) == (self._cols["chunks"].count() if total is None else total):
            return lex.index
        with self._lock:
            key = ids_key(self._cols["chunks"].get(include=[])["ids"])
            loaded = BM25Index.load(self.index_file, key) if self.index_file else None
            if loaded is not None:
                self._lex = Lexical(loaded, True)
                return loaded
            index, offset, page = BM25Index(), 0, 5000
            while True:
                got = self._cols["chunks"].get(include=["documents", "metadatas"], limit=page, offset=offset)
                index.add_many(
                    (c, rec.chunk_embed_text(d, m))
                    for c, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
                )
                if len(got["ids"]) < page:
                    break
                offset += page
            self._lex = Lexical(index, True, dirty=True)
            self._save_lexical()
            return index

    def _save_lexical(self) -> None:
        """Save the BM25 index next to the Chroma files (local stores) when it changed since last saved."""
        lex = self._lex
        if self.index_file is None or not (lex.synced and lex.dirty):
            return
        try:
            lex.index.save(self.index_file)
        except OSError:
            return  # an unwritable data directory only costs a rebuild on the next open
        lex.dirty = False

    def _chunk_count(self) -> int:
        """The number of chunks: exact after our own writes, rechecked every ``RECHECK_S`` for others'."""
        checked_at, count = self._count
        now = time.monotonic()
        if count < 0 or now - checked_at > RECHECK_S:
            self._count = (now, self._cols["chunks"].count())
        return self._count[1]

    def _changed(self) -> None:
        """Forget the cached chunk count after our own write."""
        self._count = (0.0, -1)

    def _allowed(self, where: dict[str, Any] | None) -> set[str] | None:
        if where is None:
            return None
        return set(self._cols["chunks"].get(where=where, include=[])["ids"])

    def rank(
        self, query: str, filters: Filters | None = None, *, mode: str = "hybrid", n: int | None = None
    ) -> list[tuple[str, float]]:
        """Ranked (chunk id, score) pairs; ``mode`` is "hybrid", "dense" or "lexical"."""
        n = n or self.options.candidates
        where = filters.where() if filters else None
        total = self._chunk_count()
        if not total:
            return []
        if mode == "lexical":
            return self._lexical(query, n, where, total)
        if mode == "dense":
            return self._dense(query, n, where, total)
        dense = [c for c, _ in self._dense(query, n, where, total)]
        lexical = [c for c, _ in self._lexical(query, n, where, total)]
        o = self.options
        fused = rrf([dense, lexical], k=o.rrf_k, weights=(o.dense_weight, o.lexical_weight))
        return sorted(fused.items(), key=lambda p: -p[1])

    def _dense(self, query: str, n: int, where: dict[str, Any] | None, total: int) -> list[tuple[str, float]]:
        """Chroma's nearest chunks to the embedded query as (id, cosine similarity)."""
        qvec = self.embedder.embed_query([query])[0]
        res = self._cols["chunks"].query(
            query_embeddings=[qvec], n_results=min(n, total), where=where, include=["distances"]
        )
        return [(c, 1.0 - float(d)) for c, d in zip(res["ids"][0], res["distances"][0], strict=True)]

    def _lexical(self, query: str, n: int, where: dict[str, Any] | None, total: int) -> list[tuple[str, float]]:
        """BM25's best chunks for the query as (id, score), under the same filter as the dense side."""
        return self._sync_lexical(total).search(query, n, self._allowed(where))

    def search(
        self,
        query: str,
        k: int = 10,
        filters: Filters | None = None,
        *,
        mmr: bool = False,
        mode: str = "hybrid",
        relevant_to: str | None = None,
        run_id: str | None = None,
    ) -> list[Hit]:
        """The ``k`` best chunks for ``query`` with their sources and scores (higher is better).

        With ``relevant_to`` (a question), a chunk an earlier run stored is kept only when it clears
        ``memory.relevance``'s bar for that question; the user's own documents (kind "local") and
        chunks of run ``run_id`` are kept as they are.
        """
        if relevant_to is not None:
            wide = self.search(query, max(4 * k, 20), filters, mmr=mmr, mode=mode)
            return [h for h in wide if crosses(h, relevant_to, run_id)][:k]
        ranked = self.rank(query, filters, mode=mode, n=max(self.options.candidates, k))
        if mmr and ranked:
            pool = dict(ranked[: max(4 * k, 20)])
            got = self._cols["chunks"].get(ids=list(pool), include=["embeddings"])
            vecs = {c: np.asarray(v, dtype=np.float32) for c, v in zip(got["ids"], got["embeddings"], strict=True)}
            order = mmr_order(vecs, pool, k, lambda_=self.options.mmr_lambda)
            ranked = [(c, pool[c]) for c in order]
        top = dict(ranked[:k])
        if not top:
            return []
        got = self._cols["chunks"].get(ids=list(top), include=["documents", "metadatas"])
        records = {c: (d, m) for c, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)}
        sources = {c: rec.chunk_source(m) for c, (_, m) in records.items()}
        missing = {str(records[c][1]["source_id"]) for c, s in sources.items() if s is None}
        older = {s.id: s for s in self.get_sources(sorted(missing))} if missing else {}
        hits = []
        for cid in top:
            if cid not in records:
                continue  # removed by another client since it was ranked
            doc, meta = records[cid]
            source = sources[cid] or older.get(str(meta["source_id"]))
            if source is not None:
                hits.append(Hit(rec.to_chunk(cid, doc, meta), source, top[cid]))
        return hits


def crosses(hit: Hit, question: str, run_id: str | None) -> bool:
    """Whether a hit may be shown for ``question`` in run ``run_id`` (see ``HybridSearchMixin.search``)."""
    if hit.source.kind == "local" or (run_id and run_id in hit.chunk.run_ids):
        return True
    return relevance.relevant(question, "\n".join([hit.source.title, hit.chunk.heading or "", hit.chunk.text]))
