"""Research modes: ``quick``, ``standard`` and ``deep`` presets, and the one that fits this machine.

A mode is a preset of ``Limits`` fields (rounds, breadth, pages, link hops, sections, the call
structure and the model's judge) and a time budget. ``preset(mode)`` is the pure mode → fields map.
The time budget is the mode's target on the reference machine (Qwen2.5-1.5B Q4_K_M on two CPU cores,
which reads about 134 prompt tokens a second and writes about 11.7): 1.5, 4 and 15 minutes, scaled up
on a slower machine by how much longer the same model work takes there (``slowdown``), never down.

When the user names no mode (``budget.mode = "auto"``), ``choose`` takes ``standard`` where a
standard run's model work fits its target on this machine, else ``quick``; ``deep`` is only ever
asked for. Precedence, lowest first: the mode's preset, then ``[budget]`` values the user set in
settings, then flags (``--depth``, ``--max-minutes`` …). The speed of a machine is estimated from
the model file's size, the CPU count and whether llama.cpp offloads to a GPU (``machine_speed``);
``quarry doctor`` measures it and says which mode a run gets and why.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.run.budget import Limits

MODES = ("quick", "standard", "deep")
AUTO = "auto"

_LEAN = {"model_tools": False, "model_picks": False, "graph_calls": False, "one_call_draft": True,
         "answer_call": False, "research_calls": True}
PRESETS: dict[str, dict[str, Any]] = {
    # one round, one model call (the drafting call: the floors plan, search and note), no model judge: the
    # verifier keeps what its lexical screen supports
    "quick": {"depth": 0, "breadth": 2, "max_pages": 6, "max_hops": 0, "max_sections": 2, "read_per_agent": 3,
              "chunks_per_prompt": 5, "length": "short", "judge": False, **_LEAN, "research_calls": False},
    "standard": {"depth": 1, "breadth": 3, "max_pages": 12, "max_hops": 1, "max_sections": 4, "read_per_agent": 4,
                 "chunks_per_prompt": 8, "length": "standard",
                 "judge": True, **_LEAN, "answer_call": True},
    # the old call structure: the model picks tools and pages, extracts the graph, drafts section by section
    "deep": {"depth": 2, "breadth": 4, "max_pages": 40, "max_hops": 1, "max_sections": 6, "read_per_agent": 4,
             "chunks_per_prompt": 8, "length": "standard",
             "judge": True, "model_tools": True, "model_picks": True, "graph_calls": True, "one_call_draft": False,
             "answer_call": False, "research_calls": True},
}
TARGET_MINUTES = {"quick": 1.5, "standard": 4.0, "deep": 15.0}  # on the reference machine

# The reference machine (measured, issue 21): Qwen2.5-Coder-1.5B-Instruct Q4_K_M on two CPU cores.
REF_READ_TPS = 134.0
REF_WRITE_TPS = 11.7
REF_MODEL_BYTES = 1_117_320_768
REF_CORES = 2
# The model work of a run of each mode (prompt, completion tokens), roughly, with its call structure;
# the standard one compares machines. A run's manifest shows its own counts.
WORK = {"quick": (3500, 450), "standard": (8000, 1500), "deep": (40000, 5000)}
REF_WORK = WORK["standard"]
STANDARD_MAX_SLOWDOWN = 1.25  # auto keeps standard on a machine up to this much slower than the reference
GPU_READ_FACTOR = 40.0  # a GPU against two CPU cores, same model: prompt reading ...
GPU_WRITE_FACTOR = 10.0  # ... and writing (doctor measures the real numbers)
BYTES_PER_PARAM = {"q2": 0.35, "q3": 0.45, "q4": 0.6, "q5": 0.7, "q6": 0.82, "q8": 1.07, "f16": 2.0, "bf16": 2.0,
                   "f32": 4.0}


@dataclass(frozen=True)
class Speed:
    """How fast the run's model reads and writes tokens here, and how that was found out."""

    read_tps: float
    write_tps: float
    basis: str


@dataclass(frozen=True)
class Choice:
    """The mode a run gets, its time budget and why."""

    mode: str
    max_minutes: float
    reason: str
    auto: bool = False


def preset(mode: str) -> dict[str, Any]:
    """The ``Limits`` fields a mode sets (a copy); a ``ValueError`` names the modes for an unknown one."""
    if mode not in PRESETS:
        raise ValueError(f"There is no mode {mode!r}; choose one of {', '.join(MODES)}.")
    return dict(PRESETS[mode])


def work_seconds(speed: Speed, prompt_tokens: float, completion_tokens: float) -> float:
    """Seconds the model needs to read ``prompt_tokens`` and write ``completion_tokens`` at ``speed``."""
    return prompt_tokens / speed.read_tps + completion_tokens / speed.write_tps


REFERENCE = Speed(REF_READ_TPS, REF_WRITE_TPS, "the reference machine")


def slowdown(speed: Speed | None) -> float:
    """How many times longer the reference work takes at ``speed`` than on the reference machine (None: 1)."""
    if speed is None:
        return 1.0
    return work_seconds(speed, *REF_WORK) / work_seconds(REFERENCE, *REF_WORK)


def budget_minutes(mode: str, slow: float) -> float:
    """The mode's time budget on a machine ``slow`` times slower than the reference (never below the target)."""
    minutes = TARGET_MINUTES[mode] * max(1.0, slow)
    return math.ceil(minutes * 2) / 2  # whole half minutes


def choose(speed: Speed | None, *, has_model: bool = True) -> Choice:
    """The auto mode: standard where its model work fits its target here, else quick (see the module docstring)."""
    if not has_model:
        return Choice("standard", budget_minutes("standard", 0.0), "auto: no model, every step is the floor's", True)
    slow = slowdown(speed)
    basis = speed.basis if speed is not None else "a served model, assumed as fast as the reference machine"
    mode = "standard" if slow <= STANDARD_MAX_SLOWDOWN else "quick"
    pace = f"{speed.read_tps:.0f} prompt and {speed.write_tps:.1f} written tokens/s" if speed is not None else basis
    reason = (f"auto: {pace} ({speed.basis if speed is not None else 'no local model'}), {slow:.2f}× the time of "
              f"the reference machine (1.5B on two CPU cores); standard fits up to {STANDARD_MAX_SLOWDOWN}×")
    return Choice(mode, budget_minutes(mode, slow), reason, True)


def model_bytes_from_name(name: str) -> int | None:
    """A GGUF's size guessed from its name (``…-1.5B-…-Q4_K_M``, ``…-270m-…``); None when no size is named."""
    lowered = Path(name).name.lower()
    match = re.search(r"(?<![\d.])(\d+(?:\.\d+)?)([bm])(?![a-z])", lowered)
    if match is None:
        return None
    params = float(match.group(1)) * (1e9 if match.group(2) == "b" else 1e6)
    quant = re.search(r"(?<![a-z])(bf16|f16|f32|q\d)", lowered)
    return int(params * BYTES_PER_PARAM.get(quant.group(1) if quant else "q4", 0.6))


def cpu_speed(model_bytes: int, cores: int) -> Speed:
    """The speed of a ``model_bytes`` GGUF on ``cores`` CPU cores, scaled from the reference measurement.

    Reading is compute-bound (it grows with cores), writing is memory-bound (it stops growing after a
    few); both fall with the model's size.
    """
    size = REF_MODEL_BYTES / max(model_bytes, 1)
    read = REF_READ_TPS * size * min(max(cores, 1), 16) / REF_CORES
    write = REF_WRITE_TPS * size * min(max(cores, 1), 4) / REF_CORES
    return Speed(read, write, f"{model_bytes / 1e9:.2f} GB model on {cores} CPU cores, estimated")


def on_gpu(speed: Speed) -> Speed:
    """``speed`` with the model's layers on a GPU (a rough factor; doctor measures)."""
    return Speed(speed.read_tps * GPU_READ_FACTOR, speed.write_tps * GPU_WRITE_FACTOR,
                 speed.basis.replace("CPU cores", "CPU cores with GPU offload"))


def machine_speed(settings: Any) -> Speed | None:
    """The drafter's model's estimated speed on this machine (None: a served model, or no model)."""
    from agents.llm.hub import cached_path
    from agents.settings import gpu_offload

    spec = settings.model_for("drafter")
    if spec.backend != "llama" or not spec.model:
        return None
    path = cached_path(spec.model, settings.models_dir)
    size = path.stat().st_size if path is not None else model_bytes_from_name(spec.model) or REF_MODEL_BYTES
    speed = cpu_speed(size, int(settings.llm.n_threads or os.cpu_count() or 1))
    return on_gpu(speed) if settings.llm.n_gpu_layers != 0 and gpu_offload() else speed


def resolve(settings: Any, mode: str | None = None, speed: Speed | None = None) -> Choice:
    """The run's mode: ``mode`` (a flag) or ``budget.mode``, else the auto choice (``speed``: this machine's)."""
    asked = str(mode or getattr(settings.budget, "mode", AUTO))
    has_model = settings.model_for("drafter").backend != "none"
    speed = speed if speed is not None else (machine_speed(settings) if has_model else None)
    if asked == AUTO:
        return choose(speed, has_model=has_model)
    preset(asked)  # an unknown mode is one sentence
    slow = slowdown(speed) if has_model else 0.0
    return Choice(asked, budget_minutes(asked, slow), f"asked for; {slow:.2f}× the reference machine's time")


def limits_for(settings: Any, choice: Choice | None = None, *, mode: str | None = None, **overrides: Any) -> Limits:
    """The run's ``Limits``: the mode's preset, then the ``[budget]`` values set in settings, then ``overrides``."""
    choice = choice or resolve(settings, mode)
    budget = settings.budget
    values: dict[str, Any] = {**preset(choice.mode), "max_minutes": choice.max_minutes}
    values.update({k: getattr(budget, k) for k in budget.model_fields_set if k != "mode"})
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Limits.from_settings(budget, **values, mode=choice.mode, mode_reason=choice.reason)
