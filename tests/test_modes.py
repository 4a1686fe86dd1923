"""Research modes: presets, the time budget that fits a machine, the auto choice and precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.run import modes
from agents.run.budget import Limits
from agents.settings import BudgetSettings, LLMSettings, Settings


def test_quick_is_one_round_one_drafting_call_and_no_judge() -> None:
    quick = modes.preset("quick")
    assert quick["depth"] == 0 and quick["one_call_draft"] is True and quick["judge"] is False
    assert set(modes.preset("deep")) == set(quick) == set(modes.preset("standard"))
    assert all(field in Limits.__dataclass_fields__ for field in quick)


def test_the_modes_grow_from_quick_to_deep() -> None:
    for key in ("depth", "breadth", "max_pages", "max_sections"):
        assert modes.preset("quick")[key] < modes.preset("standard")[key] <= modes.preset("deep")[key]
    assert modes.preset("deep")["one_call_draft"] is False and modes.preset("deep")["graph_calls"] is True


def test_an_unknown_mode_is_one_sentence() -> None:
    with pytest.raises(ValueError, match="quick, standard, deep"):
        modes.preset("fast")


def test_the_reference_machine_gets_the_targets() -> None:
    speed = modes.cpu_speed(modes.REF_MODEL_BYTES, modes.REF_CORES)
    assert modes.slowdown(speed) == pytest.approx(1.0)
    choice = modes.choose(speed)
    assert (choice.mode, choice.max_minutes, choice.auto) == ("standard", 4.0, True)
    assert "two CPU cores" in choice.reason


def test_a_slow_machine_gets_quick_with_a_longer_budget() -> None:
    seven_b_on_two_cores = modes.cpu_speed(4_700_000_000, 2)
    choice = modes.choose(seven_b_on_two_cores)
    assert choice.mode == "quick"
    assert choice.max_minutes == modes.budget_minutes("quick", modes.slowdown(seven_b_on_two_cores)) > 1.5


def test_a_fast_machine_keeps_the_targets_as_caps() -> None:
    gpu = modes.on_gpu(modes.cpu_speed(4_700_000_000, 8))
    assert modes.slowdown(gpu) < 1
    assert modes.choose(gpu).max_minutes == modes.TARGET_MINUTES["standard"]
    assert modes.budget_minutes("deep", modes.slowdown(gpu)) == 15.0


def test_no_model_is_standard_and_a_served_model_counts_as_the_reference() -> None:
    assert modes.choose(None, has_model=False).mode == "standard"
    served = modes.choose(None)
    assert served.mode == "standard" and served.max_minutes == 4.0


def test_budget_minutes_round_up_to_half_minutes() -> None:
    assert modes.budget_minutes("quick", 1.1) == 2.0
    assert modes.budget_minutes("standard", 0.2) == 4.0


@pytest.mark.parametrize(("name", "size"), [
    ("bartowski/Qwen2.5-1.5B-Instruct-GGUF/Qwen2.5-1.5B-Instruct-Q4_K_M.gguf", 900_000_000),
    ("Qwen2.5-7B-Instruct-Q8_0.gguf", 7_490_000_000),
    ("gemma-3-270m-f16.gguf", 540_000_000),
    ("model.gguf", None),
])
def test_model_size_from_its_name(name: str, size: int | None) -> None:
    assert modes.model_bytes_from_name(name) == size


def _settings(tmp_path: Path, **budget: object) -> Settings:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"\0" * 1024)  # a tiny file: a fast "machine" for the estimate
    return Settings(home=tmp_path / "home", llm=LLMSettings(model=str(model), n_threads=2),
                    budget=BudgetSettings(**budget))  # type: ignore[arg-type]


def test_a_mode_flag_beats_the_settings_mode_and_settings_values_beat_the_preset(tmp_path: Path) -> None:
    settings = _settings(tmp_path, mode="deep", max_pages=9)
    limits = modes.limits_for(settings, mode="quick")
    assert (limits.mode, limits.depth, limits.judge, limits.max_pages) == ("quick", 0, False, 9)
    assert limits.max_minutes == modes.TARGET_MINUTES["quick"]
    deep = modes.limits_for(settings, depth=1, max_minutes=None)
    assert (deep.mode, deep.depth, deep.breadth, deep.graph_calls) == ("deep", 1, 4, True)


def test_auto_with_nothing_set_fits_the_machine(tmp_path: Path) -> None:
    limits = modes.limits_for(_settings(tmp_path))
    assert limits.mode == "standard" and limits.mode_reason.startswith("auto:")
    assert limits.max_minutes == 4.0 and limits.depth == modes.preset("standard")["depth"]


def test_the_default_model_on_two_cores_fits_its_budget(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, llm=LLMSettings(
        model="bartowski/Qwen2.5-1.5B-Instruct-GGUF/Qwen2.5-1.5B-Instruct-Q4_K_M.gguf", n_threads=2, n_gpu_layers=0))
    choice = modes.resolve(settings)
    assert choice.auto and choice.mode in ("quick", "standard")
    speed = modes.machine_speed(settings)
    assert speed is not None
    assert modes.work_seconds(speed, *modes.REF_WORK) / 60 <= modes.budget_minutes("standard", modes.slowdown(speed))


def test_a_served_model_and_no_model(tmp_path: Path) -> None:
    served = Settings(home=tmp_path, llm=LLMSettings(backend="openai", model="m", base_url="http://127.0.0.1:1/v1"))
    assert modes.machine_speed(served) is None and modes.resolve(served).mode == "standard"
    none = Settings(home=tmp_path, llm=LLMSettings(backend="none"))
    assert modes.resolve(none, "quick").max_minutes == 1.5
