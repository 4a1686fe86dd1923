"""Prompt-prefix reuse for llama.cpp: several KV states kept in RAM, not just the last prompt.

``PrefixCache.prepare(llama, tokens)`` leaves ``llama`` with ``tokens`` evaluated and the logits of
the last one ready, evaluating only what neither the live context nor a cached state already holds.
After a prompt that cost real work it snapshots the sequence's KV state (``llama_state_seq_*``:
the KV cells only, no logits), keyed by the prompt tokens; snapshots are evicted least recently
used first once they exceed the byte capacity. So two roles alternating, each with its own long
system prompt and documents, each find their prefix again. Callers hold the engine's lock.
"""

from __future__ import annotations

import ctypes
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from llama_cpp import Llama

SAVE_MIN_NEW_TOKENS = 32  # snapshot only after evaluating at least this many new prompt tokens
LOAD_MIN_GAIN = 32  # restore a snapshot only when it saves at least this many tokens


def common_prefix(a: np.ndarray, b: np.ndarray) -> int:
    """Length of the common prefix of two token arrays."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    diff = np.flatnonzero(a[:n] != b[:n])
    return int(diff[0]) if diff.size else n


class PrefixCache:
    """KV-state snapshots keyed by prompt tokens, LRU-evicted beyond ``capacity_bytes``."""

    def __init__(self, capacity_bytes: int = 2 << 30) -> None:
        self.capacity_bytes = capacity_bytes
        self._states: OrderedDict[bytes, tuple[np.ndarray, ctypes.Array[ctypes.c_uint8]]] = OrderedDict()
        self.hits = 0

    @property
    def size_bytes(self) -> int:
        """Bytes held by the snapshots."""
        return sum(ctypes.sizeof(buf) for _, buf in self._states.values())

    def __len__(self) -> int:
        return len(self._states)

    def clear(self) -> None:
        """Drop every snapshot."""
        self._states.clear()

    def best(self, tokens: np.ndarray) -> tuple[bytes | None, int]:
        """The snapshot sharing the longest prefix with ``tokens``: (key, shared length)."""
        best_key, best_len = None, 0
        for key, (saved, _) in self._states.items():
            shared = common_prefix(saved, tokens)
            if shared > best_len:
                best_key, best_len = key, shared
        return best_key, best_len

    def prepare(self, llama: Llama, prompt: Sequence[int]) -> int:
        """Evaluate ``prompt`` reusing what is cached; returns how many tokens were reused."""
        tokens = np.asarray(prompt, dtype=np.intc)
        live = common_prefix(llama.input_ids[: llama.n_tokens], tokens)
        key, cached = self.best(tokens)
        if key is not None and cached >= live + LOAD_MIN_GAIN and self._restore(llama, key):
            live = cached
        keep = min(live, len(tokens) - 1)  # always evaluate one token: its logits start decoding
        if keep > 0 and not llama._ctx.kv_cache_seq_rm(-1, keep, -1):
            keep = 0  # the model's memory cannot drop a tail (recurrent): start over
        if keep == 0:
            llama.reset()
        llama.n_tokens = keep
        llama.eval(tokens[keep:].tolist())
        if len(tokens) - keep >= SAVE_MIN_NEW_TOKENS and self.capacity_bytes > 0:
            self._save(llama, tokens)
        if keep:
            self.hits += 1
        return keep

    def _save(self, llama: Llama, tokens: np.ndarray) -> None:
        import llama_cpp

        size = int(llama_cpp.llama_state_seq_get_size(llama.ctx, 0))
        if size <= 0 or size > self.capacity_bytes:
            return
        buffer = (ctypes.c_uint8 * size)()
        written = int(llama_cpp.llama_state_seq_get_data(llama.ctx, buffer, size, 0))
        if written <= 0:
            return
        key = tokens.tobytes()
        self._states.pop(key, None)
        self._states[key] = (tokens.copy(), buffer)
        while self.size_bytes > self.capacity_bytes and len(self._states) > 1:
            self._states.popitem(last=False)

    def _restore(self, llama: Llama, key: bytes) -> bool:
        import llama_cpp

        saved, buffer = self._states[key]
        llama._ctx.kv_cache_seq_rm(-1, 0, -1)
        if int(llama_cpp.llama_state_seq_set_data(llama.ctx, buffer, ctypes.sizeof(buffer), 0)) == 0:
            del self._states[key]
            llama.reset()
            return False
        self._states.move_to_end(key)
        llama.input_ids[: len(saved)] = saved
        llama.n_tokens = len(saved)
        return True
