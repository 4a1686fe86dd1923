"""``doctor`` reports the llama.cpp build, the model, its context and chat template — or why not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import app


def test_doctor_json_reports_the_model(
    tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QUARRY_LLM__MODEL", str(tiny_gguf))
    assert app.main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    model = report["model"]
    assert model["ok"] and model["path"] == str(tiny_gguf)
    assert model["context_length"] == 4096 and model["chat_template"] == "gguf"
    assert report["llama_cpp"]["installed"] and "gpu_offload" in report["llama_cpp"]


def test_doctor_table_says_why_a_model_is_unusable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QUARRY_LLM__MODEL", str(tmp_path / "missing.gguf"))
    assert app.main(["doctor"]) == 1
    out = " ".join(capsys.readouterr().out.split())  # the table wraps long lines
    assert "Model not usable" in out and "does not exist" in out and "Traceback" not in out


def test_doctor_without_loading_does_not_download(capsys: pytest.CaptureFixture[str]) -> None:
    assert app.main(["doctor", "--no-load", "--json"]) == 1
    model = json.loads(capsys.readouterr().out)["model"]
    assert not model["ok"] and "not downloaded yet" in model["error"]


def test_doctor_measures_speed_and_estimates_a_run(
    tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QUARRY_LLM__MODEL", str(tiny_gguf))
    assert app.main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    speed = report["speed"]
    assert speed["decode_tok_s"] > 0 and speed["prompt_tok_s"] > 0 and speed["run_minutes"] > 0
    assert report["mode"]["mode"] in ("quick", "standard") and report["mode"]["reason"].startswith("auto:")
    assert speed["measured_mode"] in ("quick", "standard") and speed["mode"] == report["mode"]["mode"]
    assert report["default_model"] is None  # the model was chosen in the settings
    assert app.main(["doctor"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Speed: decode" in out and "a default research run takes" in out
    assert "Mode: " in out and "at the measured speed auto would choose" in out


def test_doctor_says_which_default_model_this_machine_gets(capsys: pytest.CaptureFixture[str]) -> None:
    from agents.settings import gpu_offload

    assert app.main(["doctor", "--no-load", "--json"]) == 1
    note = json.loads(capsys.readouterr().out)["default_model"]
    assert ("Qwen2.5-7B-Instruct" if gpu_offload() else "Qwen2.5-1.5B-Instruct") in note
    assert "QUARRY_LLM__MODEL" in note and "llm.model in quarry.toml" in note
