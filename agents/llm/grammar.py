"""JSON schema → GBNF grammar for llama.cpp's constrained decoding.

Guarantees of the grammar ``schema_to_gbnf`` returns, for the schema features it supports
(object properties with ``required``, ``additionalProperties`` maps, arrays with ``items`` and
``minItems``/``maxItems``, strings with ``minLength``/``maxLength``, ``enum``, ``const``, ``anyOf``,
``oneOf``, single ``allOf``, ``$ref`` into ``$defs``/``definitions``, type lists, integers, numbers,
booleans, null, and the empty schema):

- every text it accepts is strict JSON: string contents never hold a raw control character
  (U+0000–U+001F) or DEL, escapes are JSON escapes, and ``\\u`` escapes never name a surrogate;
- every string and array is bounded (the schema's bound, else ``max_string``/``max_items``), numbers
  have bounded digits and whitespace is bounded, so a constrained answer always ends;
- small integer ranges (``minimum``..``maximum``, at most 256 values) are enforced exactly.
Other keywords (``pattern``, ``format``, numeric ranges beyond that) are left to validation.
"""

from __future__ import annotations

import json
import re
from typing import Any

DEFAULT_MAX_STRING = 2000
DEFAULT_MAX_ITEMS = 64
HARD_MAX_STRING = 32768
_SMALL_INT_RANGE = 256

_PRIMITIVES: dict[str, str] = {
    "ws": '| " " | "\\n" [ ]{0,20}',
    # Any code point but the quote, the backslash, C0 controls and DEL; or a JSON escape whose
    # \u form cannot name a UTF-16 surrogate (D800–DFFF) — lone surrogates break UTF-8 later.
    "char": ('[^"\\\\\\x00-\\x1F\\x7F] | "\\\\" (["\\\\/bfnrt] | "u" hexnosur hex hex hex | "u" [dD] [0-7] hex hex)'),
    "hex": "[0-9a-fA-F]",
    "hexnosur": "[0-9a-cA-CefEF]",
    "integer": '"-"? ("0" | [1-9] [0-9]{0,15})',
    "number": 'integer ("." [0-9]{1,15})? ([eE] [-+]? [0-9]{1,3})?',
    "boolean": '"true" | "false"',
    "null": '"null"',
}
_USES = {"char": ["hex", "hexnosur"], "number": ["integer"]}


class GrammarError(ValueError):
    """The schema uses something the grammar cannot express (an unknown ``$ref``, say)."""


def gbnf_literal(text: str) -> str:
    """``text`` as a GBNF string literal (quoted, escaped)."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _json_literal(value: Any) -> str:
    return gbnf_literal(json.dumps(value, ensure_ascii=False, separators=(", ", ": ")))


class _Builder:
    def __init__(self, root: dict[str, Any], max_string: int, max_items: int) -> None:
        self.root = root
        self.max_string = max_string
        self.max_items = max_items
        self.rules: dict[str, str] = {}
        self._by_body: dict[str, str] = {}
        self._refs: dict[str, str] = {}

    def primitive(self, name: str) -> str:
        if name not in self.rules:
            self.rules[name] = _PRIMITIVES[name]
            for dep in _USES.get(name, []):
                self.primitive(dep)
        return name

    def rule(self, hint: str, body: str) -> str:
        if body in self._by_body:
            return self._by_body[body]
        base = re.sub(r"[^a-zA-Z0-9]+", "-", hint).strip("-").lower() or "r"
        name, n = base, 1
        while name in self.rules or name in _PRIMITIVES or name == "root":
            n += 1
            name = f"{base}-{n}"
        self.rules[name] = body
        self._by_body[body] = name
        return name

    def ref(self, ref: str) -> str:
        if ref in self._refs:
            return self._refs[ref]
        if not ref.startswith("#/"):
            raise GrammarError(f"Only local $ref values are supported, not {ref!r}.")
        target: Any = self.root
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                raise GrammarError(f"The schema's $ref {ref!r} points nowhere.")
            target = target[part]
        name = re.sub(r"[^a-zA-Z0-9]+", "-", ref.rsplit("/", 1)[-1]).strip("-").lower() or "ref"
        name = f"ref-{name}"
        while name in self.rules:
            name += "-x"
        self._refs[ref] = name
        self.rules[name] = ""  # reserve: recursive schemas refer to it while it is built
        self.rules[name] = self.visit(target, name)
        return name

    def visit(self, node: Any, hint: str) -> str:
        """A GBNF expression for ``node`` (a rule name or an inline alternation)."""
        if node is True or node == {} or node is None:
            return self.any_value()
        if not isinstance(node, dict):
            raise GrammarError(f"Schema node {node!r} is not an object.")
        if "$ref" in node:
            return self.ref(str(node["$ref"]))
        if "const" in node:
            return _json_literal(node["const"])
        if "enum" in node:
            return "(" + " | ".join(_json_literal(v) for v in node["enum"]) + ")"
        for key in ("anyOf", "oneOf"):
            if key in node:
                options = [self.visit(o, f"{hint}-{i}") for i, o in enumerate(node[key])]
                return "(" + " | ".join(options) + ")"
        if "allOf" in node:
            return self.visit(_merge_all_of(node["allOf"], self), hint)
        kind = node.get("type")
        if isinstance(kind, list):
            options = [self.visit({**node, "type": k}, f"{hint}-{k}") for k in kind]
            return "(" + " | ".join(options) + ")"
        if kind is None:
            kind = "object" if "properties" in node else "array" if "items" in node else None
        if kind is None:
            return self.any_value()
        builder = getattr(self, f"type_{kind}", None)
        if builder is None:
            raise GrammarError(f"Unknown JSON schema type {kind!r}.")
        result: str = builder(node, hint)
        return result

    def type_string(self, node: dict[str, Any], hint: str) -> str:
        low = max(0, int(node.get("minLength", 0)))
        high = min(int(node.get("maxLength", self.max_string)), HARD_MAX_STRING)
        high = max(high, low)
        char = self.primitive("char")
        return self.rule(f"string-{low}-{high}", f'"\\"" {char}{{{low},{high}}} "\\""')

    def type_integer(self, node: dict[str, Any], hint: str) -> str:
        low, high = _int_bounds(node)
        if low is not None and high is not None and 0 <= high - low <= _SMALL_INT_RANGE:
            return self.rule(f"int-{low}-{high}", " | ".join(f'"{v}"' for v in range(low, high + 1)))
        if low is not None and low >= 0:
            return self.rule("natural", '"0" | [1-9] [0-9]{0,15}')
        return self.primitive("integer")

    def type_number(self, node: dict[str, Any], hint: str) -> str:
        return self.primitive("number")

    def type_boolean(self, node: dict[str, Any], hint: str) -> str:
        return self.primitive("boolean")

    def type_null(self, node: dict[str, Any], hint: str) -> str:
        return self.primitive("null")

    def type_array(self, node: dict[str, Any], hint: str) -> str:
        item = self.visit(node.get("items", {}), f"{hint}-item")
        low = max(0, int(node.get("minItems", 0)))
        high = max(low, min(int(node.get("maxItems", self.max_items)), 4096))
        ws = self.primitive("ws")
        if high == 0:
            return self.rule(f"{hint}-empty", f'"[" {ws} "]"')
        more = f'("," {ws} {item}){{{max(low - 1, 0)},{high - 1}}}'
        body = f"{item} {more}"
        if low == 0:
            body = f"({body})?"
        return self.rule(hint, f'"[" {ws} {body} {ws} "]"')

    def type_object(self, node: dict[str, Any], hint: str) -> str:
        ws = self.primitive("ws")
        props: dict[str, Any] = node.get("properties") or {}
        if not props:
            extra = node.get("additionalProperties", True)
            if extra is False:
                return self.rule(f"{hint}-empty", f'"{{" {ws} "}}"')
            value = self.visit({} if extra is True else extra, f"{hint}-value")
            key = self.type_string({"maxLength": 200}, "key")
            pair = self.rule(f"{hint}-pair", f'{key} ":" {ws} {value}')
            high = max(1, min(int(node.get("maxProperties", self.max_items)), 4096))
            return self.rule(hint, f'"{{" {ws} ({pair} ("," {ws} {pair}){{0,{high - 1}}})? {ws} "}}"')
        required = [p for p in props if p in set(node.get("required", []))]
        optional = [p for p in props if p not in required]
        pairs = {p: self.rule(f"{hint}-{p}-kv", self._pair(p, props[p], f"{hint}-{p}")) for p in props}
        if required:
            body = f' "," {ws} '.join(pairs[p] for p in required)
            body += "".join(f' ("," {ws} {pairs[p]})?' for p in optional)
        else:
            starts = []
            for i, first in enumerate(optional):
                rest = "".join(f' ("," {ws} {pairs[p]})?' for p in optional[i + 1 :])
                starts.append(f"{pairs[first]}{rest}")
            body = "(" + " | ".join(starts) + ")?"
        return self.rule(hint, f'"{{" {ws} {body} {ws} "}}"')

    def _pair(self, name: str, schema: Any, hint: str) -> str:
        ws = self.primitive("ws")
        return f'{_json_literal(name)} ":" {ws} {self.visit(schema, hint)}'

    def any_value(self) -> str:
        if "value" in self.rules:
            return "value"
        self.rules["value"] = ""
        ws = self.primitive("ws")
        string = self.type_string({}, "string")
        pair = self.rule("any-pair", f'{self.type_string({"maxLength": 200}, "key")} ":" {ws} value')
        n = self.max_items - 1
        obj = self.rule("any-object", f'"{{" {ws} ({pair} ("," {ws} {pair}){{0,{n}}})? {ws} "}}"')
        arr = self.rule("any-array", f'"[" {ws} (value ("," {ws} value){{0,{n}}})? {ws} "]"')
        parts = [obj, arr, string, self.primitive("number"), self.primitive("boolean"), self.primitive("null")]
        self.rules["value"] = " | ".join(parts)
        return "value"


def _int_bounds(node: dict[str, Any]) -> tuple[int | None, int | None]:
    low = node.get("minimum")
    if "exclusiveMinimum" in node:
        low = int(node["exclusiveMinimum"]) + 1
    high = node.get("maximum")
    if "exclusiveMaximum" in node:
        high = int(node["exclusiveMaximum"]) - 1
    return (None if low is None else int(low)), (None if high is None else int(high))


def _merge_all_of(parts: list[Any], builder: _Builder) -> dict[str, Any]:
    if len(parts) == 1:
        return dict(parts[0])
    merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    for part in parts:
        if isinstance(part, dict) and "$ref" in part:
            target: Any = builder.root
            for key in str(part["$ref"])[2:].split("/"):
                target = target[key]
            part = target
        merged["properties"].update(part.get("properties", {}))
        merged["required"].extend(part.get("required", []))
    return merged


def schema_to_gbnf(
    schema: dict[str, Any], *, max_string: int = DEFAULT_MAX_STRING, max_items: int = DEFAULT_MAX_ITEMS
) -> str:
    """A GBNF grammar (root rule ``root``) accepting strict JSON valid for ``schema``'s shape."""
    builder = _Builder(schema, max_string=max_string, max_items=max_items)
    top = builder.visit(schema, "root-value")
    lines = [f"root ::= {top}"]
    lines += [f"{name} ::= {body}" for name, body in builder.rules.items()]
    return "\n".join(lines) + "\n"
