"""The chat-model seam: one protocol, every backend behind it.

``ChatModel.complete(messages, schema=..., max_tokens=...)`` returns text, or — when a schema is
given — an object already validated against it (a pydantic instance for a model class, a plain
dict for a JSON-schema dict). A model that cannot produce a valid object after one bounded retry
raises ``StructuredOutputError``. ``ModelPool`` hands each role its model and counts tokens per
role; backends live in ``llm_llama`` (llama.cpp in-process) and ``llm_openai`` (HTTP).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, overload, runtime_checkable

from pydantic import BaseModel

from agents.settings import Role

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}
Schema = type[BaseModel] | dict[str, Any]
T = TypeVar("T", bound=BaseModel)


@dataclass
class Usage:
    """Tokens and calls counted for one role (or one model)."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, prompt_tokens: int, completion_tokens: int) -> None:
        """Count one call."""
        self.calls += 1
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens


@runtime_checkable
class ChatModel(Protocol):
    """What every agent calls. Implementations must be safe to call from several threads."""

    name: str

    @overload
    def complete(
        self, messages: Sequence[Message], *, schema: None = None, max_tokens: int | None = None
    ) -> str: ...
    @overload
    def complete(
        self, messages: Sequence[Message], *, schema: type[T], max_tokens: int | None = None
    ) -> T: ...
    @overload
    def complete(
        self, messages: Sequence[Message], *, schema: dict[str, Any], max_tokens: int | None = None
    ) -> dict[str, Any]: ...
    def complete(
        self, messages: Sequence[Message], *, schema: Schema | None = None, max_tokens: int | None = None
    ) -> Any:
        """Answer the conversation; validated object when ``schema`` is given."""
        ...

    @property
    def last_usage(self) -> tuple[int, int]:
        """(prompt_tokens, completion_tokens) of this thread's most recent call."""
        ...


async def acomplete(
    model: ChatModel,
    messages: Sequence[Message],
    *,
    schema: Schema | None = None,
    max_tokens: int | None = None,
) -> Any:
    """Call ``model.complete`` in a worker thread so the event loop keeps running."""
    return await asyncio.to_thread(model.complete, messages, schema=schema, max_tokens=max_tokens)
