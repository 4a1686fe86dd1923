"""Token sampling for the llama.cpp backend, with the grammar applied second.

llama-cpp-python puts the grammar first in its sampler chain, so every step checks the grammar
against all candidate tokens (about 152k for Qwen) before sampling — a large share of decode time.
``decode`` does what llama.cpp's own ``common_sampler_sample`` does with ``grammar_first=false``:
draw a token from the unconstrained chain, check just that token against the grammar, and only
when it is rejected filter the whole vocabulary through the grammar and draw again. The output is
exactly as constrained as grammar-first sampling; the full-vocabulary pass is paid only on
rejections. Callers hold the engine's lock.
"""

from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from agents.llm.grammar import GrammarError
from agents.llm.vocab import VocabTables

if TYPE_CHECKING:
    from agents.llm.engine import Engine

TOP_K = 40
TOP_P = 0.95
MIN_P = 0.05
_MAX_CACHED_GRAMMARS = 16


@dataclass
class Decoded:
    """What one decode produced."""

    tokens: list[int] = field(default_factory=list)
    text: str = ""
    finish_reason: str = "length"
    first_token_s: float = 0.0
    decode_s: float = 0.0
    first_token_cpu_s: float = 0.0  # process CPU time: comparable on a busy, shared machine
    decode_cpu_s: float = 0.0
    rejections: int = 0


def free_sampler(sampler: Any) -> None:
    """Free a llama.cpp sampler made here."""
    import llama_cpp

    llama_cpp.llama_sampler_free(sampler)


def _chain(temperature: float, seed: int) -> Any:
    import llama_cpp

    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    if temperature <= 0:
        llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_greedy())
        return chain
    for sampler in (
        llama_cpp.llama_sampler_init_top_k(TOP_K),
        llama_cpp.llama_sampler_init_top_p(TOP_P, 1),
        llama_cpp.llama_sampler_init_min_p(MIN_P, 1),
        llama_cpp.llama_sampler_init_temp(temperature),
        llama_cpp.llama_sampler_init_dist(seed & 0xFFFFFFFF),
    ):
        llama_cpp.llama_sampler_chain_add(chain, sampler)
    return chain


def _grammar(engine: Engine, gbnf: str) -> Any:
    """A grammar sampler for ``gbnf``, reset, from the engine's small cache (parsing is not free)."""
    import llama_cpp

    sampler = engine.grammars.pop(gbnf, None)
    if sampler is None:
        sampler = llama_cpp.llama_sampler_init_grammar(engine.llama._model.vocab, gbnf.encode("utf-8"), b"root")
        if not sampler:
            raise GrammarError("llama.cpp rejected the grammar built from the schema.")
        while len(engine.grammars) >= _MAX_CACHED_GRAMMARS:
            free_sampler(engine.grammars.pop(next(iter(engine.grammars))))
    else:
        llama_cpp.llama_sampler_reset(sampler)
    engine.grammars[gbnf] = sampler
    return sampler


SHORTLIST = 256  # on a rejection, first look for valid tokens among this many most likely ones


class _Candidates:
    """A reusable llama_token_data_array over a numpy buffer."""

    def __init__(self, capacity: int) -> None:
        import llama_cpp

        dtype = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)
        self.data = np.recarray((capacity,), dtype=dtype)
        pointer = self.data.ctypes.data_as(llama_cpp.llama_token_data_p)
        self.array = llama_cpp.llama_token_data_array(data=pointer, size=capacity, selected=-1, sorted=False)

    def load(self, ids: np.ndarray, logits: np.ndarray) -> None:
        n = len(ids)
        self.data.id[:n] = ids
        self.data.logit[:n] = logits
        self.data.p[:n] = 0.0
        self.array.size = n
        self.array.selected = -1
        self.array.sorted = False

    def apply(self, sampler: Any) -> None:
        import llama_cpp

        llama_cpp.llama_sampler_apply(sampler, ctypes.byref(self.array))

    def finite(self) -> np.ndarray:
        return np.isfinite(self.data.logit[: self.array.size])


class _Checker:
    """Checks one token against the grammar, or finds the valid candidates and resamples.

    The full-vocabulary grammar pass is what makes grammar-first sampling slow, so a rejection
    first narrows the candidates cheaply and soundly: one grammar pass over the 256 single-byte
    tokens tells which first bytes can come next, and strict UTF-8 rules out more; then the
    ``SHORTLIST`` most likely survivors are checked, and only if none is valid, all survivors.
    """

    def __init__(self, engine: Engine, grammar: Any, chain: Any) -> None:
        self.llama = engine.llama
        self.grammar = grammar
        self.chain = chain
        if engine.vocab_tables is None:
            engine.vocab_tables = VocabTables.build(engine.llama)
        self.tables: VocabTables = engine.vocab_tables
        self.n_vocab = len(self.tables.first_byte)
        self.one = _Candidates(1)
        self.probe = _Candidates(256)
        self.probe_bytes = np.flatnonzero(self.tables.probe_ids >= 0)
        self.pool = _Candidates(self.n_vocab)
        self.state = 0

    def advance(self, token: int) -> None:
        """Record an accepted token: the grammar and the UTF-8 state move on."""
        import llama_cpp

        llama_cpp.llama_sampler_accept(self.grammar, token)
        self.state = int(self.tables.after[self.state, token])

    def accepts(self, token: int) -> bool:
        """Whether the grammar (and strict UTF-8) allow ``token`` next."""
        if not self.tables.ok[self.state, token]:
            return False
        self.one.load(np.array([token]), np.zeros(1, dtype=np.single))
        self.one.apply(self.grammar)
        return bool(self.one.finite()[0])

    def _first_bytes(self) -> np.ndarray:
        allowed = np.ones(257, dtype=bool)  # index 256: tokens that print nothing (EOG)
        self.probe.load(self.tables.probe_ids[self.probe_bytes], np.zeros(len(self.probe_bytes), np.single))
        self.probe.apply(self.grammar)
        allowed[self.probe_bytes] = self.probe.finite()
        return allowed

    def _draw(self, ids: np.ndarray, logits: np.ndarray) -> int | None:
        self.pool.load(ids, logits[ids])
        self.pool.apply(self.grammar)
        if not self.pool.finite().any():
            return None
        self.pool.apply(self.chain)
        selected = int(self.pool.array.selected)
        if selected < 0:  # greedy/dist always select; keep the best finite one otherwise
            selected = int(np.argmax(self.pool.data.logit[: self.pool.array.size]))
        return int(self.pool.data.id[selected])

    def resample(self) -> int:
        """A token drawn from the candidates the grammar allows."""
        import llama_cpp

        raw = llama_cpp.llama_get_logits_ith(self.llama.ctx, -1)
        logits = np.ctypeslib.as_array(raw, shape=(self.n_vocab,))
        mask = self._first_bytes()[self.tables.first_byte] & self.tables.ok[self.state]
        ids = np.flatnonzero(mask).astype(np.intc)
        if len(ids) > SHORTLIST:
            best = ids[np.argpartition(logits[ids], -SHORTLIST)[-SHORTLIST:]]
            token = self._draw(best, logits)
            if token is not None:
                return token
        token = self._draw(ids, logits)
        if token is None:
            raise GrammarError("The grammar allows no token here; the schema cannot be completed.")
        return token


def decode(
    engine: Engine, prompt: list[int], gbnf: str | None, max_tokens: int, *, temperature: float, seed: int
) -> Decoded:
    """Generate up to ``max_tokens`` after an evaluated prompt, constrained by ``gbnf`` if given."""
    import llama_cpp

    llama = engine.llama
    vocab = llama._model.vocab
    chain = _chain(temperature, seed)
    checker = _Checker(engine, _grammar(engine, gbnf), chain) if gbnf else None
    out = Decoded()
    pieces: list[bytes] = []
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        for _ in range(max_tokens):
            token = int(llama_cpp.llama_sampler_sample(chain, llama.ctx, -1))
            if checker is not None:
                if not checker.accepts(token):
                    out.rejections += 1
                    token = checker.resample()
                checker.advance(token)
            if not out.tokens and not out.first_token_s:
                out.first_token_s = time.perf_counter() - started
                out.first_token_cpu_s = time.process_time() - cpu_started
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                out.finish_reason = "stop"
                break
            out.tokens.append(token)
            pieces.append(llama.detokenize([token]))
            if len(out.tokens) < max_tokens:  # the last token's successor is never needed
                llama.eval([token])
    finally:
        llama_cpp.llama_sampler_free(chain)
    out.decode_s = time.perf_counter() - started
    out.decode_cpu_s = time.process_time() - cpu_started
    out.text = b"".join(pieces).decode("utf-8", errors="replace")
    return out
