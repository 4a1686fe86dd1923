"""CPU quirks of llama.cpp that Quarry works around when it loads a model.

On CPUs with AMX (Intel Sapphire Rapids and later) llama.cpp repacks quantized weights into an AMX
buffer, and its AMX matrix multiply crashes the process with a segmentation fault on some models
and machines (ggml-org/llama.cpp#20824, open; seen here with Gemma 3 270M Q4_K_M on llama.cpp as
built by llama-cpp-python 0.3.36). ``weights_loading`` turns llama.cpp's extra buffer types (the
repacking) off while a model loads on such a CPU; the model then runs on the ordinary AVX-512
kernels. Elsewhere nothing changes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def cpu_has_amx() -> bool:
    """Whether the CPU advertises AMX (Linux ``/proc/cpuinfo`` flags; False where unknown)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return "amx_int8" in line.split()
    return False


@contextmanager
def weights_loading(*, avoid_amx: bool | None = None) -> Iterator[bool]:
    """Load a model inside this block; on an AMX CPU (or ``avoid_amx=True``) without extra buffer types.

    Yields whether the extra buffer types were turned off. Loads are serialized while patched, since
    llama-cpp-python reads the defaults through one module function.
    """
    avoid = cpu_has_amx() if avoid_amx is None else avoid_amx
    if not avoid:
        yield False
        return
    import llama_cpp.llama_cpp as lib

    with _LOCK:
        original = lib.llama_model_default_params

        def defaults() -> lib.llama_model_params:
            params = original()
            params.use_extra_bufts = False
            return params

        lib.llama_model_default_params = defaults
        try:
            yield True
        finally:
            lib.llama_model_default_params = original
