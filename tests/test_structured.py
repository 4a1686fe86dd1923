"""The structured-output helper and the JSON-schema grammar.

The grammar tests run llama.cpp's own grammar engine on the tiny model's byte vocabulary, one
byte token at a time, so they check exactly what decoding will allow.
"""

from __future__ import annotations

import ctypes
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np
import pytest
from llama_cpp import Llama
from llama_cpp.llama_grammar import json_schema_to_gbnf
from pydantic import BaseModel, Field

from agents.llm.grammar import GrammarError, gbnf_literal, schema_to_gbnf
from agents.llm.structured import Generation, InvalidAnswer, generate_structured, validate_answer
from tests.gguf_factory import SPECIALS


class Note(BaseModel):
    text: str = Field(max_length=8)


@pytest.fixture(scope="module")
def vocab_model(tiny_gguf: Path) -> Iterator[Llama]:
    llama = Llama(str(tiny_gguf), n_ctx=256, verbose=False)
    yield llama
    llama.close()


def _accepts(llama: Llama, gbnf: str, text: bytes) -> bool:
    """Whether the grammar accepts ``text`` as a prefix, fed as byte tokens."""
    grammar = llama_cpp.llama_sampler_init_grammar(llama._model.vocab, gbnf.encode(), b"root")
    assert grammar, "llama.cpp rejected the grammar"
    one = (llama_cpp.llama_token_data * 1)()
    array = llama_cpp.llama_token_data_array(data=one, size=1, selected=-1, sorted=False)
    try:
        for byte in text:
            token = len(SPECIALS) + byte  # the factory puts <0x00>..<0xFF> right after the specials
            one[0].id, one[0].logit, array.size = token, 0.0, 1  # type: ignore[assignment]
            llama_cpp.llama_sampler_apply(grammar, ctypes.byref(array))
            if not np.isfinite(one[0].logit):
                return False
            llama_cpp.llama_sampler_accept(grammar, token)
        return True
    finally:
        llama_cpp.llama_sampler_free(grammar)


def test_our_strings_refuse_raw_control_characters_unlike_llama_cpp_python(vocab_model: Llama) -> None:
    schema = {"type": "object", "properties": {"t": {"type": "string"}}, "required": ["t"]}
    ours, theirs = schema_to_gbnf(schema), json_schema_to_gbnf(json.dumps(schema))
    raw_tab = b'{"t": "a\tb"}'
    assert _accepts(vocab_model, theirs, raw_tab)  # the 0.3.x trap: not strict JSON
    assert not _accepts(vocab_model, ours, raw_tab)
    for control in (b"\x00", b"\n", b"\x1f", b"\x7f"):
        assert not _accepts(vocab_model, ours, b'{"t": "a' + control)
    assert _accepts(vocab_model, ours, b'{"t": "a\\tb \\u00e9 \xc3\xa9"}')
    assert not _accepts(vocab_model, ours, b'{"t": "\\ud800')  # no lone surrogates


def test_bounds_enums_and_small_integer_ranges_are_enforced(vocab_model: Llama) -> None:
    schema = {
        "type": "object",
        "properties": {
            "s": {"type": "string", "minLength": 2, "maxLength": 3},
            "k": {"enum": ["x", "y"]},
            "n": {"type": "integer", "minimum": 1, "maximum": 3},
            "a": {"type": "array", "items": {"type": "boolean"}, "maxItems": 2},
        },
        "required": ["s", "k", "n", "a"],
    }
    gbnf = schema_to_gbnf(schema)
    assert _accepts(vocab_model, gbnf, b'{"s": "ab", "k": "y", "n": 3, "a": [true, false]}')
    assert not _accepts(vocab_model, gbnf, b'{"s": "a"')
    assert not _accepts(vocab_model, gbnf, b'{"s": "abcd')
    assert not _accepts(vocab_model, gbnf, b'{"s": "ab", "k": "z')
    assert not _accepts(vocab_model, gbnf, b'{"s": "ab", "k": "x", "n": 4')
    assert not _accepts(vocab_model, gbnf, b'{"s": "ab", "k": "x", "n": 1, "a": [true, true, true')


def test_unbounded_strings_and_arrays_get_the_default_caps(vocab_model: Llama) -> None:
    gbnf = schema_to_gbnf({"type": "array", "items": {"type": "string"}}, max_string=4, max_items=2)
    assert _accepts(vocab_model, gbnf, b'["abcd", "x"]')
    assert not _accepts(vocab_model, gbnf, b'["abcde')
    assert not _accepts(vocab_model, gbnf, b'["a", "b", "c')


def test_tool_union_with_const_and_recursive_refs(vocab_model: Llama) -> None:
    union = {
        "oneOf": [
            {"type": "object", "properties": {"tool": {"const": "search"}, "arguments": {"type": "object",
             "properties": {"q": {"type": "string", "maxLength": 5}}, "required": ["q"]}},
             "required": ["tool", "arguments"]},
            {"type": "object", "properties": {"tool": {"const": "fetch"}, "arguments": {"type": "object",
             "properties": {"url": {"type": "string", "maxLength": 9}}, "required": ["url"]}},
             "required": ["tool", "arguments"]},
        ]
    }  # fmt: skip
    gbnf = schema_to_gbnf(union)
    assert _accepts(vocab_model, gbnf, b'{"tool": "fetch", "arguments": {"url": "http://x"}}')
    assert not _accepts(vocab_model, gbnf, b'{"tool": "fetch", "arguments": {"q"')
    assert not _accepts(vocab_model, gbnf, b'{"tool": "delete"')

    class Tree(BaseModel):
        name: str = Field(max_length=4)
        children: list[Tree] = Field(default_factory=list, max_length=2)

    tree = schema_to_gbnf(Tree.model_json_schema())
    assert _accepts(vocab_model, tree, b'{"name": "a", "children": [{"name": "b", "children": []}]}')
    with pytest.raises(GrammarError, match="points nowhere"):
        schema_to_gbnf({"$ref": "#/$defs/Missing"})


def test_optional_properties_may_be_left_out_in_order(vocab_model: Llama) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "null"}, "b": {"type": "boolean"}}}
    gbnf = schema_to_gbnf(schema)
    for text in (b"{}", b'{"b": true}', b'{"a": null, "b": false}'):
        assert _accepts(vocab_model, gbnf, text)
    assert not _accepts(vocab_model, gbnf, b'{"b": true, "a"')


def test_gbnf_literal_escapes() -> None:
    assert gbnf_literal('a"b\\c\n\x01') == '"a\\"b\\\\c\\n\\x01"'


def test_validation_is_strict() -> None:
    assert validate_answer('{"text": "ok"}', Note) == Note(text="ok")
    assert validate_answer('```json\n{"text": "ok"}\n```', Note) == Note(text="ok")
    for bad in ('{"text": "a\tb"}', '{"text": "ok"} trailing', "{'text': 'ok'}", '{"text": "too long!!"}'):
        with pytest.raises(InvalidAnswer):
            validate_answer(bad, Note)
    with pytest.raises(InvalidAnswer, match="JSON object"):
        validate_answer("[1]", {"type": "array"})


def test_a_cut_off_answer_says_so_in_the_retry() -> None:
    seen: list[list[dict[str, str]]] = []

    def generate(messages: Any, schema: Any, max_tokens: int) -> Generation:
        seen.append(list(messages))
        if len(seen) == 1:
            return Generation('{"text": "ab', 5, 16, finish_reason="length")
        return Generation('{"text": "ab"}', 5, 4)

    value, generations = generate_structured(generate, [{"role": "user", "content": "q"}], Note, 16)
    assert value == Note(text="ab") and len(generations) == 2
    assert "cut off at 16 tokens" in seen[1][-1]["content"]


class Long(BaseModel):
    items: list[Note]
    summary: str = Field(max_length=600)


def test_the_grammar_a_backend_sees_fits_the_budget_and_halves_after_a_cut_off_answer() -> None:
    from agents.llm.schema_fit import longest_tokens

    specs: list[dict[str, Any]] = []

    def generate(messages: Any, schema: Any, max_tokens: int) -> Generation:
        specs.append(schema)
        if len(specs) == 1:
            return Generation('{"items": [], "summary": "a', 5, 64, finish_reason="length")
        return Generation('{"items": [{"text": "ab"}], "summary": "' + "x" * 500 + '"}', 5, 60)

    value, _ = generate_structured(generate, [{"role": "user", "content": "q"}], Long, 64)
    assert longest_tokens(specs[0]) <= 64  # the first try's longest answer ends inside the budget
    retry = specs[1]["properties"]["summary"]["maxLength"]
    assert retry < specs[0]["properties"]["summary"]["maxLength"] and longest_tokens(specs[1]) < 40  # about half
    assert isinstance(value, Long) and len(value.summary) == 500  # validated against the caller's schema
