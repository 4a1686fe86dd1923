"""The AMX work-around: models load without llama.cpp's extra (repacking) buffer types where asked."""

from __future__ import annotations

from pathlib import Path

import llama_cpp.llama_cpp as lib
from llama_cpp import Llama

from agents.llm.cpu import cpu_has_amx, weights_loading


def test_extra_buffers_off_only_inside_the_block(tiny_gguf: Path) -> None:
    original = lib.llama_model_default_params
    with weights_loading(avoid_amx=True) as avoided:
        llama = Llama(model_path=str(tiny_gguf), n_ctx=256, verbose=False)
    try:
        assert avoided and llama.model_params.use_extra_bufts is False
        assert len(llama.tokenize(b"still runs")) > 0
        llama.eval(llama.tokenize(b"still runs"))
    finally:
        llama.close()
    assert lib.llama_model_default_params is original and original().use_extra_bufts is True
    with weights_loading(avoid_amx=False) as avoided:
        assert not avoided and lib.llama_model_default_params is original


def test_amx_detection_reads_the_cpu_flags() -> None:
    flags = next((line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")), "")
    assert cpu_has_amx() == ("amx_int8" in flags.split())
