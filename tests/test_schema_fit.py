"""Schemas fitted to the answer budget (``agents.llm.schema_fit``)."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, Field

from agents.drafter import answer_schema
from agents.llm.schema_fit import HARD_FLOOR, fit_schema, longest_tokens
from agents.llm.structured import json_schema
from agents.searcher import findings_schema

IDS = [f"{i:016x}" for i in range(8)]


def _findings_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "findings": {
                "type": "array",
                "minItems": 0,
                "maxItems": 8,
                "items": {
                    "type": "object",
                    "properties": {
                        "text": {"type": "string", "minLength": 20, "maxLength": 300},
                        "chunk_ids": {"type": "array", "minItems": 1, "maxItems": 4, "items": {"enum": IDS}},
                    },
                    "required": ["text", "chunk_ids"],
                },
            }
        },
        "required": ["findings"],
    }


def test_a_schema_that_fits_already_is_returned_as_it_is() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 20}}, "required": ["a"]}
    assert fit_schema(schema, 512) is schema


def test_the_longest_answer_of_a_fitted_schema_ends_inside_the_budget() -> None:
    schema = _findings_schema()
    before = copy.deepcopy(schema)
    assert longest_tokens(schema) > 192
    fitted = fit_schema(schema, 192)
    assert schema == before  # the caller's schema is never modified
    assert longest_tokens(fitted) <= 192
    findings = fitted["properties"]["findings"]
    item = findings["items"]["properties"]
    assert item["text"]["maxLength"] >= 20  # never below the schema's own minimum
    assert item["chunk_ids"]["maxItems"] >= 1 and findings["maxItems"] >= 1
    # citations shrink before the findings themselves are cut to fragments
    assert item["chunk_ids"]["maxItems"] == 1 and item["text"]["maxLength"] >= 60


def test_a_larger_budget_allows_a_larger_answer() -> None:
    small, large = fit_schema(_findings_schema(), 128), fit_schema(_findings_schema(), 512)
    assert longest_tokens(small) <= 128 < longest_tokens(large) <= 512


def test_minimums_are_never_crossed_even_when_the_budget_cannot_be_met() -> None:
    schema = {"type": "object", "properties": {
        "a": {"type": "string", "minLength": 90, "maxLength": 300},
        "b": {"type": "array", "minItems": 3, "maxItems": 9, "items": {"type": "string", "maxLength": 50}},
    }, "required": ["a", "b"]}
    fitted = fit_schema(schema, 10)
    props = fitted["properties"]
    assert props["a"]["maxLength"] == 90 and props["b"]["minItems"] == 3 and props["b"]["maxItems"] == 3
    assert props["b"]["items"]["maxLength"] == HARD_FLOOR


class Item(BaseModel):
    text: str = Field(max_length=300)


class Many(BaseModel):
    items: list[Item] = Field(min_length=1, max_length=8)


def test_pydantic_schemas_with_refs_are_fitted_through_their_definitions() -> None:
    spec = json_schema(Many)
    assert "$defs" in spec and longest_tokens(spec) > 160
    fitted = fit_schema(spec, 160)
    assert longest_tokens(fitted) <= 160
    assert fitted["$defs"]["Item"]["properties"]["text"]["maxLength"] < 300


def test_the_findings_schema_fits_with_its_citations_and_link_choice() -> None:
    spec = findings_schema(IDS, 3, 300)
    fitted = fit_schema(spec, 192)
    assert longest_tokens(fitted) <= 192
    assert fitted["properties"]["follow"] == spec["properties"]["follow"]  # enums are not bounds


def test_the_answer_schema_fits_the_default_budget_with_its_answer_and_one_sentence() -> None:
    fitted = fit_schema(answer_schema(IDS, 300), 256)
    assert longest_tokens(fitted) <= 256
    props = fitted["properties"]
    assert props["answer"]["maxLength"] >= 12 and props["sentences"]["maxItems"] >= 1
