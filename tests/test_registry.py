"""The tool registry: one tool shape, unique names, a call schema that admits only valid calls,
and calls whose failures and timeouts become outcomes (never exceptions)."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Annotated, Any, Literal

import jsonschema
import pytest
from langchain_core.tools import tool as lc_tool
from pydantic import BaseModel, Field

from tools.errors import PluginError
from tools.registry import Tool, ToolRegistry
from tools.schema import MAX_ARRAY_ITEMS, MAX_STRING_CHARS, bounded_schema
from tools.types import SearchResult


def word_count(text: str, minimum: int = 1) -> str:
    """Count the words of a text longer than ``minimum`` characters."""
    return str(sum(1 for w in text.split() if len(w) >= minimum))


async def paper_search(query: str, k: Annotated[int, Field(ge=1, le=5)] = 3) -> list[dict[str, str]]:
    """Search a tiny paper index."""
    return [
        {"title": f"{query} {i}", "url": f"https://papers.example/{i}", "snippet": "s"} for i in range(k)
    ]


class Span(BaseModel):
    start: int
    end: int


def highlight(text: str, spans: list[Span], style: Literal["bold", "italic"] = "bold") -> str:
    """Mark spans of a text."""
    marks = "*" if style == "italic" else "**"
    return "".join(f"{marks}{text[s.start:s.end]}{marks}" for s in spans)


def _strings_and_arrays_bounded(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _strings_and_arrays_bounded(item)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if "string" in kinds and "const" not in node and "enum" not in node:
        assert 0 < node["maxLength"] <= MAX_STRING_CHARS
    if "array" in kinds:
        assert 0 < node["maxItems"] <= MAX_ARRAY_ITEMS
    if "object" in kinds and "properties" in node:
        assert node["additionalProperties"] is False
    assert "$ref" not in node
    for value in node.values():
        _strings_and_arrays_bounded(value)


def test_typed_function_becomes_tool() -> None:
    reg = ToolRegistry()
    tool = reg.register(word_count)
    assert tool.name == "word_count"
    assert tool.description.startswith("Count the words")
    assert tool.origin == "built-in"
    props = tool.parameters["properties"]
    assert props["text"]["type"] == "string"
    assert props["minimum"]["default"] == 1
    assert tool.parameters["required"] == ["text"]
    assert reg.get("word_count") is tool
    assert reg.names() == ["word_count"]


def test_function_without_docstring_or_hints_is_refused() -> None:
    reg = ToolRegistry()

    def nodoc(x: int) -> int:
        return x

    def nohint(x):
        """Has no hint."""
        return x

    with pytest.raises(PluginError, match="no docstring"):
        reg.register(nodoc)
    with pytest.raises(PluginError, match="no type hint"):
        reg.register(nohint)
    assert len(reg) == 0


def test_duplicate_name_names_both_origins() -> None:
    reg = ToolRegistry()
    reg.register(word_count, "plugin:first 1.0")
    with pytest.raises(PluginError) as info:
        reg.register(word_count, "plugin:second 2.0")
    assert "plugin:first 1.0" in str(info.value) and "plugin:second 2.0" in str(info.value)
    assert reg.get("word_count").origin == "plugin:first 1.0"


async def test_calls_sync_and_async_functions_and_normalizes_results() -> None:
    reg = ToolRegistry()
    reg.register(word_count)
    reg.register(paper_search)
    text = await reg.call("word_count", {"text": "a bb ccc", "minimum": 2})
    assert text.ok and text.output == "2" and text.error is None
    found = await reg.call("paper_search", {"query": "heat pumps", "k": 2})
    assert found.ok
    assert found.results == [
        SearchResult("heat pumps 0", "https://papers.example/0", "s", 1, "tool:paper_search"),
        SearchResult("heat pumps 1", "https://papers.example/1", "s", 2, "tool:paper_search"),
    ]
    assert "https://papers.example/1" in found.observation()


async def test_langchain_tool_is_accepted() -> None:
    @lc_tool
    def multiply(a: int, b: int) -> int:
        """Multiply two integers."""
        return a * b

    reg = ToolRegistry()
    tool = reg.register(multiply, "plugin:lc 0.1")
    assert tool.name == "multiply" and tool.description == "Multiply two integers."
    assert set(tool.parameters["properties"]) == {"a", "b"}
    outcome = await reg.call("multiply", {"a": 6, "b": 7})
    assert outcome.ok and outcome.output == "42"


def test_call_schema_is_a_bounded_union_of_real_tools() -> None:
    reg = ToolRegistry()
    for fn in (word_count, paper_search, highlight):
        reg.register(fn)
    schema = reg.call_schema()
    assert [b["properties"]["tool"]["const"] for b in schema["anyOf"]] == [
        "highlight", "paper_search", "word_count"
    ]
    _strings_and_arrays_bounded(schema)
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate({"tool": "word_count", "arguments": {"text": "x"}})
    validator.validate(
        {"tool": "highlight", "arguments": {"text": "abc", "spans": [{"start": 0, "end": 1}]}}
    )
    invalid = [
        {"tool": "no_such_tool", "arguments": {"text": "x"}},
        {"tool": "word_count", "arguments": {"query": "x"}},
        {"tool": "paper_search", "arguments": {"query": "x", "k": 9}},
        {"tool": "word_count", "arguments": {"text": "x" * (MAX_STRING_CHARS + 1)}},
        {"tool": "highlight", "arguments": {"text": "a", "spans": [{"start": 0, "end": 1}] * 21}},
        {"tool": "word_count"},
        {"tool": "word_count", "arguments": {"text": "x"}, "extra": 1},
    ]
    for call in invalid:
        assert not validator.is_valid(call), call
    only = reg.call_schema(["word_count"])
    assert only["properties"]["tool"] == {"const": "word_count"}


def test_bounded_schema_keeps_tighter_limits_and_inlines_refs() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "q": {"type": "string", "maxLength": 40},
            "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}, "maxItems": 3},
            "free": {"type": "array"},
        },
        "$defs": {"Tag": {"type": "string"}},
    }
    bounded = bounded_schema(schema)
    assert bounded["properties"]["q"]["maxLength"] == 40
    assert bounded["properties"]["tags"]["maxItems"] == 3
    assert bounded["properties"]["tags"]["items"] == {"type": "string", "maxLength": MAX_STRING_CHARS}
    assert bounded["properties"]["free"]["items"]["maxLength"] == MAX_STRING_CHARS
    assert "$defs" not in bounded
    assert schema["properties"]["free"] == {"type": "array"}  # the tool's own schema is untouched


async def test_invalid_arguments_and_unknown_tool_become_outcomes() -> None:
    events: list[dict[str, Any]] = []
    reg = ToolRegistry(on_event=events.append)
    reg.register(word_count)
    bad = await reg.call("word_count", {"txt": "oops"})
    assert not bad.ok and bad.output == ""
    assert "word_count" in (bad.error or "") and bad.error and bad.error.endswith(".")
    unknown = await reg.call("nope", {})
    assert not unknown.ok and "no tool named 'nope'" in (unknown.error or "")
    assert "word_count" in (unknown.error or "")
    assert [e["ok"] for e in events] == [False, False]
    assert events[0]["arguments"] == {"txt": "oops"}


async def test_failure_becomes_observation_and_every_call_is_an_event() -> None:
    events: list[dict[str, Any]] = []

    def explode(reason: str) -> str:
        """Always fails."""
        raise RuntimeError(f"backend down: {reason}")

    reg = ToolRegistry(on_event=events.append)
    reg.register(explode, "plugin:boom 0.0.1")
    reg.register(word_count)
    failed = await reg.call("explode", {"reason": "maintenance"})
    assert not failed.ok
    assert failed.error == (
        "Tool explode failed (RuntimeError: backend down: maintenance); try other arguments."
    )
    assert failed.observation().startswith("Tool explode failed")
    ok = await reg.call("word_count", {"text": "one two"})
    assert ok.ok
    assert [(e["type"], e["tool"], e["ok"]) for e in events] == [
        ("tool_call", "explode", False),
        ("tool_call", "word_count", True),
    ]
    assert events[0]["origin"] == "plugin:boom 0.0.1"
    assert events[1]["arguments"] == {"text": "one two"} and events[1]["duration_s"] >= 0
    assert events[1]["output"] == "2"


async def test_hanging_tools_time_out_and_the_registry_goes_on() -> None:
    release = threading.Event()

    async def hang_async(query: str) -> str:
        """Never answers."""
        await asyncio.sleep(3600)
        return query

    def hang_blocking(query: str) -> str:
        """Blocks its thread until released."""
        release.wait(3600)
        return query

    reg = ToolRegistry(default_timeout_s=0.2)
    for fn in (hang_async, hang_blocking, word_count):
        reg.register(fn)
    for name in ("hang_async", "hang_blocking"):
        outcome = await reg.call(name, {"query": "q"}, timeout_s=0.1)
        assert not outcome.ok
        assert outcome.error == f"Tool {name} timed out after 0.1 s; try other arguments or another tool."
    assert (await reg.call("hang_async", {"query": "q"})).error.startswith(  # type: ignore[union-attr]
        "Tool hang_async timed out after 0.2 s"
    )
    assert (await reg.call("word_count", {"text": "still works"})).output == "2"
    release.set()


def test_tool_objects_and_bad_names() -> None:
    async def call(arguments: dict[str, Any]) -> str:
        return "pong"

    reg = ToolRegistry()
    reg.register(Tool("ping", "Answer pong.", {"type": "object", "properties": {}}, call))
    assert reg.call_sync("ping", {}).output == "pong"
    with pytest.raises(PluginError, match="not usable"):
        reg.register(Tool("bad name!", "x", {"type": "object"}, call))
    with pytest.raises(PluginError, match="invalid argument schema"):
        reg.register(Tool("broken", "x", {"type": "object", "properties": {"a": {"type": 5}}}, call))
    with pytest.raises(PluginError, match="no tool named"):
        reg.get("pong")


def test_event_sink_failure_does_not_break_calls() -> None:
    seen: list[str] = []

    def sink(event: dict[str, Any]) -> None:
        seen.append(event["type"])
        raise OSError("disk full")

    reg = ToolRegistry(on_event=sink)
    reg.register(word_count)
    outcome = reg.call_sync("word_count", {"text": "a b"})
    assert outcome.ok and outcome.output == "2"
    assert seen == ["tool_call"]


def test_unusable_signatures_and_schemas_are_clear_errors() -> None:
    reg = ToolRegistry()

    def star(*queries: str) -> str:
        """Takes *args."""
        return ""

    def opaque(sock: socket.socket) -> str:
        """Takes a socket."""
        return ""

    with pytest.raises(PluginError, match=r"takes \*args or \*\*kwargs"):
        reg.register(star)
    with pytest.raises(PluginError, match="not JSON"):
        reg.register(opaque)
    recursive = {"type": "object", "properties": {"node": {"$ref": "#/$defs/N"}},
                 "$defs": {"N": {"type": "object", "properties": {"child": {"$ref": "#/$defs/N"}}}}}
    with pytest.raises(PluginError, match="recursive"):
        bounded_schema(recursive)
    with pytest.raises(PluginError, match="does not define"):
        bounded_schema({"type": "object", "properties": {"x": {"$ref": "#/$defs/Missing"}}})
    assert len(reg) == 0


async def test_outputs_are_normalized_to_text_or_results() -> None:
    def numbers(n: int) -> list[int]:
        """A list that is not search results."""
        return list(range(n))

    def nothing() -> None:
        """Returns nothing."""

    def empty() -> list[dict[str, str]]:
        """No results."""
        return []

    reg = ToolRegistry()
    for fn in (numbers, nothing, empty):
        reg.register(fn)
    assert (await reg.call("numbers", {"n": 3})).output == "[0, 1, 2]"
    assert (await reg.call("nothing", {})).output == ""
    found = await reg.call("empty", {})
    assert found.ok and found.output == [] and found.observation() == "(no results)"
