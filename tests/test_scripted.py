"""The scripted chat model and the model pool: the seam agent tests use."""

from __future__ import annotations

import threading
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from agents.errors import LLMError, StructuredOutputError
from agents.llm import ChatModel, ModelPool, acomplete
from agents.llm.testing import ScriptedChatModel, schema_stub, stub_answer


class Plan(BaseModel):
    steps: list[str] = Field(min_length=1, max_length=4)
    kind: Literal["broad", "narrow"]


def test_answers_in_order_and_records_calls() -> None:
    model = ScriptedChatModel(["first", {"steps": ["a"], "kind": "broad"}])
    assert isinstance(model, ChatModel)
    assert model.complete([{"role": "user", "content": "hi there"}], max_tokens=10) == "first"
    plan = model.complete([{"role": "user", "content": "plan"}], schema=Plan)
    assert plan == Plan(steps=["a"], kind="broad")
    assert [c.messages[-1]["content"] for c in model.calls] == ["hi there", "plan"]
    assert model.calls[0].max_tokens == 10 and model.calls[1].schema is Plan
    assert model.remaining == 0


def test_invalid_then_valid_retries_once_with_the_error() -> None:
    model = ScriptedChatModel(['{"steps": [], "kind": "broad"}', Plan(steps=["x"], kind="narrow")])
    plan = model.complete([{"role": "user", "content": "plan"}], schema=Plan)
    assert plan.kind == "narrow"
    retry = model.calls[1].messages
    assert retry[-2] == {"role": "assistant", "content": '{"steps": [], "kind": "broad"}'}
    assert "steps" in retry[-1]["content"] and "<data" in retry[-1]["content"]


def test_invalid_json_twice_is_a_typed_error() -> None:
    model = ScriptedChatModel(["not json", '{"steps": ["a"], "kind": "broad"'])
    with pytest.raises(StructuredOutputError) as info:
        model.complete([{"role": "user", "content": "plan"}], schema=Plan)
    message = str(info.value)
    assert "after one retry" in message and "\n" not in message
    assert info.value.raw == '{"steps": ["a"], "kind": "broad"'
    assert len(model.calls) == 2


def test_raw_control_character_in_a_string_is_rejected() -> None:
    model = ScriptedChatModel(['{"steps": ["a\tb"], "kind": "broad"}', '{"steps": ["a\\tb"], "kind": "broad"}'])
    plan = model.complete([{"role": "user", "content": "plan"}], schema=Plan)
    assert plan.steps == ["a\tb"] and len(model.calls) == 2


def test_dict_schema_returns_a_validated_dict() -> None:
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer", "maximum": 3}},
        "required": ["n"],
    }
    model = ScriptedChatModel([{"n": 9}, {"n": 2}])
    assert model.complete([{"role": "user", "content": "n?"}], schema=schema) == {"n": 2}


def test_callable_and_default_answers() -> None:
    model = ScriptedChatModel([lambda messages, schema: messages[-1]["content"].upper()], default=stub_answer)
    assert model.complete([{"role": "user", "content": "echo"}]) == "ECHO"
    assert model.complete([{"role": "user", "content": "x"}], schema=Plan) == schema_stub(Plan)
    assert model.complete([{"role": "user", "content": "x"}]) == "ok"


def test_empty_queue_without_default_says_so() -> None:
    with pytest.raises(LLMError, match="no answer left"):
        ScriptedChatModel([]).complete([{"role": "user", "content": "x"}])


def test_schema_stub_handles_refs_unions_and_bounds() -> None:
    class Item(BaseModel):
        name: str = Field(min_length=3, max_length=10)
        score: float = Field(gt=0.5, le=1.0)

    class Box(BaseModel):
        items: list[Item] = Field(min_length=2, max_length=5)
        note: str | None = None
        mode: Literal["a", "b"]

    box = schema_stub(Box)
    assert isinstance(box, Box) and len(box.items) == 2 and box.mode == "a"
    union = {"anyOf": [{"type": "object", "properties": {"tool": {"const": "t"}}, "required": ["tool"]}]}
    assert schema_stub(union) == {"tool": "t"}


def test_pool_counts_usage_per_role_and_shares_the_default() -> None:
    shared = ScriptedChatModel(default=stub_answer)
    special = ScriptedChatModel(["drafted text here"])
    pool = ModelPool.from_models({"drafter": special}, default=shared)
    assert pool.for_role("planner").model is shared and pool.for_role("drafter").model is special
    pool.for_role("planner").complete([{"role": "user", "content": "one two three"}])
    pool.for_role("drafter").complete([{"role": "user", "content": "four"}])
    usage = pool.usage
    assert usage["planner"].calls == 1 and usage["planner"].prompt_tokens == 3
    assert usage["drafter"].completion_tokens == 3
    assert pool.total_usage().calls == 2


def test_pool_usage_counts_failed_calls_and_threads() -> None:
    model = ScriptedChatModel(default=lambda m, s: "bad")
    pool = ModelPool.from_models({}, default=model)
    role = pool.for_role("verifier")
    with pytest.raises(StructuredOutputError):
        role.complete([{"role": "user", "content": "a b"}], schema=Plan)
    assert pool.usage["verifier"].calls == 1 and pool.usage["verifier"].prompt_tokens > 4

    threads = [threading.Thread(target=role.complete, args=([{"role": "user", "content": "x"}],)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert pool.usage["verifier"].calls == 9


async def test_acomplete_runs_in_a_thread() -> None:
    model = ScriptedChatModel(["async answer"])
    assert await acomplete(model, [{"role": "user", "content": "x"}]) == "async answer"
