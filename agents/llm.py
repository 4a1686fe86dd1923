"""The chat-model seam: one protocol, every backend behind it.

``ChatModel.complete(messages, schema=..., max_tokens=...)`` returns text, or — when a schema is
given — an object already validated against it (a pydantic instance for a model class, a plain
dict for a JSON-schema dict). A model that cannot produce a valid object after one bounded retry
raises ``StructuredOutputError``. ``ModelPool`` hands each role its model and counts tokens per
role; backends live in ``llm_llama`` (llama.cpp in-process) and ``llm_openai`` (HTTP), and every
backend (the scripted test model too) derives from ``BaseChatModel`` so that structured output goes
through the one helper in ``agents.structured``. Roles that name the same backend, model and base
URL share one backend instance (for llama.cpp: one loaded model).
"""

from __future__ import annotations

import asyncio
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload, runtime_checkable

from pydantic import BaseModel

from agents.structured import Generation, Message, Schema, generate_structured
from agents.structured import json_schema as structured_json_schema

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
    "build_model",
    "describe",
]

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

    def __init__(self, *, max_tokens: int = 1024, max_tokens_cap: int = 32768) -> None:
        self.default_max_tokens = max_tokens
        self.max_tokens_cap = max_tokens_cap
        self._local = threading.local()

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
        from agents.llm_openai import OpenAIChatModel

        return OpenAIChatModel.from_settings(settings, model=spec.model, base_url=spec.base_url)
    from agents.llm_llama import LlamaChatModel

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
        from agents.llm_openai import describe_openai

        return describe_openai(settings, load=load)
    from agents.llm_llama import describe_llama

    return describe_llama(settings, load=load)
