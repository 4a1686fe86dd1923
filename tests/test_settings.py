"""Settings: defaults, then the TOML file, then QUARRY_* variables; bad values are one sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.settings import SettingsError, load_settings


def test_defaults_put_everything_under_home(tmp_path: Path) -> None:
    s = load_settings()
    assert s.home == tmp_path / "home"
    assert s.chroma_dir == s.home / "chroma"
    assert s.checkpoints_path == s.home / "checkpoints.sqlite"
    assert s.models_dir.is_relative_to(s.cache_dir)
    assert s.llm.backend == "llama"


def test_toml_then_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "quarry.toml").write_text(
        '[llm]\nmodel = "/models/a.gguf"\nn_ctx = 4096\n'
        '[llm.roles.drafter]\nmodel = "/models/b.gguf"\n'
        '[mcp_servers.wiki]\ncommand = "wiki-mcp"\nargs = ["--ro"]\n'
    )
    monkeypatch.setenv("QUARRY_LLM__N_CTX", "8192")
    s = load_settings()
    assert s.llm.model == "/models/a.gguf"
    assert s.llm.n_ctx == 8192  # the environment wins over the file
    assert s.model_for("drafter").model == "/models/b.gguf"
    assert s.model_for("planner").model == "/models/a.gguf"
    assert s.mcp_servers["wiki"].args == ["--ro"]


def test_quarry_config_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "elsewhere.toml"
    cfg.write_text('[budget]\nmax_pages = 7\n')
    monkeypatch.setenv("QUARRY_CONFIG", str(cfg))
    assert load_settings().budget.max_pages == 7


def test_missing_config_file_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUARRY_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings()


def test_invalid_value_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "quarry.toml").write_text("[budget]\nmax_pages = -3\n")
    with pytest.raises(SettingsError, match=r"quarry\.toml"):
        load_settings()


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "quarry.toml").write_text("[llm]\nmodle = 'typo'\n")
    with pytest.raises(SettingsError):
        load_settings()
