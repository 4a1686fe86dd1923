"""The prompt budget helper: fixed part kept, lowest-ranked items out first, the last one trimmed, and a
clear error when nothing fits; the seam's token counts it relies on."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import prompts
from agents.errors import PromptTooLongError, StructuredOutputError
from agents.llm import PROMPT_MARGIN, BaseChatModel, RoleModel, estimate_tokens
from agents.llm.llama import LlamaChatModel
from agents.llm.structured import Generation, Message
from agents.llm.testing import ScriptedChatModel
from agents.prompt_fit import ELLIPSIS, MIN_TRIM_WORDS, Group, fit, pack, prompt_budget, ranking, trim_text


class WordModel(BaseChatModel):
    """A model whose token count is exact by definition: one token per whitespace-separated word."""

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return sum(len(m["content"].split()) for m in messages)

    def _generate(self, messages: Sequence[Message], json_schema: dict[str, Any] | None, max_tokens: int) -> Generation:
        return Generation("{}")


def words(n: int, tag: str) -> str:
    return " ".join(f"{tag}{i}" for i in range(n))


def passages(n: int, length: int = 20) -> list[dict[str, str]]:
    return [{"id": f"c{i}", "text": words(length, f"p{i}w")} for i in range(n)]


FIXED = {"sentence": "The sky is blue."}
ALONE = {**FIXED, "others": []}


def cost(**variables: Any) -> int:
    """Tokens of the verifier prompt with these variables, counted like ``WordModel`` counts."""
    return WordModel().count_tokens(prompts.render("verifier", **{**FIXED, "others": [], **variables}))


def model_for(prompt_tokens: int, max_tokens: int = 50) -> WordModel:
    """A model whose context leaves exactly ``prompt_tokens`` for the prompt."""
    return WordModel(max_tokens=max_tokens, context_tokens=prompt_tokens + max_tokens + PROMPT_MARGIN)


def test_everything_fits_when_the_context_is_large() -> None:
    cited, others = passages(1), passages(4)
    packed = pack(WordModel(), "verifier", FIXED, [Group("cited", cited), Group("others", others)])
    assert packed.kept == {"cited": cited, "others": others}
    assert packed.dropped == 0 and not packed.trimmed
    assert packed.tokens == cost(cited=cited, others=others)


def test_lowest_ranked_items_are_dropped_first_and_the_fixed_part_is_kept() -> None:
    items = passages(5)
    room = cost(cited=items[:1], others=items[1:3])  # two of the four others fit, no more
    packed = pack(model_for(room + 3), "verifier", FIXED, [Group("cited", items[:1]), Group("others", items[1:])])
    assert packed["cited"] == items[:1]
    assert packed["others"] == items[1:3]  # the highest-ranked two; a third would not fit, even trimmed
    assert packed.dropped == 2 and not packed.trimmed
    assert "The sky is blue." in packed.messages[-1]["content"]
    assert packed.tokens <= packed.budget


def test_the_last_item_is_trimmed_at_a_word_boundary_when_that_lets_more_fit() -> None:
    items = passages(4, length=40)
    room = cost(cited=items[:1], others=items[1:2]) + 35  # a second "other" fits with ~35 of its 40 words
    packed = pack(model_for(room), "verifier", FIXED, [Group("cited", items[:1]), Group("others", items[1:])])
    assert packed.trimmed and packed.dropped == 1
    assert packed["others"][0] == items[1]
    last = packed["others"][1]
    assert last["id"] == items[2]["id"] and last["text"].endswith(ELLIPSIS)
    kept_words = last["text"].removesuffix(ELLIPSIS).split()
    assert MIN_TRIM_WORDS <= len(kept_words) < 40 and kept_words == items[2]["text"].split()[: len(kept_words)]
    assert packed.tokens <= packed.budget
    assert packed.budget - packed.tokens < 2  # it took every word that fits


def test_a_time_ceiling_keeps_fewer_passages_and_says_so() -> None:
    items = passages(6)
    model = WordModel()  # a context that holds every passage
    events: list[dict[str, Any]] = []
    runtime: Any = SimpleNamespace(context=SimpleNamespace(model=lambda role: model), stream_writer=events.append)
    groups = [Group("cited", items[:1], required=True), Group("others", items[1:])]

    def packed(ceiling: int | None) -> Any:
        return asyncio.run(fit(runtime, "r", "drafter", "verifier", FIXED, groups, ceiling=ceiling))

    assert packed(None).dropped == 0 and not events
    room = cost(cited=items[:1], others=items[1:3])  # the time left reads two of the five others
    cut = packed(room)
    assert cut.kept == {"cited": items[:1], "others": items[1:3]} and cut.tokens <= room
    assert [(e["type"], e["kept"], e["items"], e["ceiling"]) for e in events] == [("prompt_cut", 3, 6, room)]
    # not even the fixed part and one cited passage fit the time: the full prompt, for the budget gate to judge
    assert packed(5).dropped == 0 and len(events) == 1


def test_groups_are_ranked_round_robin_or_in_sequence() -> None:
    groups = [Group("a", [1, 2, 3]), Group("b", [1]), Group("c", [1, 2])]
    assert ranking(groups) == [0, 1, 2, 0, 2, 0]
    assert ranking(groups, "sequence") == [0, 0, 0, 1, 2, 2]


def test_strings_are_trimmed_themselves_and_keep_their_spacing() -> None:
    assert trim_text("one two\nthree  four", 3) == "one two\nthree" + ELLIPSIS
    assert trim_text("one two", 5) == "one two"


def test_nothing_fits_is_reported() -> None:
    fixed_only = cost(cited=[])
    with pytest.raises(PromptTooLongError, match="fixed part"):
        pack(model_for(fixed_only - 1), "verifier", ALONE, [Group("cited", passages(2))])


def test_a_required_group_that_cannot_show_one_item_is_reported() -> None:
    fixed_only = cost(cited=[])
    tight = model_for(fixed_only + 6)  # room for less than MIN_TRIM_WORDS words of a passage
    with pytest.raises(PromptTooLongError, match="cited"):
        pack(tight, "verifier", ALONE, [Group("cited", passages(2), required=True)])
    optional = pack(tight, "verifier", ALONE, [Group("cited", passages(2))])
    assert optional["cited"] == [] and optional.dropped == 2


def test_the_budget_uses_the_answer_size_the_call_will_use() -> None:
    model = WordModel(max_tokens=300, context_tokens=2048)
    assert prompt_budget(model) == 2048 - 300 - PROMPT_MARGIN
    assert prompt_budget(model, max_tokens=100) == 2048 - 100 - PROMPT_MARGIN
    role = RoleModel("drafter", model)
    assert role.context_tokens == 2048 and role.answer_tokens(None) == 300
    assert prompt_budget(role) == prompt_budget(model)


def test_the_estimate_is_characters_over_three_plus_overheads() -> None:
    messages = [{"role": "system", "content": "x" * 10}, {"role": "user", "content": "y" * 3}]
    assert estimate_tokens(messages) == 3 + (4 + 4) + (1 + 4)
    assert ScriptedChatModel().count_tokens(messages) == estimate_tokens(messages)


def test_a_retry_that_would_not_fit_ends_as_a_structured_error() -> None:
    schema = {"title": "Verdict", "type": "object", "properties": {"verdict": {"enum": ["yes", "no"]}},
              "required": ["verdict"]}  # fmt: skip
    messages = [{"role": "user", "content": "Is the sky blue?"}]
    model = ScriptedChatModel(["not json " * 40], max_tokens=16, context_tokens=estimate_tokens(messages) + 40)
    with pytest.raises(StructuredOutputError, match="retry would not fit"):
        model.complete(messages, schema=schema)
    assert len(model.calls) == 1


def test_llama_counts_with_its_own_tokenizer_and_context(tiny_gguf: Path, tmp_path: Path) -> None:
    model = LlamaChatModel(str(tiny_gguf), models_dir=tmp_path, n_ctx=2048, max_tokens=8, n_gpu_layers=0)
    try:
        messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there, model."}]
        assert model.context_tokens == 2048
        counted = model.count_tokens(messages)
        model.complete(messages)
        assert counted == model.last_stats.prompt_tokens
        packed = pack(model, "verifier", {**FIXED, "cited": []}, [Group("others", passages(30, length=60))])
        assert 0 < len(packed["others"]) < 30 and packed.tokens <= 2048 - 8 - PROMPT_MARGIN
        assert packed.tokens == model.count_tokens(packed.messages)
    finally:
        model.close()
