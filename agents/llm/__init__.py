"""The chat-model seam: one protocol, every backend behind it.

``ChatModel.complete(messages, schema=..., max_tokens=...)`` returns text, or — when a schema is
given — an object already validated against it (a pydantic instance for a model class, a plain
dict for a JSON-schema dict). A model that cannot produce a valid object after one bounded retry
raises ``StructuredOutputError``. ``ModelPool`` hands each role its model and counts tokens per
role; backends live in ``llama`` (llama.cpp in-process) and ``openai`` (HTTP), and every
backend (the scripted test model too) derives from ``BaseChatModel`` so that structured output goes
through the one helper in ``agents.llm.structured``. Roles that name the same backend, model and base
URL share one backend instance (for llama.cpp: one loaded model).

This package is the whole seam: this module (the protocol, the pool, token counting); the backends
``llama`` and ``openai`` (``engine`` is one loaded llama.cpp model); structured output
(``structured``, with ``grammar`` for JSON schema → GBNF and ``schema_fit`` for schemas that fit the
answer budget); llama.cpp's decoding parts (``sampling``, ``prefix``, ``vocab``, ``cpu``); ``hub``
(model references → local files); and ``testing`` (the scripted model tests use). Nothing in it
imports the graph or its nodes.
"""

from __future__ import annotations

import asyncio
import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload, runtime_checkable

from pydantic import BaseModel

from agents.errors import PromptTooLongError
from agents.llm.structured import Generation, Message, Schema, generate_structured
from agents.llm.structured import json_schema as structured_json_schema

if TYPE_CHECKING:
    from agents.settings import ModelSettings, Settings

__all__ = [
    "BaseChatModel",
    "ChatModel",
    "Generation",
    "Message",
    "ModelPool",
    "NoModel",
    "RoleModel",
    "Schema",
    "Usage",
    "acomplete",
    "answer_tokens",
    "build_model",
    "context_tokens",
    "count_tokens",
    "describe",
    "estimate_tokens",
]

T = TypeVar("T", bound=BaseModel)

# The token estimate for backends whose tokenizer Quarry cannot run (HTTP servers, the scripted test
# model): a token per three characters, rounded up, plus a few tokens per message for the chat
# template's role markers. English runs near four characters a token, so the estimate errs long.
CHARS_PER_TOKEN = 3
MESSAGE_OVERHEAD = 4  # role markers and separators around each message
REPLY_OVERHEAD = 3  # the opening of the assistant's turn
DEFAULT_CONTEXT = 32768  # what a backend that cannot say is assumed to hold (``llm.n_ctx``'s default)
PROMPT_MARGIN = 16  # tokens kept free beyond the answer's ``max_tokens``


def estimate_tokens(messages: Sequence[Message]) -> int:
    """The documented estimate: ceil(characters / 3) per message plus its overhead, plus the reply's."""
    return REPLY_OVERHEAD + sum(
        math.ceil(len(m.get("content", "")) / CHARS_PER_TOKEN) + MESSAGE_OVERHEAD for m in messages
    )


def count_tokens(model: Any, messages: Sequence[Message]) -> int:
    """The prompt tokens ``messages`` cost on ``model`` (its own count where it has one, else the estimate)."""
    counter = getattr(model, "count_tokens", None)
    return int(counter(messages)) if callable(counter) else estimate_tokens(messages)


def context_tokens(model: Any) -> int:
    """The context ``model`` holds, in tokens (``DEFAULT_CONTEXT`` when it cannot say)."""
    return int(getattr(model, "context_tokens", DEFAULT_CONTEXT))


def answer_tokens(model: Any, max_tokens: int | None = None) -> int:
    """The ``max_tokens`` a call asking for ``max_tokens`` (None: the model's default) will use."""
    limit = getattr(model, "answer_tokens", None)
    return int(limit(max_tokens)) if callable(limit) else max(1, max_tokens or 1024)


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
    def complete(self, messages: Sequence[Message], *, schema: None = None, max_tokens: int | None = None) -> str: ...
    @overload
    def complete(self, messages: Sequence[Message], *, schema: type[T], max_tokens: int | None = None) -> T: ...
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

    def call() -> Any:
        return model.complete(messages, schema=schema, max_tokens=max_tokens)

    return await asyncio.to_thread(call)


class BaseChatModel(ABC):
    """What backends share: bounded ``max_tokens``, structured output, per-thread usage."""

    name: str = "model"

    def __init__(
        self, *, max_tokens: int = 1024, max_tokens_cap: int = 32768, context_tokens: int = DEFAULT_CONTEXT
    ) -> None:
        self.default_max_tokens = max_tokens
        self.max_tokens_cap = max_tokens_cap
        self._context_tokens = context_tokens
        self._local = threading.local()

    @property
    def context_tokens(self) -> int:
        """The context the model holds, in tokens (backends that know it exactly override this)."""
        return self._context_tokens

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """The prompt tokens of ``messages``: the documented estimate unless the backend can count."""
        return estimate_tokens(messages)

    def answer_tokens(self, max_tokens: int | None = None) -> int:
        """The ``max_tokens`` a call asking for ``max_tokens`` (None: the default) will use."""
        return self._limit(max_tokens)

    def fits(self, messages: Sequence[Message], max_tokens: int | None = None) -> bool:
        """Whether ``messages`` leave room for the whole answer (and the margin) in the context."""
        return self.count_tokens(messages) + self._limit(max_tokens) + PROMPT_MARGIN <= self.context_tokens

    @abstractmethod
    def _generate(self, messages: Sequence[Message], json_schema: dict[str, Any] | None, max_tokens: int) -> Generation:
        """One raw call to the backend (grammar- or schema-constrained when ``json_schema`` is set)."""

    def generate(
        self, messages: Sequence[Message], *, schema: Schema | None = None, max_tokens: int | None = None
    ) -> Generation:
        """One raw call: the model's text (constrained when ``schema`` is given), not validated."""
        spec = None if schema is None else structured_json_schema(schema)
        return self._generate(messages, spec, self._limit(max_tokens))

    def _limit(self, max_tokens: int | None) -> int:
        return min(max(1, max_tokens or self.default_max_tokens), self.max_tokens_cap)

    def complete(
        self, messages: Sequence[Message], *, schema: Schema | None = None, max_tokens: int | None = None
    ) -> Any:
        """Answer the conversation; a validated object when ``schema`` is given."""
        limit = self._limit(max_tokens)
        generations: list[Generation] = []

        def call(msgs: Sequence[Message], spec: dict[str, Any] | None, n: int) -> Generation:
            if generations and not self.fits(msgs, n):  # the retry adds the answer and the schema
                raise PromptTooLongError(f"The retry for {self.name} would not fit its context.")
            generation = self._generate(msgs, spec, n)
            generations.append(generation)
            return generation

        try:
            if schema is None:
                return call(messages, None, limit).text
            value, _ = generate_structured(call, messages, schema, limit, model_name=self.name)
            return value
        finally:
            self._local.usage = (
                sum(g.prompt_tokens for g in generations),
                sum(g.completion_tokens for g in generations),
            )

    @property
    def last_usage(self) -> tuple[int, int]:
        """(prompt_tokens, completion_tokens) of this thread's most recent call."""
        usage: tuple[int, int] = getattr(self._local, "usage", (0, 0))
        return usage

    def close(self) -> None:  # noqa: B027  a no-op default that backends holding resources override
        """Release what the backend holds (overridden where there is something)."""


class RoleModel:
    """One role's view of a shared model: same calls, tokens counted for this role."""

    def __init__(self, role: str, model: ChatModel) -> None:
        self.role = role
        self.model = model
        self.name = model.name
        self.usage = Usage()
        self._lock = threading.Lock()
        self._local = threading.local()

    def complete(
        self, messages: Sequence[Message], *, schema: Schema | None = None, max_tokens: int | None = None
    ) -> Any:
        """Call the shared model and count the tokens for this role (failed calls count too)."""
        try:
            return self.model.complete(messages, schema=schema, max_tokens=max_tokens)
        finally:
            prompt_tokens, completion_tokens = self.model.last_usage
            self._local.usage = (prompt_tokens, completion_tokens)
            with self._lock:
                self.usage.add(prompt_tokens, completion_tokens)

    @property
    def context_tokens(self) -> int:
        """The shared model's context, in tokens."""
        return context_tokens(self.model)

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """The prompt tokens of ``messages`` on the shared model."""
        return count_tokens(self.model, messages)

    def answer_tokens(self, max_tokens: int | None = None) -> int:
        """The ``max_tokens`` the shared model will use for a call asking for ``max_tokens``."""
        return answer_tokens(self.model, max_tokens)

    @property
    def last_usage(self) -> tuple[int, int]:
        """(prompt_tokens, completion_tokens) of this thread's most recent call through this role."""
        usage: tuple[int, int] = getattr(self._local, "usage", (0, 0))
        return usage


class NoModel(BaseChatModel):
    """The ``none`` backend: a model that never answers, so every node does its floor's model-free work.

    A research run over it searches the question, reads the top results, quotes the best-matching
    sentences as findings and answers with the best-supported one (ARCHITECTURE.md, "Floors").
    """

    name = "none"

    def _generate(self, messages: Sequence[Message], json_schema: dict[str, Any] | None, max_tokens: int) -> Generation:
        from agents.errors import ModelDeclinedError

        raise ModelDeclinedError('No model is configured (llm.backend = "none"); the floor decides instead.')


def _spec_key(spec: ModelSettings) -> tuple[str, str, str]:
    return (spec.backend or "llama", spec.model or "", spec.base_url or "")


def build_model(spec: ModelSettings, settings: Settings) -> BaseChatModel:
    """One backend for a resolved role spec (llama.cpp loads its file lazily, on first call)."""
    if spec.backend == "none":
        return NoModel()
    if spec.backend == "openai":
        from agents.llm.openai import OpenAIChatModel

        return OpenAIChatModel.from_settings(settings, model=spec.model, base_url=spec.base_url)
    from agents.llm.llama import LlamaChatModel

    return LlamaChatModel.from_settings(settings, model=spec.model)


class ModelPool:
    """Each role's model; roles naming the same model share one backend. Counts usage per role."""

    def __init__(self, models: Mapping[str, ChatModel], default: ChatModel, *, owned: Sequence[Any] = ()):
        self._models = dict(models)
        self._default = default
        self._owned = list(owned)
        self._roles: dict[str, RoleModel] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelPool:
        """Backends for every role from the settings, one per distinct (backend, model, base URL)."""
        from agents.settings import ROLES, ModelSettings

        shared: dict[tuple[str, str, str], BaseChatModel] = {}

        def backend_for(spec: ModelSettings) -> BaseChatModel:
            key = _spec_key(spec)
            if key not in shared:
                shared[key] = build_model(spec, settings)
            return shared[key]

        default_spec = ModelSettings(
            backend=settings.llm.backend, model=settings.llm.model, base_url=settings.llm.base_url
        )
        default = backend_for(default_spec)
        models: dict[str, ChatModel] = {role: backend_for(settings.model_for(role)) for role in ROLES}
        return cls(models, default, owned=list(shared.values()))

    @classmethod
    def from_models(cls, models: Mapping[str, ChatModel], default: ChatModel | None = None) -> ModelPool:
        """A pool over given models (tests): unnamed roles use ``default``."""
        if default is None:
            if not models:
                raise ValueError("ModelPool.from_models needs at least one model or a default")
            default = next(iter(models.values()))
        return cls(models, default)

    def for_role(self, role: str) -> RoleModel:
        """The model for ``role``, wrapped so that its usage is counted for that role."""
        with self._lock:
            if role not in self._roles:
                self._roles[role] = RoleModel(role, self._models.get(role, self._default))
            return self._roles[role]

    @property
    def usage(self) -> dict[str, Usage]:
        """Usage per role so far (copies), for the roles that were asked for."""
        with self._lock:
            return {role: Usage(**vars(wrapper.usage)) for role, wrapper in self._roles.items()}

    def total_usage(self) -> Usage:
        """Usage summed over all roles."""
        total = Usage()
        for usage in self.usage.values():
            total.calls += usage.calls
            total.prompt_tokens += usage.prompt_tokens
            total.completion_tokens += usage.completion_tokens
        return total

    def close(self) -> None:
        """Release the backends this pool built (loaded models, HTTP clients)."""
        for model in self._owned:
            closer = getattr(model, "close", None)
            if callable(closer):
                closer()
        self._owned.clear()


def describe(settings: Settings, load: bool = True) -> dict[str, Any]:
    """What ``doctor`` reports about the default model; ``ok`` False with ``error`` when unusable."""
    if settings.llm.backend == "none":
        return {"ok": True, "backend": "none", "model": "none (no model: every decision is the floor's)"}
    if settings.llm.backend == "openai":
        from agents.llm.openai import describe_openai

        return describe_openai(settings, load=load)
    from agents.llm.llama import describe_llama

    return describe_llama(settings, load=load)
