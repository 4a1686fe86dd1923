"""Benchmark the llama.cpp backend through Quarry's own ChatModel; prints one JSON object.

By default it writes (in a temporary folder) a random-weight GGUF shaped like Qwen2.5-0.5B —
896 hidden, 24 layers, 14 heads, 2 KV heads, FFN 4864, tied embeddings, Q8_0 — with a 151,936-token
vocabulary, then measures through ``LlamaChatModel``:

- prompt tokens/s (a fresh ~1,000-token prompt) and decode tokens/s (unconstrained);
- decode tokens/s under a JSON-schema grammar with our grammar-second sampler, its ratio to
  unconstrained, and for comparison llama-cpp-python's default grammar-first sampling of the same
  grammar on the same model;
- time to first token of a second call sharing a 1,000-token prefix vs the first, alone and with
  two roles (different prefixes) alternating.

Usage: ``python bench/llm.py [--model PATH.gguf] [--workdir DIR] [--threads N] [--decode 64]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import BaseModel, Field

from agents.llm.grammar import schema_to_gbnf
from agents.llm.llama import LlamaChatModel

QWEN05_SHAPE = {"n_embd": 896, "n_layer": 24, "n_head": 14, "n_head_kv": 2, "n_ff": 4864}


class Summary(BaseModel):
    """The constrained-decoding schema: long bounded strings, like a finding or a draft section."""

    summary: str = Field(max_length=2000)
    title: str = Field(max_length=120)
    tags: list[str] = Field(max_length=5)
    confidence: int = Field(ge=0, le=10)


def _words(n: int, salt: str) -> str:
    return " ".join(f"{salt}{i} lorem ipsum" for i in range(n))


def _sized_text(model: LlamaChatModel, tokens: int, salt: str) -> str:
    """Text whose chat-rendered system message is about ``tokens`` tokens long."""
    words = tokens // 2
    for _ in range(8):
        text = _words(words, salt)
        n = len(model.render([{"role": "system", "content": text}]))
        if abs(n - tokens) <= tokens // 50:
            break
        words = max(1, int(words * tokens / max(n, 1)))
    return text


def _call(model: LlamaChatModel, system: str, user: str, max_tokens: int, schema: Any = None) -> dict[str, Any]:
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    model.generate(messages, schema=schema, max_tokens=max_tokens)
    return dict(vars(model.last_stats))


def _prefix_round(model: LlamaChatModel, prefix_tokens: int, salt: str) -> dict[str, dict[str, Any]]:
    """Role A cold, A again, role B cold, then A and B alternating (each from the RAM cache)."""
    doc_a = _sized_text(model, prefix_tokens, f"a{salt}x")
    doc_b = _sized_text(model, prefix_tokens, f"b{salt}x")
    names = ["cold_a", "warm_a", "cold_b", "alt_a", "alt_b"]
    docs = [doc_a, doc_a, doc_b, doc_a, doc_b]
    return {name: _call(model, doc, f"Question {i}?", 1) for i, (name, doc) in enumerate(zip(names, docs, strict=True))}


def measure(model: LlamaChatModel, decode_tokens: int, prefix_tokens: int, rounds: int) -> dict[str, Any]:
    """All measurements on one loaded model; each timing is the best of ``rounds``.

    Rates and ratios use process CPU time (llama.cpp's threads included), which other load on a
    shared machine barely disturbs; the same figures from wall-clock time are under ``wall``.
    """
    model.load()
    model.temperature = 1.0
    _call(model, "warm up", "hi", 4)
    free, constrained, prefix = [], [], []
    for r in range(rounds):
        free.append(_call(model, f"Write freely {r}.", "Begin.", decode_tokens))
        constrained.append(_call(model, f"Answer in JSON {r}.", "Summarise.", decode_tokens, schema=Summary))
        prefix.append(_prefix_round(model, prefix_tokens, str(r)))
    baseline_cpu, baseline_wall = _grammar_first(model, decode_tokens)
    out: dict[str, Any] = {"rounds": rounds, "timing": "process CPU time; wall-clock under 'wall'"}
    for clock, suffix in (("cpu", "_cpu_s"), ("wall", "_s")):
        rate = _rates(free, constrained, prefix, suffix)
        rate["llama_cpp_python_grammar_first_tok_s"] = round(baseline_cpu if clock == "cpu" else baseline_wall, 2)
        rate["llama_cpp_python_grammar_first_ratio"] = round(
            rate["llama_cpp_python_grammar_first_tok_s"] / rate["decode_tok_s"], 3
        )
        if clock == "cpu":
            out.update(rate)
        else:
            out["wall"] = rate
    first = prefix[0]
    out.update(
        prompt_tokens=first["cold_a"]["prompt_tokens"],
        decode_tokens=free[0]["completion_tokens"],
        constrained_tokens=constrained[0]["completion_tokens"],
        constrained_grammar_rejections=constrained[0]["grammar_rejections"],
        reused_tokens_second=first["warm_a"]["reused_tokens"],
        alternating_reused_tokens=[first["alt_a"]["reused_tokens"], first["alt_b"]["reused_tokens"]],
    )
    return out


def _rates(free: list[Any], constrained: list[Any], prefix: list[Any], suffix: str) -> dict[str, Any]:
    def best(key: str, field: str) -> float:
        return min(p[key][field + suffix] for p in prefix)

    free_rate = max(f["completion_tokens"] / f["decode" + suffix] for f in free)
    constrained_rate = max(c["completion_tokens"] / c["decode" + suffix] for c in constrained)
    cold_a, warm_a, cold_b = best("cold_a", "ttft"), best("warm_a", "ttft"), best("cold_b", "ttft")
    alt_a, alt_b = best("alt_a", "ttft"), best("alt_b", "ttft")
    prompt_tokens = prefix[0]["cold_a"]["prompt_tokens"]
    return {
        "prompt_tok_s": round(prompt_tokens / best("cold_a", "prompt"), 1),
        "decode_tok_s": round(free_rate, 2),
        "constrained_decode_tok_s": round(constrained_rate, 2),
        "constrained_ratio": round(constrained_rate / free_rate, 3),
        "ttft_first_s": round(cold_a, 4),
        "ttft_second_s": round(warm_a, 4),
        "ttft_second_ratio": round(warm_a / cold_a, 4),
        "alternating_ttft_a_s": round(alt_a, 4),
        "alternating_ttft_b_s": round(alt_b, 4),
        "alternating_ratio_a": round(alt_a / cold_a, 4),
        "alternating_ratio_b": round(alt_b / cold_b, 4),
    }


def _grammar_first(model: LlamaChatModel, decode_tokens: int) -> tuple[float, float]:
    """llama-cpp-python's own sampling of the same grammar: (CPU, wall) tokens/s."""
    from llama_cpp import LlamaGrammar

    engine = model.load()
    llama = engine.llama
    grammar = LlamaGrammar.from_string(schema_to_gbnf(Summary.model_json_schema()), verbose=False)
    messages = [{"role": "system", "content": "Answer in JSON."}, {"role": "user", "content": "Go."}]
    with engine.lock:
        prompt = model.render(messages)
        wall = cpu = 0.0
        count = 0
        for count, _ in enumerate(llama.generate(prompt, temp=1.0, grammar=grammar), start=1):
            if count == 1:
                wall, cpu = time.perf_counter(), time.process_time()
            if count > decode_tokens:
                break
        return (count - 1) / (time.process_time() - cpu), (count - 1) / (time.perf_counter() - wall)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="an existing GGUF to measure instead of a generated one")
    parser.add_argument("--workdir", type=Path, help="where to write the generated GGUF (default: temp)")
    parser.add_argument("--vocab", type=int, default=151_936)
    parser.add_argument("--decode", type=int, default=64, help="tokens to decode per measurement")
    parser.add_argument("--prefix", type=int, default=1000, help="prefix length in tokens")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads (1: exact CPU timing)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat each timing, keep the best")
    parser.add_argument("--n-gpu-layers", type=int, default=-1)
    args = parser.parse_args(argv)

    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        started = time.perf_counter()
        path = args.model or _generate(Path(tmp) / "qwen05-shaped.gguf", args.vocab)
        generated_s = time.perf_counter() - started
        model = LlamaChatModel(str(path), models_dir=Path(tmp), n_ctx=4096, n_threads=args.threads,
                               n_gpu_layers=args.n_gpu_layers, max_tokens=args.decode)  # fmt: skip
        try:
            results = measure(model, args.decode, args.prefix, args.rounds)
            n_vocab = model.load().llama.n_vocab()
        finally:
            model.close()
    import llama_cpp

    report = {
        "benchmark": "llm",
        "model": str(args.model) if args.model else {"shape": "Qwen2.5-0.5B", **QWEN05_SHAPE, "qtype": "q8_0"},
        "n_vocab": n_vocab,
        "model_build_s": round(generated_s, 1),
        **results,
        "targets": {"constrained_ratio": ">= 0.8", "ttft_second_ratio": "<= 0.10"},
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "llama_cpp_python": llama_cpp.__version__,
            "gpu_offload": bool(llama_cpp.llama_supports_gpu_offload()),
            "threads": args.threads,
        },
    }
    print(json.dumps(report))
    return 0


def _generate(path: Path, vocab: int) -> Path:
    from tests.gguf_factory import write_tiny_gguf

    shape = QWEN05_SHAPE
    return write_tiny_gguf(  # flat next-token distributions: the model picks among many tokens
        path, vocab=vocab, qtype="q8_0", tie_embeddings=True, n_ctx=32768, embed_scale=1.0, n_embd=shape["n_embd"],
        n_layer=shape["n_layer"], n_head=shape["n_head"], n_head_kv=shape["n_head_kv"], n_ff=shape["n_ff"],
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
