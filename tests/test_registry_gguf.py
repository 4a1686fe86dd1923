"""With a random-weight GGUF model on llama.cpp, tool-call decisions constrained by the registry's
call schema are always a real tool with valid arguments: a hundred in a row."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import jsonschema
import pytest
from langchain_core.tools import tool as lc_tool
from pydantic import Field

from agents.llm.llama import LlamaChatModel
from tools.registry import Tool, ToolRegistry

Short = Annotated[str, Field(min_length=1, max_length=24)]


async def web_lookup(query: Short, k: Annotated[int, Field(ge=1, le=5)] = 3) -> str:
    """Search the web."""
    return query * k


def convert(amount: float, unit: Literal["kWh", "MJ", "BTU"], precise: bool = False) -> str:
    """Convert an energy amount."""
    return f"{amount} {unit} {precise}"


@lc_tool
def lookup_term(term: Annotated[str, Field(max_length=16)]) -> str:
    """Look a term up in the glossary."""
    return term


async def _wiki(arguments: dict[str, Any]) -> str:
    return str(arguments)


WIKI_SCHEMA = {
    "type": "object",
    "properties": {
        "pages": {
            "type": "array",
            "maxItems": 2,
            "items": {
                "type": "object",
                "properties": {"title": {"type": "string", "maxLength": 12}, "rev": {"type": "integer"}},
                "required": ["title"],
            },
        },
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 8}, "maxItems": 3},
    },
    "required": ["pages"],
}


@pytest.fixture(scope="module")
def model(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaChatModel]:
    llm = LlamaChatModel(
        str(tiny_gguf), models_dir=tmp_path_factory.mktemp("models"), n_ctx=4096, temperature=1.0, max_tokens=1500
    )
    yield llm
    llm.close()


def test_a_hundred_tool_call_decisions_are_all_valid(model: LlamaChatModel) -> None:
    registry = ToolRegistry()
    registry.register(web_lookup)
    registry.register(convert)
    registry.register(lookup_term, "plugin:glossary 1.0")
    registry.add(Tool("wiki.get_pages", "Read wiki pages.", WIKI_SCHEMA, _wiki, origin="mcp:wiki"))
    schema = registry.call_schema()
    validator = jsonschema.Draft202012Validator(schema)
    chosen: Counter[str] = Counter()
    tokens = 0
    for seed in range(100):
        model.seed = seed
        messages = [
            {"role": "system", "content": "Choose one tool call as JSON."},
            {"role": "user", "content": f"Sub-question {seed}: how efficient are heat pumps?"},
        ]
        answer = model.complete(messages, schema=schema)
        assert model.last_usage[0] == len(model.render(messages))  # one generation: no retry was needed
        tokens += model.last_usage[1]
        assert isinstance(answer, dict)
        validator.validate(answer)
        assert registry.validate(answer["tool"], answer["arguments"]) is None, answer
        chosen[answer["tool"]] += 1
    assert sum(chosen.values()) == 100
    assert len(chosen) >= 2, chosen  # the grammar admits every tool, not just the first
    assert tokens > 100 * len('{"tool":"","arguments":{}}')  # real decisions, not empty stubs
