"""Lexical retrieval (BM25), rank fusion (weighted RRF) and diversity (MMR).

``BM25Index`` is our own small inverted index rather than ``bm25s``: the memory needs incremental
adds and removals as sources arrive during a run (bm25s indexes a fixed corpus and re-indexes from
scratch) and a per-query mask for the run/source/kind/time filters, both cheap here. Scoring is
Lucene's BM25 (k1=1.2, b=0.75, idf = ln(1 + (N - df + .5)/(df + .5))) over Snowball-stemmed,
stop-word-filtered tokens. Guarantees: results are deterministic (ties broken by insertion order),
removed documents never come back, and a mask restricts results without rebuilding anything.
``save``/``load`` round-trip the live documents' postings through one ``.npz`` file tagged with
``ids_key`` of their ids; ``load`` returns None for any other key or an unreadable file, and a loaded
index scores exactly like the one saved and keeps accepting adds and removals.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import Stemmer

_WORD = re.compile(r"[^\W_]+")
_STOPWORD_TEXT = """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not of off on once only or other our ours ourselves out over own same she should so some
    such than that the their theirs them themselves then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you your yours
    yourself yourselves"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


class Tokenizer:
    """Lower-cased word tokens without stop words, Snowball-stemmed (stems cached)."""

    def __init__(self, language: str = "english") -> None:
        self._stem = Stemmer.Stemmer(language).stemWord
        self._cache: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, text: str) -> list[str]:
        out = []
        cache = self._cache
        for word in _WORD.findall(text.lower()):
            if word in STOPWORDS:
                continue
            stem = cache.get(word)
            if stem is None:
                stem = self._stem(word)
                with self._lock:
                    if len(cache) < 500_000:
                        cache[word] = stem
            out.append(stem)
        return out


class BM25Index:
    """An incremental BM25 index over string ids with optional per-query masks."""

    def __init__(self, tokenizer: Callable[[str], list[str]] | None = None, k1: float = 1.2, b: float = 0.75):
        self.tokenize = tokenizer or Tokenizer()
        self.k1, self.b = k1, b
        self._lock = threading.RLock()
        self._vocab: dict[str, int] = {}
        self._post_docs: list[list[int]] = []
        self._post_tfs: list[list[int]] = []
        self._frozen: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        # Per-term BM25 weights (tf part, length-normalized) for the current corpus statistics;
        # any add or remove changes avgdl, so writes clear it and queries rebuild what they touch.
        self._weights: dict[int, np.ndarray] = {}
        self._df: list[int] = []
        self.ids: list[str] = []
        self._row: dict[str, int] = {}
        self._terms: list[np.ndarray] = []
        self._len = np.zeros(0, dtype=np.float32)
        self._alive = np.zeros(0, dtype=bool)
        self._total_len = 0.0

    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._row

    def add(self, doc_id: str, text: str) -> None:
        """Index (or re-index) one document."""
        self.add_many([(doc_id, text)])

    def add_many(self, docs: Iterable[tuple[str, str]]) -> None:
        """Index several documents; an id already present is replaced."""
        tokenized = [(doc_id, Counter(self.tokenize(text))) for doc_id, text in docs]
        with self._lock:
            self._weights.clear()
            start = len(self.ids)
            self._grow(start + len(tokenized))
            for doc_id, counts in tokenized:
                if doc_id in self._row:
                    self._remove_locked(doc_id)
                row = len(self.ids)
                self.ids.append(doc_id)
                self._row[doc_id] = row
                term_ids = []
                for term, tf in counts.items():
                    tid = self._vocab.get(term)
                    if tid is None:
                        tid = self._vocab[term] = len(self._df)
                        self._df.append(0)
                        self._post_docs.append([])
                        self._post_tfs.append([])
                    self._post_docs[tid].append(row)
                    self._post_tfs[tid].append(tf)
                    self._df[tid] += 1
                    term_ids.append(tid)
                self._terms.append(np.asarray(term_ids, dtype=np.int32))
                n = sum(counts.values())
                self._len[row] = n
                self._alive[row] = True
                self._total_len += n

    def _grow(self, size: int) -> None:
        if size > len(self._len):
            cap = max(size, 2 * len(self._len), 1024)
            self._len = np.resize(self._len, cap)
            self._alive = np.concatenate([self._alive, np.zeros(cap - len(self._alive), dtype=bool)])

    def remove(self, doc_ids: Iterable[str]) -> int:
        """Drop documents; returns how many were indexed."""
        with self._lock:
            return sum(self._remove_locked(d) for d in doc_ids if d in self._row)

    def _remove_locked(self, doc_id: str) -> int:
        row = self._row.pop(doc_id)
        self._weights.clear()
        self._alive[row] = False
        self._total_len -= float(self._len[row])
        for tid in self._terms[row]:
            self._df[tid] -= 1
        return 1

    def _postings(self, tid: int) -> tuple[np.ndarray, np.ndarray]:
        """The term's (rows, tfs) arrays: the frozen base plus postings appended since, merged once."""
        frozen = self._frozen.get(tid)
        pending_docs, pending_tfs = self._post_docs[tid], self._post_tfs[tid]
        if frozen is None or pending_docs:
            docs = np.asarray(pending_docs, dtype=np.int64)
            tfs = np.asarray(pending_tfs, dtype=np.float32)
            if frozen is not None:
                docs, tfs = np.concatenate([frozen[0], docs]), np.concatenate([frozen[1], tfs])
            frozen = self._frozen[tid] = (docs, tfs)
            pending_docs.clear()
            pending_tfs.clear()
        return frozen

    def save(self, path: Path) -> None:
        """Write the live documents' postings to ``path`` (atomically), tagged with ``ids_key`` of their ids."""
        with self._lock:
            key = ids_key(self._row)
            alive = self._alive[: len(self.ids)]
            rows = np.flatnonzero(alive)
            remap = np.full(len(self.ids), -1, dtype=np.int64)
            remap[rows] = np.arange(len(rows))
            docs, tfs, ptr = [], [], [0]
            for tid in range(len(self._df)):
                d, t = self._postings(tid)
                keep = alive[d]
                docs.append(remap[d[keep]])
                tfs.append(t[keep])
                ptr.append(ptr[-1] + int(keep.sum()))
            terms = [""] * len(self._vocab)
            for term, tid in self._vocab.items():
                terms[tid] = term
            arrays = {
                "key": np.asarray(key),
                "ids": np.asarray([self.ids[r] for r in rows.tolist()], dtype=str),
                "lengths": self._len[rows].astype(np.float32),
                "terms": np.asarray(terms, dtype=str),
                "ptr": np.asarray(ptr, dtype=np.int64),
                "docs": np.concatenate(docs).astype(np.int32) if docs else np.zeros(0, dtype=np.int32),
                "tfs": np.concatenate(tfs).astype(np.float32) if tfs else np.zeros(0, dtype=np.float32),
            }
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with tmp.open("wb") as fh:
                np.savez(fh, **arrays)  # type: ignore[arg-type]
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)  # left only by a failed write

    @classmethod
    def load(cls, path: Path, key: str, tokenizer: Callable[[str], list[str]] | None = None) -> BM25Index | None:
        """The index saved in ``path`` if it exists, is readable and was saved with ``key``; else None."""
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["key"]) != key:
                    return None
                arrays = {name: data[name] for name in ("ids", "lengths", "terms", "ptr", "docs", "tfs")}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None
        index = cls(tokenizer)
        ids, ptr, docs, tfs = arrays["ids"].tolist(), arrays["ptr"], arrays["docs"].astype(np.int64), arrays["tfs"]
        index.ids = ids
        index._row = {d: i for i, d in enumerate(ids)}
        index._len = arrays["lengths"].astype(np.float32)
        index._alive = np.ones(len(ids), dtype=bool)
        index._total_len = float(index._len.sum())
        terms = arrays["terms"].tolist()
        index._vocab = {t: i for i, t in enumerate(terms)}
        index._df = np.diff(ptr).tolist()
        index._post_docs = [[] for _ in terms]
        index._post_tfs = [[] for _ in terms]
        index._frozen = {i: (docs[ptr[i] : ptr[i + 1]], tfs[ptr[i] : ptr[i + 1]]) for i in range(len(terms))}
        term_of = np.repeat(np.arange(len(terms), dtype=np.int32), np.diff(ptr))
        order = np.argsort(docs, kind="stable")
        bounds = np.cumsum(np.bincount(docs, minlength=len(ids)))[:-1]
        index._terms = np.split(term_of[order], bounds) if ids else []
        return index

    def _weight(self, tid: int, avgdl: float) -> np.ndarray:
        """The term's ``tf * (k1 + 1) / (tf + norm)`` per posting, cached until the next write."""
        weight = self._weights.get(tid)
        if weight is None:
            docs, tfs = self._postings(tid)
            norm = self.k1 * (1.0 - self.b + self.b * self._len[docs] / avgdl)
            weight = self._weights[tid] = (tfs * (self.k1 + 1.0) / (tfs + norm)).astype(np.float32)
        return weight

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for ``query`` (removed rows score 0)."""
        return self._score(query)[0]

    def _score(self, query: str) -> tuple[np.ndarray, list[np.ndarray]]:
        """Every row's score, and the postings (rows) of the query's terms, rarest term first."""
        terms = Counter(self.tokenize(query))
        with self._lock:
            n_docs = len(self._row)
            out = np.zeros(len(self.ids), dtype=np.float32)
            postings: list[tuple[int, np.ndarray]] = []
            if not n_docs:
                return out, []
            avgdl = max(self._total_len / n_docs, 1e-9)
            for term, qtf in terms.items():
                tid = self._vocab.get(term)
                if tid is None or self._df[tid] <= 0:
                    continue
                df = self._df[tid]
                idf = math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
                docs, _ = self._postings(tid)
                out[docs] += np.float32(qtf * idf) * self._weight(tid, avgdl)
                postings.append((df, docs))
            out *= self._alive[: len(self.ids)]
        return out, [docs for _, docs in sorted(postings, key=lambda p: p[0])]

    def search(self, query: str, k: int, only: Iterable[str] | None = None) -> list[tuple[str, float]]:
        """The ``k`` best (id, score) pairs with a positive score, restricted to ids in ``only`` if given."""
        scores, postings = self._score(query)
        if only is not None:
            with self._lock:
                rows = np.asarray([self._row[d] for d in only if d in self._row], dtype=np.int64)
            keep = np.zeros(len(scores), dtype=bool)
            keep[rows] = True
            scores = scores * keep
        hits = np.flatnonzero(scores >= _floor(scores, postings, k))
        if len(hits) > k:  # keep the k best and every row tied with the k-th, then order exactly
            best = scores[hits]
            hits = hits[best >= np.partition(best, len(best) - k)[len(best) - k]]
        ranked = hits[np.lexsort((hits, -scores[hits]))][:k]  # ties: the earlier-indexed row first
        return [(self.ids[h], float(scores[h])) for h in ranked.tolist()]


def _floor(scores: np.ndarray, postings: Sequence[np.ndarray], k: int) -> float:
    """A score the ``k``-th best row reaches (at least the smallest positive score), found cheaply.

    The ``k``-th best score of any set of rows is at most the ``k``-th best overall, so the rows of the
    rarest terms (a few hundred, where a common term has tens of thousands) give a floor that leaves
    few candidates for the exact top-k selection; ranking is exactly that of a full sort.
    """
    floor = float(np.finfo(np.float32).tiny)  # the smallest positive score
    seen: list[np.ndarray] = []
    size = 0
    for docs in postings:
        if size >= 4 * k or size + len(docs) > 64 * k:
            break
        seen.append(docs)
        size += len(docs)
    if size >= k:
        sample = scores[np.unique(np.concatenate(seen))]
        sample = sample[sample > 0]
        if len(sample) >= k:
            floor = max(floor, float(np.partition(sample, len(sample) - k)[len(sample) - k]))
    return floor


def ids_key(ids: Iterable[str]) -> str:
    """A digest naming a set of document ids (order-free): how a saved index is matched to its store."""
    ordered = sorted(ids)
    return f"{len(ordered)}:" + hashlib.sha256("\n".join(ordered).encode()).hexdigest()


def rrf(
    rankings: Sequence[Sequence[str]], *, k: float = 60.0, weights: Sequence[float] | None = None
) -> dict[str, float]:
    """Weighted reciprocal-rank fusion: sum over rankings of weight / (k + rank), rank 1-based."""
    fused: dict[str, float] = {}
    for i, ranking in enumerate(rankings):
        w = 1.0 if weights is None else weights[i]
        for rank, doc in enumerate(ranking, start=1):
            fused[doc] = fused.get(doc, 0.0) + w / (k + rank)
    return fused


def mmr(
    candidates: Mapping[str, np.ndarray],
    relevance: Mapping[str, float],
    k: int,
    *,
    lambda_: float = 0.7,
) -> list[str]:
    """Maximal marginal relevance: pick ``k`` ids trading relevance against similarity to those picked."""
    ids = [c for c in candidates if c in relevance]
    if not ids:
        return []
    vecs = np.stack([candidates[c] for c in ids]).astype(np.float32)
    rel = np.asarray([relevance[c] for c in ids], dtype=np.float32)
    span = float(rel.max() - rel.min())
    rel = (rel - rel.min()) / span if span > 0 else np.ones_like(rel)
    sim = vecs @ vecs.T
    chosen: list[int] = []
    best_sim = np.full(len(ids), -np.inf, dtype=np.float32)
    while len(chosen) < min(k, len(ids)):
        penalty = np.where(np.isfinite(best_sim), best_sim, 0.0)
        score = lambda_ * rel - (1.0 - lambda_) * penalty
        score[chosen] = -np.inf
        pick = int(np.argmax(score))
        chosen.append(pick)
        best_sim = np.maximum(best_sim, sim[pick])
    return [ids[i] for i in chosen]
