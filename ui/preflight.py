"""Checks of a run's inputs that would otherwise fail only once the run is under way.

A run that fails part-way says "resume with …", which cannot help when the input itself is bad:
a question too long for any prompt, or a model file that is truncated or not a GGUF. These checks
run before a run starts and raise ``BadInputError`` (exit 2), one sentence and no resume hint.
"""

from __future__ import annotations

from pathlib import Path

from agents.errors import ModelLoadError
from agents.settings import ROLES, Settings
from ui.errors import BadInputError

# Every prompt carries the question in full (only retrieved material is packed to fit), so it must
# leave most of the context to the sources: 4,000 characters is about 1,000 tokens, a few percent
# of the default 32k context. Background material belongs in a --corpus folder.
MAX_QUESTION_CHARS = 4_000


def check_question(question: str) -> None:
    """Refuse a question longer than ``MAX_QUESTION_CHARS``."""
    if len(question) > MAX_QUESTION_CHARS:
        raise BadInputError(
            f"The question is {len(question):,} characters long and the limit is {MAX_QUESTION_CHARS:,}; "
            "shorten it, and put long background material in a folder given with --corpus."
        )


def model_files(settings: Settings) -> dict[Path, str]:
    """The local GGUF files the run's llama.cpp models use, each with the setting that names it.

    A Hugging Face file not downloaded yet is left out: the download checks what it receives.
    """
    from agents.llm.hub import cached_path

    found: dict[Path, str] = {}
    for role in ROLES:
        spec = settings.model_for(role)
        if spec.backend == "llama" and spec.model:
            setting = f"llm.roles.{role}.model" if role in settings.llm.roles else "llm.model"
            path = cached_path(spec.model, settings.models_dir)
            if path is not None:
                found.setdefault(path, setting)
    memory = settings.memory
    if memory.embedding_backend == "llama":
        path = cached_path(memory.embedding_model, settings.models_dir)
        if path is not None:
            found.setdefault(path, "memory.embedding_model")
    return found


def check_models(settings: Settings) -> None:
    """Refuse a run whose local GGUF files llama.cpp cannot read (truncated, not a GGUF)."""
    from agents.llm.llama import read_metadata

    for path, setting in model_files(settings).items():
        try:
            read_metadata(path)  # the vocabulary only: fast, and it checks every tensor lies inside the file
        except ModelLoadError as err:
            raise BadInputError(
                f"The model file {path} ({setting}) is truncated or not a GGUF model; "
                "download it again or choose another model."
            ) from err


def default_model_note(settings: Settings) -> str | None:
    """Which default chat model this machine gets and why, with the setting to override it.

    None when the chat model was chosen in the settings (or the backend is not llama.cpp).
    """
    from agents.settings import DEFAULT_CHAT_MODEL, default_chat_model

    if settings.llm.backend != "llama" or "model" in settings.llm.model_fields_set:
        return None
    if settings.llm.model != default_chat_model():
        return None
    how = "set QUARRY_LLM__MODEL (or llm.model in quarry.toml) to choose another"
    if settings.llm.model == DEFAULT_CHAT_MODEL:
        return f"GPU offload is available, so the default chat model is Qwen2.5-7B-Instruct (about 4.7 GB); {how}."
    return ("No GPU offload here (llama.cpp without GPU support, or no usable GPU), so the default chat model is "
            f"Qwen2.5-1.5B-Instruct (about 1 GB), not the 7B, which would be slow on this CPU; {how}.")


def announce_default_model(settings: Settings) -> str | None:
    """The default-model note when this is the first run with it (its file is not downloaded yet)."""
    from agents.llm.hub import cached_path

    note = default_model_note(settings)
    if note is None or cached_path(settings.llm.model, settings.models_dir) is not None:
        return None
    return note
