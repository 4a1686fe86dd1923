"""N search agents' model calls: one after another, concurrent on one in-process model, and batched.

Quarry's search agents run in parallel, but one in-process llama.cpp model (``LlamaChatModel``) serves
their calls one at a time. This bench measures, on one GGUF and this machine, N agents each making one
call (a ``--prompt``-token prompt of its own, ``--decode`` tokens written):

- ``app_sequential`` / ``app_concurrent``: through Quarry's ``LlamaChatModel``, the N calls one after
  another, then from N threads at once (what the agents do today: the model queues them);
- ``sequential`` / ``batched``: llama.cpp's own multi-sequence decoding through llama-cpp-python's
  low-level bindings, greedy sampling: each prompt decoded alone in turn, then all N prompts in one
  batch (one sequence id each) and every decoding step one token of each sequence in one batch;
- ``server_sequential`` / ``server_concurrent`` (with ``--server URL``): an OpenAI-compatible server
  (llama.cpp's ``llama-server -np N`` has N parallel slots with continuous batching), the N requests
  one after another, then at once.

Each path reports wall seconds and tokens/s; ``speedup`` is sequential over concurrent/batched wall
time. Prints one JSON object with the machine. Usage:

    python bench/agents_batch.py MODEL.gguf [--agents 4] [--prompt 256] [--decode 32] [--threads N]
                                 [--gpu-layers 0] [--server http://127.0.0.1:8080/v1] [--skip-app]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ("river", "stone", "market", "engine", "garden", "signal", "harbor", "lantern", "meadow", "copper")


def prompt_text(agent: int, words: int, salt: str) -> str:
    """A prompt of its own for each agent (no prefix shared between agents or runs)."""
    body = " ".join(f"{salt}{agent}-{i} {WORDS[(i * 7 + agent) % len(WORDS)]}" for i in range(words))
    return f"Agent {agent} ({salt}): summarise these notes in one line. {body}"


def machine(threads: int | None) -> dict[str, Any]:
    """The machine the bench ran on."""
    import llama_cpp

    return {"cpus": os.cpu_count(), "threads": threads, "platform": platform.platform(),
            "python": platform.python_version(), "llama_cpp_python": llama_cpp.__version__,
            "gpu_offload": bool(llama_cpp.llama_supports_gpu_offload()),
            "load_avg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None}


class LowLevel:
    """One llama.cpp model and a context with ``n_seq`` sequences, through the low-level bindings."""

    def __init__(self, path: Path, *, n_seq: int, n_ctx: int, threads: int | None, gpu_layers: int) -> None:
        import llama_cpp as lib

        self.lib = lib
        lib.llama_backend_init()
        mparams = lib.llama_model_default_params()
        mparams.n_gpu_layers = gpu_layers
        self.model = lib.llama_model_load_from_file(str(path).encode(), mparams)
        if not self.model:
            raise SystemExit(f"llama.cpp could not load {path}")
        self.vocab = lib.llama_model_get_vocab(self.model)
        cparams = lib.llama_context_default_params()
        cparams.n_ctx, cparams.n_batch, cparams.n_ubatch = n_ctx, n_ctx, min(n_ctx, 512)
        cparams.n_seq_max = n_seq
        cparams.n_threads = cparams.n_threads_batch = threads or os.cpu_count() or 1
        self.ctx = lib.llama_init_from_model(self.model, cparams)
        self.sampler = lib.llama_sampler_init_greedy()
        self.batch = lib.llama_batch_init(n_ctx, 0, n_seq)

    def tokenize(self, text: str) -> list[int]:
        """The text's tokens (with the model's BOS when it uses one)."""
        raw = text.encode()
        out = (self.lib.llama_token * (len(raw) + 8))()
        n = self.lib.llama_tokenize(self.vocab, raw, len(raw), out, len(out), True, False)
        return list(out[: max(n, 0)])

    def _fill(self, items: list[tuple[int, int, int, bool]]) -> None:
        """Put (token, position, sequence, wants logits) items into the batch."""
        b = self.batch
        b.n_tokens = len(items)
        for i, (token, pos, seq, logits) in enumerate(items):
            b.token[i], b.pos[i], b.n_seq_id[i], b.logits[i] = token, pos, 1, logits
            b.seq_id[i][0] = seq

    def _decode(self) -> None:
        if self.lib.llama_decode(self.ctx, self.batch) != 0:
            raise SystemExit("llama_decode failed (context too small?)")

    def run(self, prompts: list[list[int]], decode: int) -> dict[str, float]:
        """Decode ``prompts`` as one batch (sequence i each), then ``decode`` greedy steps of all of them."""
        self.lib.llama_memory_clear(self.lib.llama_get_memory(self.ctx), True)
        items = [(t, pos, seq, pos == len(p) - 1) for seq, p in enumerate(prompts) for pos, t in enumerate(p)]
        started = time.perf_counter()
        self._fill(items)
        self._decode()
        read_s = time.perf_counter() - started
        rows = [i for i, item in enumerate(items) if item[3]]  # the batch row holding each sequence's logits
        lengths = [len(p) for p in prompts]
        for _ in range(decode):
            nxt = [self.lib.llama_sampler_sample(self.sampler, self.ctx, row) for row in rows]
            self._fill([(tok, lengths[seq], seq, True) for seq, tok in enumerate(nxt)])
            self._decode()
            lengths = [n + 1 for n in lengths]
            rows = list(range(len(prompts)))
        total = time.perf_counter() - started
        return {"wall_s": total, "read_s": read_s, "write_s": total - read_s}

    def close(self) -> None:
        lib = self.lib
        lib.llama_batch_free(self.batch)
        lib.llama_sampler_free(self.sampler)
        lib.llama_free(self.ctx)
        lib.llama_model_free(self.model)


def rates(result: dict[str, float], prompt_tokens: int, written: int) -> dict[str, float]:
    """Seconds rounded, with prompt and written tokens per second."""
    out = {k: round(v, 3) for k, v in result.items()}
    out["prompt_tok_s"] = round(prompt_tokens / max(result.get("read_s", result["wall_s"]), 1e-9), 1)
    out["written_tok_s"] = round(written / max(result.get("write_s", result["wall_s"]), 1e-9), 1)
    return out


def bench_low_level(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Each prompt alone in turn against all of them in one multi-sequence batch, same context size."""
    per_seq = args.prompt * 2 + args.decode + 64
    engine = LowLevel(path, n_seq=args.agents, n_ctx=per_seq * args.agents, threads=args.threads,
                      gpu_layers=args.gpu_layers)
    try:
        words = max(8, args.prompt // 4)
        engine.run([engine.tokenize(prompt_text(0, words, "warm"))], 2)  # load the weights into memory
        alone = [engine.tokenize(prompt_text(i, words, "seq")) for i in range(args.agents)]
        together = [engine.tokenize(prompt_text(i, words, "bat")) for i in range(args.agents)]
        seqs, batches = [], []
        for _ in range(args.repeat):  # alternating, the fastest of each kept: the machine may be shared
            seq: dict[str, float] = {"wall_s": 0.0, "read_s": 0.0, "write_s": 0.0}
            for prompt in alone:
                for key, value in engine.run([prompt], args.decode).items():
                    seq[key] += value
            seqs.append(seq)
            batches.append(engine.run(together, args.decode))
        seq = min(seqs, key=lambda r: r["wall_s"])
        batched = min(batches, key=lambda r: r["wall_s"])
    finally:
        engine.close()
    written = args.decode * args.agents
    return {"prompt_tokens_per_agent": len(alone[0]),
            "sequential": rates(seq, sum(map(len, alone)), written),
            "batched": rates(batched, sum(map(len, together)), written),
            "speedup": round(seq["wall_s"] / batched["wall_s"], 2),
            "decode_speedup": round(seq["write_s"] / max(batched["write_s"], 1e-9), 2)}


def timed_calls(call: Any, prompts: list[str], concurrent: bool) -> float:
    """Wall seconds of ``call`` over ``prompts``, one after another or from one thread each."""
    started = time.perf_counter()
    if concurrent:
        with ThreadPoolExecutor(len(prompts)) as pool:
            list(pool.map(call, prompts))
    else:
        for prompt in prompts:
            call(prompt)
    return time.perf_counter() - started


def bench_app(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Quarry's ``LlamaChatModel``: the N calls one after another, then from N threads at once."""
    from agents.llm.llama import LlamaChatModel

    with tempfile.TemporaryDirectory() as tmp:
        model = LlamaChatModel(str(path), models_dir=Path(tmp), n_ctx=args.prompt * 2 + args.decode + 256,
                               n_gpu_layers=args.gpu_layers, n_threads=args.threads, max_tokens=args.decode,
                               temperature=0.0, prefix_cache_mb=0)
        words = max(8, args.prompt // 4)
        written: list[int] = []
        lock = threading.Lock()

        def call(text: str) -> None:
            model.complete([{"role": "user", "content": text}], max_tokens=args.decode)
            with lock:
                written.append(model.last_usage[1])

        call(prompt_text(0, words, "warm"))
        written.clear()
        seqs: list[float] = []
        concs: list[float] = []
        for r in range(args.repeat):  # alternating which goes first, fresh prompts each time, the fastest kept
            for concurrent in ((False, True) if r % 2 == 0 else (True, False)):
                kept = concs if concurrent else seqs
                prompts = [prompt_text(i, words, f"a{int(concurrent)}{r}-") for i in range(args.agents)]
                kept.append(timed_calls(call, prompts, concurrent))
        seq, conc = min(seqs), min(concs)
    return {"app_sequential_s": round(seq, 3), "app_concurrent_s": round(conc, 3),
            "speedup": round(seq / conc, 2), "written_tokens_per_call": round(sum(written) / len(written), 1)}


def bench_server(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """An OpenAI-compatible server: the N requests one after another, then all at once."""
    import httpx

    words = max(8, args.prompt // 4)

    def call(text: str) -> None:
        body = {"model": "bench", "messages": [{"role": "user", "content": text}], "max_tokens": args.decode,
                "temperature": 0.0}
        httpx.post(f"{url.rstrip('/')}/chat/completions", json=body, timeout=600).raise_for_status()

    call(prompt_text(0, words, "warm"))
    seq = timed_calls(call, [prompt_text(i, words, "sseq") for i in range(args.agents)], False)
    conc = timed_calls(call, [prompt_text(i, words, "sconc") for i in range(args.agents)], True)
    return {"server_sequential_s": round(seq, 3), "server_concurrent_s": round(conc, 3),
            "speedup": round(seq / conc, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="a GGUF file")
    parser.add_argument("--agents", type=int, default=4, help="concurrent agents (sequences)")
    parser.add_argument("--prompt", type=int, default=256, help="prompt tokens per agent, roughly")
    parser.add_argument("--decode", type=int, default=32, help="tokens each agent writes")
    parser.add_argument("--threads", type=int, help="CPU threads (default: all)")
    parser.add_argument("--gpu-layers", type=int, default=0, help="layers on the GPU (-1: all)")
    parser.add_argument("--repeat", type=int, default=2, help="measure each path this many times, keep the fastest")
    parser.add_argument("--server", help="also measure an OpenAI-compatible server at this /v1 URL")
    parser.add_argument("--skip-app", action="store_true", help="skip the LlamaChatModel measurement")
    args = parser.parse_args()
    if not args.model.is_file():
        raise SystemExit(f"{args.model} is not a file; give a GGUF path.")
    started = time.perf_counter()
    result: dict[str, Any] = {"bench": "agents_batch", "model": args.model.name,
                              "model_bytes": args.model.stat().st_size, "agents": args.agents,
                              "prompt": args.prompt, "decode": args.decode, "repeat": args.repeat,
                              "machine": machine(args.threads)}
    result["llama_cpp_multi_sequence"] = bench_low_level(args.model, args)
    if not args.skip_app:
        result["quarry_llama_chat_model"] = bench_app(args.model, args)
    if args.server:
        result["server"] = bench_server(args.server, args)
    result["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
