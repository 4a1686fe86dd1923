"""Bad input found before a run starts: a truncated GGUF and an over-long question exit 2 with one sentence.

Both used to start a run that then failed ("Resume with …", which cannot help). The real command
line runs here; the checks refuse before any run folder exists, so nothing else is needed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import app as quarry
from agents.settings import Settings
from ui.errors import BadInputError
from ui.preflight import MAX_QUESTION_CHARS, check_models, check_question


def truncated(source: Path, size: int, into: Path) -> Path:
    """The first ``size`` bytes of ``source`` (what ``head -c SIZE`` writes)."""
    into.write_bytes(source.read_bytes()[:size])
    return into


def research(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = quarry.main(["research", *argv, "--quiet"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("fraction", [0.05, 0.6], ids=["in-the-metadata", "in-the-weights"])
def test_a_truncated_gguf_is_refused_before_the_run(tiny_gguf: Path, tmp_path: Path, fraction: float,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    model = truncated(tiny_gguf, int(tiny_gguf.stat().st_size * fraction), tmp_path / "model.gguf")
    code, err = research(["What is a heat pump?", "--model", str(model)], capsys)
    assert code == 2
    assert err.strip() == (f"quarry: The model file {model} (llm.model) is truncated or not a GGUF model; "
                           "download it again or choose another model.")
    assert "resume" not in err.lower()
    assert not list((tmp_path / "home" / "runs").glob("*"))


def test_an_over_long_question_is_refused_before_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = research(["x" * 20_000], capsys)
    assert code == 2
    assert err.strip() == ("quarry: The question is 20,000 characters long and the limit is 4,000; shorten it, "
                           "and put long background material in a folder given with --corpus.")
    assert not list((tmp_path / "home" / "runs").glob("*"))


def test_the_limits_let_good_input_through(tiny_gguf: Path, tmp_path: Path) -> None:
    check_question("q" * MAX_QUESTION_CHARS)
    settings = Settings(home=tmp_path / "home")
    check_models(settings.model_copy(update={"llm": settings.llm.model_copy(update={"model": str(tiny_gguf)})}))


def test_a_truncated_embedding_model_names_its_setting(tiny_gguf: Path, tmp_path: Path) -> None:
    model = truncated(tiny_gguf, 20_000, tmp_path / "embed.gguf")
    settings = Settings(home=tmp_path / "home")
    memory = settings.memory.model_copy(update={"embedding_model": str(model)})
    settings = settings.model_copy(update={"memory": memory})
    with pytest.raises(BadInputError, match=r"\(memory.embedding_model\)"):
        check_models(settings)


def test_the_first_run_with_the_machines_default_model_says_which_it_is(tmp_path: Path) -> None:
    from agents.settings import CPU_CHAT_MODEL, DEFAULT_CHAT_MODEL, gpu_offload
    from ui.preflight import announce_default_model

    settings = Settings(home=tmp_path / "home")
    assert settings.llm.model == (DEFAULT_CHAT_MODEL if gpu_offload() else CPU_CHAT_MODEL)
    note = announce_default_model(settings)
    assert note is not None and "set QUARRY_LLM__MODEL (or llm.model in quarry.toml)" in note
    downloaded = settings.models_dir.joinpath(*settings.llm.model.split("/"))
    downloaded.parent.mkdir(parents=True)
    downloaded.write_bytes(b"GGUF")
    assert announce_default_model(settings) is None  # not the first run any more
    from agents.settings import LLMSettings

    chosen = Settings(home=tmp_path / "home", llm=LLMSettings(model="/models/mine.gguf"))
    assert announce_default_model(chosen) is None
