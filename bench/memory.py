"""Memory speed: ingest throughput, embedding throughput, query latency at 10k and 100k chunks, RSS.

    python bench/memory.py CORPUS.jsonl --embedding-model MODEL.gguf [--sizes 10000,100000]

CORPUS.jsonl has one JSON object per line with ``title`` and ``text`` (BEIR's corpus format).
Measured through ``memory.store.Memory``:
- ``embedding``: sentences/s of the llama.cpp embedder on single sentences of the corpus (the
  sentence-transformers comparison point: about 365 sentences/s for all-MiniLM-L6-v2 on 2 cores);
- ``ingest``: chunks/s with the real embedder, and with embedding time excluded (chunking, Chroma
  upsert, BM25 indexing);
- ``query``: for each size, a store filled with that many chunks (documents composed of corpus
  sentences; the deterministic hashing embedder keeps filling fast) is reopened and answers two
  passes of different queries: ``cold`` (the first queries after reopening, when the operating system
  may have dropped the store's file pages from its cache during the fill — this machine reclaims
  idle page cache aggressively) and then the measured, steady-state pass. Reported are p50/p95 of the
  whole ``search`` call and of the store side alone (query embedding excluded), the cold pass's
  store side, and the time of the first search after reopening (loading the saved BM25 index);
- ``rss_mb``: resident memory at the end. Prints ONE JSON object with the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# OpenMP threads that spin while waiting burn a shared CPU (4x the CPU time per token measured here
# with 2 threads on 2 busy cores); passive waiting keeps llama.cpp efficient when cores are contended.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from chromadb.api.types import Documents, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from memory.embeddings import HashingEmbedder, LlamaEmbedder, QuarryEmbedder, live_embedder
from memory.store import Memory, NewSource

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


@register_embedding_function
class Timed(QuarryEmbedder):
    """Wraps an embedder and accumulates the time spent embedding."""

    def __init__(self, inner: QuarryEmbedder) -> None:
        self.inner = inner
        self.fingerprint = inner.fingerprint
        self.query_prefix = inner.query_prefix
        self.seconds = 0.0
        self._remember()

    def __call__(self, input: Documents) -> Embeddings:
        t = time.perf_counter()
        try:
            return self.inner(input)
        finally:
            self.seconds += time.perf_counter() - t

    @staticmethod
    def name() -> str:
        return "quarry-bench-timed"

    def get_config(self) -> dict[str, Any]:
        return {"inner": self.fingerprint, "id": id(self)}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> Timed:
        found: Timed = live_embedder("quarry-bench-timed", config)
        return found


def rss_mb() -> float:
    """Resident set size of this process in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) in milliseconds, rounded."""
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))], 2)


def bench_embedding(embedder: LlamaEmbedder, sentences: list[str]) -> dict[str, Any]:
    """Sentences per second, embedded in batches of 256 like an ingest would."""
    embedder(sentences[:32])  # warm up
    t = time.perf_counter()
    for lo in range(0, len(sentences), 256):
        embedder(sentences[lo : lo + 256])
    seconds = time.perf_counter() - t
    return {"sentences": len(sentences), "sentences_per_s": round(len(sentences) / seconds, 1)}


def bench_ingest(embedder: QuarryEmbedder, docs: list[dict[str, str]], batch: int = 32) -> dict[str, Any]:
    """Chunks per second through add_sources (batches of ``batch`` documents), with and without embedding."""
    timed = Timed(embedder)
    with tempfile.TemporaryDirectory() as tmp:
        memory = Memory.open(tmp, embedder=timed)
        items = [NewSource(f"doc:{i}", d["title"], d["text"], "b") for i, d in enumerate(docs)]
        t = time.perf_counter()
        chunks = sum(
            len(c) for lo in range(0, len(items), batch) for _, c in memory.add_sources(items[lo : lo + batch])
        )
        total = time.perf_counter() - t
        memory.close()
    return {
        "documents": len(docs),
        "chunks": chunks,
        "chunks_per_s_with_embedding": round(chunks / total, 1),
        "chunks_per_s_without_embedding": round(chunks / max(total - timed.seconds, 1e-9), 1),
    }


def fill(memory: Memory, target: int, pool: list[str], rng: random.Random, batch: int = 500) -> int:
    """Add documents composed of random corpus sentences until the store holds ``target`` chunks."""
    n = memory.stats()["counts"]["chunks"]
    i = 0
    while n < target:
        items = []
        for _ in range(batch):
            paragraphs = ["\n".join(rng.sample(pool, 3)) for _ in range(3)]
            items.append(NewSource(f"synthetic:{target}:{i}", f"Synthetic {i}", "\n\n".join(paragraphs), "b"))
            i += 1
        n += sum(len(c) for _, c in memory.add_sources(items))
    return n


def timed_searches(memory: Memory, timed: Timed, queries: list[str]) -> tuple[list[float], list[float]]:
    """Seconds per ``search`` call and per call without the query embedding."""
    total, store = [], []
    for q in queries:
        before = timed.seconds
        t = time.perf_counter()
        memory.search(q, k=10)
        elapsed = time.perf_counter() - t
        total.append(elapsed)
        store.append(elapsed - (timed.seconds - before))
    return total, store


def bench_queries(size: int, pool: list[str], queries: list[str], dim: int) -> dict[str, Any]:
    """Search latency over a store of ``size`` chunks: a cold pass, then the measured pass."""
    rng = random.Random(size)
    timed = Timed(HashingEmbedder(dim=dim))
    with tempfile.TemporaryDirectory() as tmp:
        memory = Memory.open(tmp, embedder=timed)
        t = time.perf_counter()
        chunks = fill(memory, size, pool, rng)
        fill_s = time.perf_counter() - t
        memory.close()
        memory = Memory.open(tmp, embedder=timed)
        t = time.perf_counter()
        memory.search("warm up", k=10)
        reopen_s = time.perf_counter() - t
        half = len(queries) // 2
        _, cold = timed_searches(memory, timed, queries[:half])
        total, store = timed_searches(memory, timed, queries[half:])
        memory.close()
    return {
        "chunks": chunks,
        "fill_s": round(fill_s, 1),
        "first_search_after_reopen_s": round(reopen_s, 2),
        "queries": len(queries) - half,
        "search_ms": {"p50": pct(total, 50), "p95": pct(total, 95)},
        "store_side_ms": {"p50": pct(store, 50), "p95": pct(store, 95)},
        "cold_store_side_ms": {"p50": pct(cold, 50), "p95": pct(cold, 95), "queries": half},
    }


def main() -> int:
    """Run the benchmark and print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--embedding-model", required=True)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200, help="measured queries per size (after as many cold ones)")
    parser.add_argument("--ingest-docs", type=int, default=300)
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    with args.corpus.open(encoding="utf-8") as fh:
        docs = [{"title": d.get("title", ""), "text": d.get("text", "")} for d in map(json.loads, fh)]
    rng = random.Random(0)
    pool = [s.strip() for d in docs for s in _SENTENCE.split(d["text"]) if len(s.split()) >= 4]
    embedder = LlamaEmbedder(args.embedding_model, n_threads=args.threads)
    result: dict[str, Any] = {"embedding_model": embedder.fingerprint, "threads": args.threads or os.cpu_count()}
    result["embedding"] = bench_embedding(embedder, rng.sample(pool, min(args.sentences, len(pool))))
    result["ingest"] = bench_ingest(embedder, rng.sample(docs, min(args.ingest_docs, len(docs))))
    queries = [" ".join(rng.sample(pool, 1)[0].split()[:12]) for _ in range(2 * args.queries)]
    result["query"] = {size: bench_queries(int(size), pool, queries, embedder.dim) for size in args.sizes.split(",")}
    result["rss_mb"] = round(rss_mb(), 1)
    result["machine"] = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result))
    embedder.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
