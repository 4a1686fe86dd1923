"""Turning Python callables and LangChain tools into tool parts, and bounding argument schemas.

Guarantees:

- A plain typed function with a docstring becomes ``(name, description, schema, call)``: the name
  from the function, the description from the docstring, the JSON schema from the signature through
  pydantic, and an async call that validates the arguments with the same pydantic model. Blocking
  functions run on a daemon thread, so a hung one can time out without holding the process.
- ``bounded_schema`` inlines ``$ref``s and gives every string without a ``maxLength`` one, every
  array without ``maxItems`` one, and every object with properties ``additionalProperties: false``:
  a grammar built from it admits only finitely long, valid arguments.
- ``normalize_output`` turns what a tool returned into text or a list of ``SearchResult`` (a list
  of mappings with a ``url`` counts as search results), so plugins need not import Quarry.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import json
import threading
import typing
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import pydantic

from tools.errors import PluginError
from tools.types import SearchResult

ToolOutput = str | list[SearchResult]
ToolCallable = Callable[[dict[str, Any]], Awaitable[Any]]

MAX_STRING_CHARS = 1000  # default maxLength for strings a tool's schema leaves unbounded
MAX_ARRAY_ITEMS = 20  # default maxItems for arrays a tool's schema leaves unbounded
MAX_OUTPUT_CHARS = 100_000  # text output beyond this is cut (it ends up in a prompt)
MAX_DESCRIPTION_CHARS = 2000
_MAX_REF_DEPTH = 16


def to_tool_parts(obj: Any, *, name: str | None, origin: str) -> tuple[str, str, dict[str, Any], ToolCallable]:
    """Name, description, argument schema and async call of a typed function or LangChain tool."""
    lc = _langchain_parts(obj, name)
    if lc is not None:
        return lc
    if not callable(obj):
        raise PluginError(
            f"{origin} registered {obj!r}, which is not a function or LangChain tool; register a typed function."
        )
    return _function_parts(obj, name=name, origin=origin)


def _function_parts(
    fn: Callable[..., Any], *, name: str | None, origin: str
) -> tuple[str, str, dict[str, Any], ToolCallable]:
    tool_name = str(name or getattr(fn, "__name__", ""))
    doc = inspect.getdoc(fn) or ""
    if not doc.strip():
        raise PluginError(f"The tool {tool_name!r} from {origin} has no docstring; add one saying what it does.")
    model = _arguments_model(fn, tool_name, origin)
    fields = list(model.model_fields)

    async def call(arguments: dict[str, Any]) -> Any:
        try:
            parsed = model.model_validate(arguments)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "arguments"
            raise ValueError(f"invalid argument {where}: {first['msg']}") from None
        kwargs = {key: getattr(parsed, key) for key in fields}
        if inspect.iscoroutinefunction(fn):
            return await fn(**kwargs)
        result = await _in_daemon_thread(fn, kwargs)
        return await result if inspect.isawaitable(result) else result

    return tool_name, doc.strip()[:MAX_DESCRIPTION_CHARS], model.model_json_schema(), call


def _arguments_model(fn: Callable[..., Any], tool_name: str, origin: str) -> type[pydantic.BaseModel]:
    try:
        signature = inspect.signature(fn)
        hints = typing.get_type_hints(fn, include_extras=True)
    except (TypeError, ValueError, NameError) as exc:
        raise PluginError(
            f"The signature of tool {tool_name!r} from {origin} cannot be read ({exc}); use plain type hints."
        ) from exc
    fields: dict[str, Any] = {}
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise PluginError(
                f"The tool {tool_name!r} from {origin} takes *args or **kwargs; name every argument."
            )
        if param.name not in hints:
            raise PluginError(
                f"The argument {param.name!r} of tool {tool_name!r} from {origin} has no type hint; add one."
            )
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (hints[param.name], default)
    config = pydantic.ConfigDict(extra="forbid", arbitrary_types_allowed=False)
    try:
        return pydantic.create_model(f"{tool_name}_arguments", __config__=config, **fields)
    except (TypeError, pydantic.PydanticSchemaGenerationError, pydantic.PydanticUserError) as exc:
        raise PluginError(
            f"The arguments of tool {tool_name!r} from {origin} have types that are not JSON ({exc}); "
            "use str, int, float, bool, lists, literals or pydantic models."
        ) from exc


async def _in_daemon_thread(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """Run a blocking function on a daemon thread: a hung one cannot keep the process alive."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def hand_over(ok: bool, value: Any) -> None:
        # RuntimeError: the loop closed while the call ran (it timed out), so nobody waits.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, ok, value)

    def work() -> None:
        try:
            value = fn(**kwargs)
        except BaseException as exc:  # noqa: BLE001  handed to the awaiting task, not swallowed
            hand_over(False, exc)
            return
        hand_over(True, value)

    threading.Thread(target=work, name=f"tool-{getattr(fn, '__name__', 'fn')}", daemon=True).start()
    return await future


def _langchain_parts(obj: Any, name: str | None) -> tuple[str, str, dict[str, Any], ToolCallable] | None:
    try:
        from langchain_core.tools import BaseTool
    except ImportError:  # langchain-core is optional for plugins; without it nothing is a BaseTool
        return None
    if not isinstance(obj, BaseTool):
        return None
    schema: Any = obj.tool_call_schema
    parameters = dict(schema) if isinstance(schema, dict) else dict(schema.model_json_schema())
    parameters.setdefault("type", "object")
    parameters.setdefault("properties", {})

    async def call(arguments: dict[str, Any]) -> Any:
        return await obj.ainvoke(arguments)

    description = (obj.description or "").strip()[:MAX_DESCRIPTION_CHARS]
    return name or obj.name, description, parameters, call


# -- schemas ------------------------------------------------------------------------------------


def bounded_schema(
    schema: Mapping[str, Any],
    *,
    max_string: int = MAX_STRING_CHARS,
    max_items: int = MAX_ARRAY_ITEMS,
) -> dict[str, Any]:
    """A copy of ``schema`` with refs inlined and every string, array and object bounded."""
    root = copy.deepcopy(dict(schema))
    defs = {**root.pop("definitions", {}), **root.pop("$defs", {})}
    inlined = _inline(root, defs, 0)
    _bound(inlined, max_string, max_items)
    if "type" not in inlined and not any(k in inlined for k in ("anyOf", "oneOf", "allOf", "$ref")):
        inlined["type"] = "object"
    return inlined


def _inline(node: Any, defs: dict[str, Any], depth: int) -> Any:
    if isinstance(node, list):
        return [_inline(item, defs, depth) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if depth >= _MAX_REF_DEPTH:
            raise PluginError("A tool's argument schema is recursive; give the tool non-recursive arguments.")
        key = ref.rsplit("/", 1)[-1]
        if key not in defs:
            raise PluginError(f"A tool's argument schema refers to {ref!r}, which it does not define.")
        merged = {**defs[key], **{k: v for k, v in node.items() if k != "$ref"}}
        return _inline(merged, defs, depth + 1)
    return {key: _inline(value, defs, depth) for key, value in node.items()}


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {k for k in kind if isinstance(k, str)}
    return set()


def _bound(node: Any, max_string: int, max_items: int) -> None:
    if isinstance(node, list):
        for item in node:
            _bound(item, max_string, max_items)
        return
    if not isinstance(node, dict):
        return
    kinds = _types(node)
    fixed = "enum" in node or "const" in node
    if "string" in kinds and not fixed:
        node.setdefault("maxLength", max_string)
    if "array" in kinds:
        node.setdefault("maxItems", max_items)
        node.setdefault("items", {"type": "string"})
    if "object" in kinds and "properties" in node and node.get("additionalProperties", True) is True:
        node["additionalProperties"] = False
    for key, value in node.items():
        if key in ("enum", "const", "default", "examples"):
            continue
        _bound(value, max_string, max_items)


# -- outputs ------------------------------------------------------------------------------------


def normalize_output(raw: Any, *, backend: str) -> ToolOutput:
    """Text or search results from whatever a tool returned (see the module docstring)."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        return _cap(raw)
    if isinstance(raw, bytes):
        return _cap(raw.decode("utf-8", errors="replace"))
    if isinstance(raw, SearchResult):
        return [raw]
    if isinstance(raw, (list, tuple)):
        results = _as_results(list(raw), backend)
        if results is not None:
            return results
    if isinstance(raw, pydantic.BaseModel):
        return _cap(raw.model_dump_json())
    content = getattr(raw, "content", None)  # a LangChain message or MCP-like result object
    if isinstance(content, str):
        return _cap(content)
    return _cap(json.dumps(raw, default=str, ensure_ascii=False))


def _as_results(items: list[Any], backend: str) -> list[SearchResult] | None:
    if not items:
        return []
    if all(isinstance(item, SearchResult) for item in items):
        return list(items)
    if not all(isinstance(item, Mapping) and isinstance(item.get("url"), str) for item in items):
        return None
    return [
        SearchResult(
            title=str(item.get("title") or item["url"]),
            url=item["url"],
            snippet=str(item.get("snippet") or item.get("summary") or ""),
            rank=index,
            backend=backend,
        )
        for index, item in enumerate(items, start=1)
    ]


def _cap(text: str) -> str:
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    return text[:MAX_OUTPUT_CHARS] + "\n…(output truncated)"
