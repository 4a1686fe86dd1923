"""Retrieval quality through Quarry's memory on a BEIR-format data set: dense, lexical and fused.

    python bench/retrieval.py BEIR_DIR --embedding-model MODEL.gguf [--limit-queries N] [--store DIR]

BEIR_DIR holds ``corpus.jsonl`` (_id, title, text), ``queries.jsonl`` (_id, text) and
``qrels-test.tsv`` (query-id, corpus-id, score). Every document is ingested with
``Memory.add_source`` (chunked like any page, title as the source title) and every query answered
with ``Memory.rank`` in each mode; a document's rank is that of its best chunk. Prints ONE JSON
object: nDCG@10 and recall@100 per mode, sizes, timings and the machine. ``--store`` keeps the
ingested store between runs (ingest is idempotent, so a second run re-embeds nothing).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# OpenMP threads that spin while waiting burn a shared CPU (4x the CPU time per token measured here
# with 2 threads on 2 busy cores); passive waiting keeps llama.cpp efficient when cores are contended.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from memory.embeddings import LlamaEmbedder
from memory.store import Memory, MemoryOptions, NewSource


def load_beir(root: Path) -> tuple[dict[str, dict[str, str]], dict[str, str], dict[str, dict[str, int]]]:
    """Corpus, queries and test qrels of a BEIR folder."""
    with (root / "corpus.jsonl").open(encoding="utf-8") as fh:
        corpus = {
            (d := json.loads(line))["_id"]: {"title": d.get("title", ""), "text": d.get("text", "")} for line in fh
        }
    with (root / "queries.jsonl").open(encoding="utf-8") as fh:
        queries = {(q := json.loads(line))["_id"]: q["text"] for line in fh}
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    name = "qrels-test.tsv" if (root / "qrels-test.tsv").exists() else "qrels/test.tsv"
    with (root / name).open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            qrels[row["query-id"]][row["corpus-id"]] = int(row["score"])
    return corpus, {q: t for q, t in queries.items() if q in qrels}, dict(qrels)


def ndcg_at(ranked: list[str], rels: dict[str, int], k: int = 10) -> float:
    """nDCG@k with graded relevance (BEIR's definition)."""
    dcg = sum((2 ** rels.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(rels.values(), reverse=True)[:k]
    idcg = sum((2**r - 1) / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], rels: dict[str, int], k: int = 100) -> float:
    """Fraction of relevant documents in the top ``k``."""
    relevant = {d for d, r in rels.items() if r > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def ingest(memory: Memory, corpus: dict[str, dict[str, str]], batch: int = 64) -> dict[str, list[str]]:
    """Add every document; returns source id -> BEIR doc ids (identical texts share a source)."""
    docs_of: dict[str, list[str]] = defaultdict(list)
    ids = list(corpus)
    for lo in range(0, len(ids), batch):
        part = ids[lo : lo + batch]
        items = [
            NewSource(
                f"beir:{d}", corpus[d]["title"], corpus[d]["text"].strip() or corpus[d]["title"], "bench", kind="local"
            )
            for d in part
        ]
        for doc_id, (source, _) in zip(part, memory.add_sources(items), strict=True):
            docs_of[source.id].append(doc_id)
    return docs_of


def doc_ranking(
    memory: Memory, query: str, mode: str, docs_of: dict[str, list[str]], source_of: dict[str, str]
) -> list[str]:
    """Documents in the order of their best chunk for ``query``."""
    out: list[str] = []
    seen: set[str] = set()
    for chunk_id, _ in memory.rank(query, mode=mode, n=300):
        sid = source_of[chunk_id]
        if sid not in seen:
            seen.add(sid)
            out.extend(docs_of[sid])
    return out


def main() -> int:
    """Run the benchmark and print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("beir_dir", type=Path)
    parser.add_argument("--embedding-model", required=True, help="a GGUF embedding model")
    parser.add_argument("--limit-queries", type=int, default=0, help="evaluate a random sample of queries")
    parser.add_argument("--limit-docs", type=int, default=0, help="keep the judged documents plus this many others")
    parser.add_argument("--store", type=Path, help="keep the ingested store here between runs")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--rrf-k", type=float, default=MemoryOptions.rrf_k)
    parser.add_argument("--dense-weight", type=float, default=MemoryOptions.dense_weight)
    parser.add_argument("--lexical-weight", type=float, default=MemoryOptions.lexical_weight)
    args = parser.parse_args()

    corpus, queries, qrels = load_beir(args.beir_dir)
    rng = random.Random(0)
    if args.limit_queries:
        queries = dict(rng.sample(sorted(queries.items()), min(args.limit_queries, len(queries))))
    if args.limit_docs:
        judged = {d for q in queries for d in qrels[q]}
        others = rng.sample(sorted(set(corpus) - judged), min(args.limit_docs, len(corpus) - len(judged)))
        corpus = {d: corpus[d] for d in sorted(judged | set(others)) if d in corpus}

    embedder = LlamaEmbedder(args.embedding_model, n_threads=args.threads)
    options = MemoryOptions(rrf_k=args.rrf_k, dense_weight=args.dense_weight, lexical_weight=args.lexical_weight)
    store_dir = args.store or Path(tempfile.mkdtemp(prefix="quarry-beir-"))
    memory = Memory.open(store_dir, embedder=embedder, options=options)
    t0 = time.perf_counter()
    docs_of = ingest(memory, corpus)
    ingest_s = time.perf_counter() - t0
    source_of = {c.id: c.source_id for sid in docs_of for c in memory.chunks_of(sid)}

    result: dict[str, Any] = {}
    for mode in ("dense", "lexical", "hybrid"):
        t1 = time.perf_counter()
        ndcg, recall = [], []
        for qid, text in queries.items():
            ranked = doc_ranking(memory, text, mode, docs_of, source_of)
            ndcg.append(ndcg_at(ranked, qrels[qid]))
            recall.append(recall_at(ranked, qrels[qid]))
        name = "fused" if mode == "hybrid" else mode
        result[name] = {
            "ndcg@10": round(sum(ndcg) / len(ndcg), 4),
            "recall@100": round(sum(recall) / len(recall), 4),
            "query_ms": round(1000 * (time.perf_counter() - t1) / len(queries), 2),
        }
    result.update(
        dataset=str(args.beir_dir),
        documents=len(corpus),
        chunks=len(source_of),
        queries=len(queries),
        embedding=embedder.fingerprint,
        fusion={"rrf_k": args.rrf_k, "dense_weight": args.dense_weight, "lexical_weight": args.lexical_weight},
        ingest_s=round(ingest_s, 1),
        machine={"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
    )
    print(json.dumps(result))
    memory.close()
    embedder.close()
    if args.store is None:
        shutil.rmtree(store_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
