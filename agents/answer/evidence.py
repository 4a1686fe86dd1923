"""Passages in the order a model should read them: the evidence first, near-duplicates once, distractors last.

A pure helper for the drafter and the answer (no model, no I/O). Tiers, best first:

0. a passage of the answer's chain (``chain_ids``);
1. a passage naming one of the question's entities or a bridge name (``bridges``), more names first;
2. a passage sharing a content term with the question, more terms first;
3. a distractor (none of the above): last, or left out with ``drop_distractors``.

Within a tier the given order (the retrieval rank) is kept. A passage whose content words overlap an
earlier kept one's by ``DUPLICATE`` or more (of the smaller) is a near-duplicate and is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from agents.answer.chain import question_entities, terms
from agents.lexical import content_words

DUPLICATE = 0.9
P = TypeVar("P", bound=Mapping[str, Any])


def near_duplicate(a: set[str], b: set[str], share: float = DUPLICATE) -> bool:
    """Whether two sets of content words overlap by ``share`` or more of the smaller one."""
    return bool(a and b) and len(a & b) / min(len(a), len(b)) >= share


def passage_tier(question: str, words: set[str], chunk_id: str, chain_ids: set[str],
                 names: Sequence[set[str]]) -> tuple[int, int]:
    """(tier, -strength) of one passage's content ``words`` for ``question`` (lower sorts first)."""
    if chunk_id in chain_ids:
        return 0, 0
    named = sum(1 for n in names if n <= words)
    if named:
        return 1, -named
    shared = len(terms(question) & words)
    return (2, -shared) if shared else (3, 0)


def rank_passages(
    question: str, passages: Sequence[P], *, chain_ids: Iterable[str] = (), bridges: Iterable[str] = (),
    drop_distractors: bool = False, limit: int | None = None,
) -> list[P]:
    """``passages`` (dicts with ``id`` and ``text``) ordered for ``question``; see the module docstring."""
    chain = set(chain_ids)
    names = [*question_entities(question), *(w for w in (content_words(b) for b in bridges) if w)]
    scored = []
    for rank, passage in enumerate(passages):
        words = content_words(str(passage.get("text", "")))
        tier = passage_tier(question, words, str(passage.get("id", "")), chain, names)
        if not (drop_distractors and tier[0] == 3):
            scored.append((tier, rank, words, passage))
    kept: list[tuple[set[str], P]] = []
    for _tier, _rank, words, passage in sorted(scored, key=lambda item: (item[0], item[1])):
        if not any(near_duplicate(words, seen) for seen, _p in kept):
            kept.append((words, passage))
    out = [p for _w, p in kept]
    return out[:limit] if limit is not None else out
