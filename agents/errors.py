"""Errors the agents layer raises.

Every exception here carries, as its message, one sentence a user can act on: what happened and
what to do. ``app.py`` prints that sentence (no traceback) and exits non-zero.

    AgentError
    ├── LLMError                  a chat model could not be used
    │   ├── ModelNotFoundError    the GGUF path or Hugging Face reference does not resolve
    │   ├── ModelLoadError        the file exists but llama.cpp cannot load it
    │   ├── LLMConnectionError    the OpenAI-compatible server cannot be reached
    │   ├── PromptTooLongError    the prompt leaves no room for the answer in the model's context
    │   └── StructuredOutputError the model gave no valid object after the bounded retry
    │       └── ModelDeclinedError  no model is configured (``llm.backend = "none"``): the node's floor runs
    └── RunError                  a research run failed (carries the run id to resume)
        └── RunBusyError          another session is executing that run right now
"""

from __future__ import annotations


class AgentError(Exception):
    """Base of the agents layer's errors; ``str(err)`` is one actionable sentence."""


class LLMError(AgentError):
    """A chat model could not be used."""


class ModelNotFoundError(LLMError):
    """The model path or reference does not resolve to a file."""


class ModelLoadError(LLMError):
    """The model file exists but cannot be loaded."""


class LLMConnectionError(LLMError):
    """The OpenAI-compatible server cannot be reached or keeps failing."""


class PromptTooLongError(LLMError):
    """The prompt (with room for the answer) does not fit the model's context."""


class StructuredOutputError(LLMError):
    """The model did not produce an object valid for the schema, even after one retry."""

    def __init__(self, message: str, *, raw: str = "", errors: str = "") -> None:
        super().__init__(message)
        self.raw = raw
        self.errors = errors


class ModelDeclinedError(StructuredOutputError):
    """No model answers (the ``none`` backend): every node does its model-free floor instead."""


class RunError(AgentError):
    """A research run failed; ``run_id`` names the run to resume."""

    def __init__(self, message: str, *, run_id: str | None = None) -> None:
        super().__init__(message)
        self.run_id = run_id


class RunBusyError(RunError):
    """The run is being executed by another live session (this process or another); it was not touched."""
