"""Test seams for the chat model: a scripted model and a schema stub.

``ScriptedChatModel`` answers from a queue and records every call; structured answers go through
the same strict parsing, validation and one-retry path as the real backends (it derives from
``BaseChatModel``), so an agent test exercises the real error handling. ``schema_stub`` builds a
minimal object valid for a schema, for smoke runs and benchmarks that need no real model.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from agents.errors import LLMError
from agents.llm import DEFAULT_CONTEXT, BaseChatModel
from agents.llm.structured import Generation, Message, Schema, json_schema

Answer = str | dict[str, Any] | list[Any] | BaseModel
AnswerFn = Callable[[Sequence[Message], "Schema | None"], Any]


@dataclass(frozen=True)
class ScriptedCall:
    """One call the scripted model received (a retry is a call of its own)."""

    messages: list[Message]
    schema: Schema | None
    max_tokens: int


def _as_text(answer: Any) -> str:
    if isinstance(answer, BaseModel):
        return answer.model_dump_json()
    if isinstance(answer, (dict, list)):
        return json.dumps(answer, ensure_ascii=False)
    return str(answer)


def _words(messages: Sequence[Message]) -> int:
    return sum(len(m.get("content", "").split()) for m in messages)


class ScriptedChatModel(BaseChatModel):
    """A chat model that answers from a queue (str, dict, pydantic object or callable)."""

    def __init__(
        self,
        answers: Iterable[Answer | AnswerFn] = (),
        default: AnswerFn | None = None,
        *,
        name: str = "scripted",
        max_tokens: int = 1024,
        context_tokens: int = DEFAULT_CONTEXT,
    ) -> None:
        super().__init__(max_tokens=max_tokens, context_tokens=context_tokens)
        self.name = name
        self._answers: deque[Answer | AnswerFn] = deque(answers)
        self.default = default
        self.calls: list[ScriptedCall] = []
        self._lock = threading.Lock()
        self._schema_of_call: threading.local = threading.local()

    def add(self, *answers: Answer | AnswerFn) -> None:
        """Queue more answers."""
        with self._lock:
            self._answers.extend(answers)

    @property
    def remaining(self) -> int:
        """Answers still queued."""
        return len(self._answers)

    def complete(
        self, messages: Sequence[Message], *, schema: Schema | None = None, max_tokens: int | None = None
    ) -> Any:
        """Answer from the queue; structured answers are validated like a real backend's."""
        self._schema_of_call.schema = schema
        return super().complete(messages, schema=schema, max_tokens=max_tokens)

    def _generate(self, messages: Sequence[Message], json_schema: dict[str, Any] | None, max_tokens: int) -> Generation:
        schema = getattr(self._schema_of_call, "schema", None)
        with self._lock:
            self.calls.append(ScriptedCall(list(messages), schema, max_tokens))
            answer: Any = self._answers.popleft() if self._answers else self.default
        if answer is None:
            raise LLMError(
                f"The scripted model {self.name!r} has no answer left for call {len(self.calls)}; "
                "queue more answers or pass default=."
            )
        if callable(answer):
            answer = answer(list(messages), schema)
        text = _as_text(answer)
        return Generation(text, prompt_tokens=_words(messages), completion_tokens=len(text.split()))


def stub_answer(messages: Sequence[Message], schema: Schema | None) -> Any:
    """A ``default=`` for ``ScriptedChatModel``: a schema stub for structured calls, else "ok"."""
    return "ok" if schema is None else schema_stub(schema)


def schema_stub(schema: Schema) -> Any:
    """A minimal object valid for ``schema``: a model instance for a class, a dict for a dict."""
    spec = json_schema(schema)
    value = _stub(spec, spec, depth=0)
    if isinstance(schema, dict):
        return value
    return schema.model_validate(value)


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node
    target: Any = root
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return _resolve(target, root)


_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "uri": "https://example.org/",
    "url": "https://example.org/",
    "email": "someone@example.org",
}


def _stub(node: dict[str, Any], root: dict[str, Any], depth: int) -> Any:
    node = _resolve(node, root)
    if "const" in node:
        return node["const"]
    if node.get("enum"):
        return node["enum"][0]
    if "default" in node and depth > 0:
        return node["default"]
    for key in ("anyOf", "oneOf"):
        if node.get(key):
            return _stub(node[key][0], root, depth + 1)
    if node.get("allOf"):
        return _stub(node["allOf"][0], root, depth + 1)
    kind = node.get("type", "object" if "properties" in node else "null")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = node.get("properties", {})
        return {name: _stub(props[name], root, depth + 1) for name in node.get("required", []) if name in props}
    if kind == "array":
        items = node.get("items", {})
        return [_stub(items, root, depth + 1) for _ in range(int(node.get("minItems", 0)))]
    if kind == "string":
        fixed = _FORMATS.get(str(node.get("format")))
        return fixed if fixed else "x" * max(1, int(node.get("minLength", 1)))
    if kind in ("integer", "number"):
        value: float = 0
        if "minimum" in node:
            value = max(value, node["minimum"])
        if "exclusiveMinimum" in node:
            value = max(value, node["exclusiveMinimum"] + (1 if kind == "integer" else 0.5))
        if "maximum" in node:
            value = min(value, node["maximum"])
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return False
    return None
