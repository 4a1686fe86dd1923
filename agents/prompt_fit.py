"""Prompts that fit: the fixed part of a prompt plus as many ranked items as the model's context holds.

Guarantee: the messages ``pack`` returns, counted with the model's own token count (llama.cpp: its
tokenizer over the chat-template-rendered prompt; other backends: the seam's documented estimate),
leave room for the answer's ``max_tokens`` and ``PROMPT_MARGIN`` in the model's context. The rule:
the items of all groups are ranked into one list (round-robin over the groups in the order given,
or group after group), the longest prefix of that list that fits is kept, and the first item left
out is trimmed at a word boundary and kept too when at least ``MIN_TRIM_WORDS`` of it fit. So the
lowest-ranked items are the first out, and within a group the kept items are always its first ones.
When even the fixed part (or the first item of a ``required`` group) cannot fit, ``pack`` raises
``PromptTooLongError``; ``fit`` turns that into a ``model_error`` event and None, which a node treats
like a model that gave no answer (its floor).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import prompts
from agents.context import Rt, emit
from agents.errors import PromptTooLongError
from agents.llm import PROMPT_MARGIN, answer_tokens, context_tokens, count_tokens
from agents.llm.structured import Message

MIN_TRIM_WORDS = 8  # a trimmed item shorter than this says too little to be worth its tokens
ELLIPSIS = " …"
Order = Literal["interleave", "sequence"]
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Group:
    """One template variable of ranked items (best first) that may be cut to fit."""

    name: str
    items: Sequence[Any]
    field: str | None = "text"  # the text trimmed to fit (a str item is trimmed itself); None: never trimmed
    required: bool = False  # the prompt is useless without at least one item of this (non-empty) group


@dataclass(frozen=True)
class Packed:
    """A prompt that fits: its messages, the items each group kept, and what it costs."""

    messages: list[Message]
    kept: dict[str, list[Any]] = field(default_factory=dict)
    tokens: int = 0
    budget: int = 0
    dropped: int = 0  # items left out entirely
    trimmed: bool = False  # whether the last item kept was cut short

    def __getitem__(self, name: str) -> list[Any]:
        return self.kept[name]


def prompt_budget(model: Any, max_tokens: int | None = None, margin: int = PROMPT_MARGIN) -> int:
    """Prompt tokens ``model`` can take: its context minus the answer's ``max_tokens`` minus ``margin``."""
    return context_tokens(model) - answer_tokens(model, max_tokens) - margin


def ranking(groups: Sequence[Group], order: Order = "interleave") -> list[int]:
    """The group index of each item in rank order (round-robin or group after group)."""
    if order == "sequence":
        return [g for g, group in enumerate(groups) for _ in group.items]
    depth = max((len(group.items) for group in groups), default=0)
    return [g for i in range(depth) for g, group in enumerate(groups) if i < len(group.items)]


def trim_text(text: str, words: int) -> str:
    """The first ``words`` words of ``text`` (its own spacing kept), marked as cut."""
    ends = [m.end() for m in _WORD.finditer(text)]
    if words >= len(ends):
        return text
    return text[: ends[words - 1]] + ELLIPSIS if words > 0 else ""


def _trimmed(item: Any, key: str | None, words: int) -> Any:
    if isinstance(item, str):
        return trim_text(item, words)
    return {**item, str(key): trim_text(str(item[key]), words)}


def _word_count(item: Any, key: str | None) -> int:
    if isinstance(item, str):
        return len(_WORD.findall(item))
    if key is None or not isinstance(item, Mapping) or key not in item:
        return 0
    return len(_WORD.findall(str(item[key])))


def pack(
    model: Any,
    name: str,
    fixed: Mapping[str, Any],
    groups: Sequence[Group] = (),
    *,
    max_tokens: int | None = None,
    order: Order = "interleave",
    margin: int = PROMPT_MARGIN,
) -> Packed:
    """Prompt ``name`` with ``fixed`` and as many ranked items of ``groups`` as fit ``model``; raises if none can."""
    budget = prompt_budget(model, max_tokens, margin)
    ranks = ranking(groups, order)

    def kept(k: int, extra: Any = None) -> dict[str, list[Any]]:
        counts = [ranks[:k].count(g) for g in range(len(groups))]
        out = {group.name: list(group.items[: counts[g]]) for g, group in enumerate(groups)}
        if extra is not None:
            out[groups[ranks[k]].name].append(extra)
        return out

    def cost(chosen: dict[str, list[Any]]) -> tuple[int, list[Message]]:
        messages = prompts.render(name, **fixed, **chosen)
        return count_tokens(model, messages), messages

    best = _longest(lambda k: cost(kept(k))[0] <= budget, len(ranks))
    chosen, trimmed = kept(best), False
    if best < len(ranks):
        group = groups[ranks[best]]
        item = group.items[len(chosen[group.name])]
        words = _word_count(item, group.field)
        cut = _longest(lambda w: cost(kept(best, _trimmed(item, group.field, w)))[0] <= budget, words - 1)
        if cut >= MIN_TRIM_WORDS:
            chosen, trimmed = kept(best, _trimmed(item, group.field, cut)), True
    tokens, messages = cost(chosen)
    missing = [g.name for g in groups if g.required and g.items and not chosen[g.name]]
    if tokens > budget or missing:
        what = f"even one of its {missing[0]}" if missing else "its fixed part"
        raise PromptTooLongError(
            f"The {name} prompt cannot fit {what} in {budget} tokens (the model's context of "
            f"{context_tokens(model)} less {answer_tokens(model, max_tokens)} for the answer); "
            "raise llm.n_ctx or lower llm.max_tokens."
        )
    dropped = len(ranks) - sum(len(v) for v in chosen.values())
    return Packed(messages, chosen, tokens, budget, dropped, trimmed)


def _longest(fits: Callable[[int], bool], n: int) -> int:
    """The largest k in 0..n with ``fits(k)`` (assumed monotonic), 0 when none larger fits."""
    if n <= 0:
        return 0
    if fits(n):
        return n
    lo, hi = 0, n - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


async def fit(
    runtime: Rt,
    run_id: str,
    role: str,
    name: str,
    fixed: Mapping[str, Any],
    groups: Sequence[Group] = (),
    *,
    order: Order = "interleave",
    ceiling: int | None = None,
) -> Packed | None:
    """``pack`` for a node's model call; None (and a ``model_error`` event) when the prompt cannot fit.

    ``ceiling`` caps the prompt below what the context holds (the tokens the time left can read): the
    lowest-ranked items go first, as for the context. When not even the fixed part and the first required
    item fit under it, the prompt is packed for the context alone and the call's budget gate decides.
    """
    model = runtime.context.model(role)
    room = prompt_budget(model)
    try:
        if ceiling is not None and ceiling < room:
            try:
                packed = await asyncio.to_thread(pack, model, name, fixed, groups, order=order,
                                                 margin=PROMPT_MARGIN + room - ceiling)
            except PromptTooLongError:
                pass
            else:
                full = sum(len(group.items) for group in groups)
                if packed.dropped or packed.trimmed:
                    emit(runtime, run_id, "prompt_cut", role=role, prompt=name, ceiling=ceiling,
                         tokens=packed.tokens, kept=full - packed.dropped, items=full)
                return packed
        return await asyncio.to_thread(pack, model, name, fixed, groups, order=order)
    except PromptTooLongError as err:
        emit(runtime, run_id, "model_error", role=role, prompt=name, error=str(err))
        return None
