"""Report what Quarry will run on: the llama.cpp build, the models, the data directory, the HTTP cache.

With the model loaded, doctor also measures its prompt and decode speed on two short calls and
estimates from them how long a default research run takes on this machine. It says which mode a run
gets when none is asked for (``agents.run.modes``: estimated from the model's size, the CPU count and
the GPU) and why, and which one the measured speed would pick.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from typing import TYPE_CHECKING, Any

from agents.run import modes
from agents.settings import ROLES, config_file
from ui.cli.commands import cache as cache_command
from ui.preflight import default_model_note

if TYPE_CHECKING:
    from app import App

HELP = "check the installation: llama.cpp build (GPU or not), models, data directory, web page cache"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``doctor``."""
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--no-load", action="store_true", help="do not load the model (skip context/template checks)"
    )


def _llama_build() -> dict[str, Any]:
    try:
        import llama_cpp
    except ImportError as exc:  # the set-up step installs it; say how if it did not
        return {"installed": False, "error": f"{exc}; run ./quarry doctor to set up again"}
    return {
        "installed": True,
        "version": llama_cpp.__version__,
        "gpu_offload": bool(llama_cpp.llama_supports_gpu_offload()),
    }


SPEED_PROMPT = "Count from 1 to 200, separated by spaces. " + "Quarry measures how fast this model reads. " * 40


def measure_speed(app: App, decode_tokens: int = 32) -> dict[str, Any]:
    """Prompt and decode speed (tokens/s) of the drafter's model, and the minutes of model work of a run of the mode
    the settings give (``run_minutes``, ``mode``) and the mode the measured speed would pick (``measured_mode``).

    The first call reads the prompt and writes one token; the second repeats the prompt (its prefix
    is reused) and writes ``decode_tokens``, so its time is decoding.
    """
    model = app.models().for_role("drafter")
    messages = [{"role": "user", "content": SPEED_PROMPT}]
    started = time.perf_counter()
    model.complete(messages, max_tokens=1)
    read_s = time.perf_counter() - started
    prompt_tokens = model.last_usage[0]
    started = time.perf_counter()
    model.complete(messages, max_tokens=decode_tokens)
    decode_s = time.perf_counter() - started
    generated = max(1, model.last_usage[1])
    prompt_tps, decode_tps = prompt_tokens / max(read_s, 1e-6), generated / max(decode_s, 1e-6)
    return speed_report(modes.Speed(prompt_tps, decode_tps, "measured"), modes.resolve(app.settings).mode)


def speed_report(measured: modes.Speed, mode: str) -> dict[str, Any]:
    """The measured speed, the model minutes of a ``mode`` run at it, and the mode auto would pick at it."""
    minutes = modes.work_seconds(measured, *modes.WORK[mode]) / 60
    picked = modes.choose(measured)
    return {"prompt_tok_s": round(measured.read_tps, 1), "decode_tok_s": round(measured.write_tps, 1),
            "mode": mode, "run_minutes": round(minutes, 2), "run_tokens": list(modes.WORK[mode]),
            "measured_mode": picked.mode, "measured_minutes": picked.max_minutes}


def mode_report(settings: Any) -> dict[str, Any]:
    """The mode a run gets when none is asked for, its time budget and why (from the estimated speed)."""
    choice = modes.resolve(settings)
    speed = modes.machine_speed(settings)
    return {"mode": choice.mode, "max_minutes": choice.max_minutes, "reason": choice.reason,
            "setting": settings.budget.mode,
            "estimated_speed": None if speed is None else {"prompt_tok_s": round(speed.read_tps, 1),
                                                           "decode_tok_s": round(speed.write_tps, 1),
                                                           "basis": speed.basis}}


def collect(app: App, load: bool = True) -> dict[str, Any]:
    """The doctor report as a dict (also used by the browser UI's settings page)."""
    from agents import llm

    settings = app.settings
    config = config_file()
    models = {role: settings.model_for(role).model_dump() for role in ROLES}
    report: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "data_dir": str(settings.home),
        "config_file": str(config) if config else None,
        "llama_cpp": _llama_build(),
        "models": models,
        "model": llm.describe(settings, load=load),
        "http_cache": cache_command.describe(app),
        "default_model": default_model_note(settings),
        "speed": None,
        "mode": mode_report(settings),
    }
    if load and report["model"].get("ok") and settings.llm.backend == "llama":
        report["speed"] = measure_speed(app)
    return report


def run(args: argparse.Namespace, app: App) -> int:
    """Print the report; exit 1 when the default model cannot be used."""
    report = collect(app, load=not args.no_load)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        from ui.cli.terminal import print_doctor

        print_doctor(report)
        info = report["http_cache"]
        print(f"HTTP cache: {cache_command.summary(info)} in {info['directory']} (empty it: app.py cache clear).")
        if report["default_model"]:
            print(f"Default model: {report['default_model']}")
        mode = report["mode"]
        print(f"Mode: {mode['mode']}, time budget {mode['max_minutes']:g} minutes (budget.mode = {mode['setting']}; "
              f"--mode quick|standard|deep chooses): {mode['reason']}.")
        speed = report["speed"]
        if speed:
            minutes = speed["run_minutes"]
            took = f"roughly {minutes:.0f} minutes" if minutes >= 1 else "under a minute"
            prompt, written = speed["run_tokens"]
            print(f"Speed: decode {speed['decode_tok_s']} tokens/s, prompt {speed['prompt_tok_s']} tokens/s; a default "
                  f"research run takes {took} of model time here ({speed['mode']}: about {written:,} tokens written "
                  f"and {prompt:,} read); at the measured speed auto would choose {speed['measured_mode']} with "
                  f"{speed['measured_minutes']:g} minutes.")
    return 0 if report["model"].get("ok", False) else 1
