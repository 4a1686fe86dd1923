"""The one structured-output helper: schema → grammar → validation → one bounded retry → typed error.

Every backend funnels structured calls through ``generate_structured``. It guarantees that what it
returns passed strict ``json.loads`` (no raw control characters, no trailing text) and validation
against the schema — a pydantic instance for a model class, a plain dict for a JSON-schema dict —
and that a model which fails twice raises ``StructuredOutputError`` after exactly one retry, the
retry showing the model its own answer and the validation error. A retry that would not fit the
model's context (``PromptTooLongError``) is not sent: the first failure is the answer.

The schema a backend sees is fitted to ``max_tokens`` first (``agents.llm.schema_fit``): its longest
valid answer ends inside the budget, so a constrained model is not cut off mid-string. An answer cut
off anyway is retried with the schema fitted to half the budget. Answers are validated against the
caller's schema: the fitted one only narrows what a model is asked for.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema
from pydantic import BaseModel, ValidationError

import prompts
from agents.errors import PromptTooLongError, StructuredOutputError
from agents.llm.schema_fit import fit_schema

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}
Schema = type[BaseModel] | dict[str, Any]

RETRY_PROMPT = "structured_retry"
_MAX_ERROR_CHARS = 1500


@dataclass(frozen=True)
class Generation:
    """One raw answer from a backend, with the tokens it cost."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"


# A backend's raw call: (messages, JSON schema or None, max_tokens) -> Generation.
Generate = Callable[[Sequence[Message], "dict[str, Any] | None", int], Generation]


class InvalidAnswer(ValueError):
    """An answer failed strict JSON parsing or schema validation; ``str()`` says why."""


def json_schema(schema: Schema) -> dict[str, Any]:
    """The JSON schema of a pydantic model class, or the dict itself."""
    if isinstance(schema, dict):
        return schema
    return schema.model_json_schema()


def schema_name(schema: Schema) -> str:
    """A short name for a schema (the model class name, or its ``title``)."""
    if isinstance(schema, dict):
        return str(schema.get("title") or "answer")
    return schema.__name__


def _strip_fence(text: str) -> str:
    """Remove one surrounding Markdown code fence (HTTP models add them); nothing else is lenient."""
    body = text.strip()
    if body.startswith("```") and body.endswith("```") and body.count("```") == 2:
        body = body[3:-3]
        first_newline = body.find("\n")
        if first_newline != -1 and body[:first_newline].strip().isalnum():
            body = body[first_newline + 1 :]
    return body.strip()


def validate_answer(text: str, schema: Schema) -> Any:
    """Parse ``text`` strictly and validate it; raises ``InvalidAnswer`` with the reason."""
    try:
        data = json.loads(_strip_fence(text), strict=True)
    except json.JSONDecodeError as exc:
        raise InvalidAnswer(f"not valid JSON: {exc}") from exc
    if isinstance(schema, dict):
        validator_cls = jsonschema.validators.validator_for(schema)
        errors = sorted(validator_cls(schema).iter_errors(data), key=lambda e: list(e.path))
        if errors:
            detail = "; ".join(f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors[:5])
            raise InvalidAnswer(f"does not match the schema: {detail}")
        if not isinstance(data, dict):
            raise InvalidAnswer("does not match the schema: the answer must be a JSON object")
        return data
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise InvalidAnswer(f"does not match the schema: {exc}") from exc


def retry_messages(messages: Sequence[Message], answer: str, error: str, schema: Schema) -> list[Message]:
    """The conversation for the one retry: the failed answer, then the validation error."""
    shown = error if len(error) <= _MAX_ERROR_CHARS else error[:_MAX_ERROR_CHARS] + " …"
    followup = prompts.render(
        RETRY_PROMPT,
        error=shown,
        schema_json=json.dumps(json_schema(schema), ensure_ascii=False),
    )
    return [*messages, {"role": "assistant", "content": answer}, *followup]


def generate_structured(
    generate: Generate,
    messages: Sequence[Message],
    schema: Schema,
    max_tokens: int,
    *,
    model_name: str = "the model",
) -> tuple[Any, list[Generation]]:
    """Generate, validate, retry once with the error; returns (object, generations) or raises."""
    full = json_schema(schema)
    spec = fit_schema(full, max_tokens)
    generations: list[Generation] = []
    conversation = list(messages)
    error = ""
    for attempt in range(2):
        try:
            generation = generate(conversation, spec, max_tokens)
        except PromptTooLongError:
            if attempt == 0:
                raise
            break
        generations.append(generation)
        try:
            return validate_answer(generation.text, schema), generations
        except InvalidAnswer as exc:
            error = str(exc)
            if generation.finish_reason == "length":
                error += f" (the answer was cut off at {max_tokens} tokens: answer more briefly)"
                spec = fit_schema(full, max(1, max_tokens // 2))
        if attempt == 0:
            conversation = retry_messages(messages, generation.text, error, spec)
    first_line = error.splitlines()[0] if error else "no answer"
    tried = "after one retry" if len(generations) > 1 else "and its retry would not fit the model's context"
    raise StructuredOutputError(
        f"{model_name} gave no valid {schema_name(schema)} object {tried} ({first_line[:200]}); "
        "try a stronger model or a larger llm.max_tokens.",
        raw=generations[-1].text,
        errors=error,
    )
