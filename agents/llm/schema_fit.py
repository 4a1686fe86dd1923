"""Schemas that fit the answer budget: the longest answer a schema allows is kept under ``max_tokens``.

A grammar-constrained model stops when the grammar says the answer is complete, not when it runs out
of words. A schema that allows eight findings of 300 characters each lets a small model write all
eight, and at ``max_tokens = 192`` its answer is cut off mid-string: invalid JSON, a retry that is
cut off the same way, and two wasted calls. ``fit_schema`` shrinks a schema's bounds until its
longest valid answer fits the token budget, so an answer always ends inside it:

- the estimate (``longest_tokens``) charges string contents at ``CHARS_PER_TOKEN`` characters a token,
  literals (keys, enum values such as chunk ids) at ``LITERAL_CHARS_PER_TOKEN`` and every separator a
  token of punctuation plus one of whitespace — what a small model's pretty-printed JSON costs;
- it shrinks in three phases, each step taking the one reduction that saves the most: first strings
  down to a sentence (``SENTENCE`` characters, by a fifth a step) and citation lists (arrays of
  enum ids) down to one id; then lists of anything down to their ``minItems`` (at least one) and
  strings down to ``SOFT_FLOOR``; last, strings down to ``HARD_FLOOR``. No bound goes below the
  schema's ``minLength``/``minItems``;
- minimums are never crossed: a schema that cannot fit is returned as small as it can be.

The input is never modified. Bounds the schema leaves open take the grammar's defaults.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from agents.llm.grammar import DEFAULT_MAX_ITEMS, DEFAULT_MAX_STRING

CHARS_PER_TOKEN = 3.0  # free text, JSON-escaped
LITERAL_CHARS_PER_TOKEN = 2.0  # keys and enum values: ids (hex) tokenize worst
SEPARATOR_TOKENS = 2  # "," or ":" or a bracket, and the whitespace after it
SENTENCE = 160  # characters: strings shrink to a sentence, citation lists to one id, before lists do
SOFT_FLOOR = 60  # characters: a string is not cut below a short sentence while a list can shrink
HARD_FLOOR = 12
_MAX_STEPS = 400
_MAPS = ("properties", "$defs", "definitions", "patternProperties")


def _literal(value: Any) -> float:
    return len(json.dumps(value, ensure_ascii=False)) / LITERAL_CHARS_PER_TOKEN


class _Estimator:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root

    def resolve(self, ref: str) -> Any:
        target: Any = self.root
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                return {}
            target = target[part]
        return target

    def tokens(self, node: Any, depth: int = 0) -> float:
        if depth > 32 or not isinstance(node, dict) or not node:
            return 64.0  # any value (or a recursive schema): a modest allowance
        if "$ref" in node:
            return self.tokens(self.resolve(str(node["$ref"])), depth + 1)
        if "const" in node:
            return _literal(node["const"])
        if "enum" in node:
            return max((_literal(v) for v in node["enum"]), default=1.0)
        for key in ("anyOf", "oneOf"):
            if key in node:
                return max((self.tokens(o, depth + 1) for o in node[key]), default=1.0)
        if "allOf" in node and len(node["allOf"]) == 1:
            return self.tokens(node["allOf"][0], depth + 1)
        kind = node.get("type")
        if isinstance(kind, list):
            return max((self.tokens({**node, "type": k}, depth + 1) for k in kind), default=1.0)
        if kind is None:
            kind = "object" if "properties" in node else "array" if "items" in node else None
        if kind == "string":
            return 1 + int(node.get("maxLength", DEFAULT_MAX_STRING)) / CHARS_PER_TOKEN
        if kind == "array":
            item = self.tokens(node.get("items", {}), depth + 1)
            return SEPARATOR_TOKENS + int(node.get("maxItems", DEFAULT_MAX_ITEMS)) * (item + SEPARATOR_TOKENS)
        if kind == "object":
            props: dict[str, Any] = node.get("properties") or {}
            total = float(SEPARATOR_TOKENS)
            for name, sub in props.items():
                total += _literal(name) + SEPARATOR_TOKENS + self.tokens(sub, depth + 1)
            return total
        return 6.0  # numbers, booleans, null


def longest_tokens(schema: dict[str, Any]) -> float:
    """An estimate of the tokens in the longest answer ``schema`` allows (see the module docstring)."""
    return _Estimator(schema).tokens(schema)


def _bounded(schema: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The schema's array and string nodes (each once, refs followed), which ``fit_schema`` may shrink."""
    arrays: list[dict[str, Any]] = []
    strings: list[dict[str, Any]] = []
    seen: set[int] = set()

    def walk(node: Any) -> None:
        if not isinstance(node, dict) or id(node) in seen:
            return
        seen.add(id(node))
        kind = node.get("type")
        if kind == "array" or (kind is None and "items" in node):
            arrays.append(node)
        elif kind == "string" and "enum" not in node and "const" not in node:
            strings.append(node)
        for key, value in node.items():
            if key in _MAPS and isinstance(value, dict):  # name -> schema: the names are not schemas
                for sub in value.values():
                    walk(sub)
            elif isinstance(value, dict):
                walk(value)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

    walk(schema)
    return arrays, strings


def _is_id_list(node: dict[str, Any]) -> bool:
    items = node.get("items")
    return isinstance(items, dict) and ("enum" in items or "const" in items)


def _reductions(
    arrays: list[dict[str, Any]], strings: list[dict[str, Any]], floor: int, items: bool
) -> list[tuple[dict[str, Any], str, int]]:
    """Every one-step reduction allowed in a phase: strings down to ``floor``; lists of ids (citations)
    down to one; other lists only when ``items``."""
    out: list[tuple[dict[str, Any], str, int]] = []
    for node in arrays:
        high = int(node.get("maxItems", DEFAULT_MAX_ITEMS))
        low = max(1, int(node.get("minItems", 0)))
        if high > low and (items or _is_id_list(node)):
            out.append((node, "maxItems", high - 1))
    for node in strings:
        high = int(node.get("maxLength", DEFAULT_MAX_STRING))
        low = max(int(node.get("minLength", 0)), min(floor, high))
        if high > low:
            out.append((node, "maxLength", max(low, int(high * 0.8))))
    return out


def fit_schema(schema: dict[str, Any], max_tokens: int) -> dict[str, Any]:
    """``schema`` itself when it fits ``max_tokens``, else a copy with its bounds shrunk until it does."""
    if longest_tokens(schema) <= max_tokens:
        return schema
    fitted = copy.deepcopy(schema)
    arrays, strings = _bounded(fitted)
    current = longest_tokens(fitted)
    for floor, items in ((SENTENCE, False), (SOFT_FLOOR, True), (HARD_FLOOR, True)):
        for _ in range(_MAX_STEPS):
            if current <= max_tokens:
                return fitted
            best: tuple[float, dict[str, Any], str, int] | None = None
            for node, key, value in _reductions(arrays, strings, floor, items):
                old = node.get(key)
                node[key] = value
                after = longest_tokens(fitted)
                if old is None:
                    del node[key]
                else:
                    node[key] = old
                if best is None or after < best[0]:
                    best = (after, node, key, value)
            if best is None:
                break
            current, node, key, value = best
            node[key] = value
    return fitted
