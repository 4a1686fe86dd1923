"""Passages in the order a model should read them: the evidence first, near-duplicates once, distractors last.

A pure helper for the drafter and the answer (no model, no I/O). Tiers, best first:

0. a passage of the answer's chain (``chain_ids``);
1. a passage naming one of the question's entities, one of its options ("X or Y?") or a bridge name
   (``bridges``): the page titled with one of them first (the page about a name, not one that mentions it),
   then more names, then more of the question's terms; and the names in turn (``in_turn``): the next passage
   is the one naming most names no passage before it names ("Sick Puppies or Third Eye Blind?" reads a page
   on each, not four on one);
2. a passage sharing a content term with the question, more terms first;
3. a distractor (none of the above): last, or left out with ``drop_distractors``.

Within a tier the given order (the retrieval rank) is kept. Then the second hop: the names the best passage
gives that the question does not (the bridge a two-hop question hides) pick the passages about them, those
whose title or opening (``LEAD`` characters) names one; they move up to follow the pages taken in turn (the
best passage among them, after the chain's), whatever their tier, so the page the first hop points at is read
next. A passage whose content
words overlap an earlier kept one's by ``DUPLICATE`` or more (of the smaller) is a near-duplicate and is
left out.

Measured on the shared data sets' own paragraphs (``bench/rank_passages.py``): both supporting paragraphs
among the first four, HotpotQA 0.335 -> 0.56 of 200 questions, MuSiQue 0.17 -> 0.405; with titles first, the
names and options in turn and the second hop after them, 0.75 and 0.46.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from agents.answer.candidates import options
from agents.answer.chain import question_entities, terms
from agents.lexical import content_words

DUPLICATE = 0.9
LEAD = 200  # characters of a passage's opening that say what it is about (with its page title)
P = TypeVar("P", bound=Mapping[str, Any])


def near_duplicate(a: set[str], b: set[str], share: float = DUPLICATE) -> bool:
    """Whether two sets of content words overlap by ``share`` or more of the smaller one."""
    return bool(a and b) and len(a & b) / min(len(a), len(b)) >= share


def passage_tier(
    question: str, words: set[str], chunk_id: str, chain_ids: set[str], names: Sequence[set[str]],
    title: set[str] | frozenset[str] = frozenset(),
) -> tuple[int, int, int, int]:
    """(tier, -1 when the page's ``title`` is one of ``names``, -names, -terms) of one passage's content ``words`` for
    ``question`` (lower sorts first)."""
    if chunk_id in chain_ids:
        return 0, 0, 0, 0
    named = sum(1 for n in names if n <= words)
    shared = len(terms(question) & words)
    if named:
        return 1, -sum(1 for n in names if n == title), -named, -shared
    return (2, 0, 0, -shared) if shared else (3, 0, 0, 0)


Scored = tuple[tuple[int, int, int, int], int, set[str], P]


def in_turn(scored: list[Scored[P]], names: Sequence[set[str]]) -> tuple[list[Scored[P]], int]:
    """``scored`` (sorted) with its tier-1 passages taken in turn: each next the one naming most names no passage
    taken before names (in its text or title), ties in the given order; once no passage adds a name, the rest as
    given. Tier 0 (the chain's) stays first. Also returns how many passages lead (the chain's and those taken)."""
    head = [item for item in scored if item[0][0] == 0]
    rest = [item for item in scored if item[0][0] != 0]
    taken: list[Scored[P]] = []
    seen: set[int] = set()

    def named(item: Scored[P]) -> set[int]:
        words = item[2] | content_words(str(item[3].get("title", "")))
        return {k for k, name in enumerate(names) if name <= words}

    while rest and len(seen) < len(names):
        gains = [(len(named(item) - seen) if item[0][0] == 1 else 0, -n) for n, item in enumerate(rest)]
        gain, at = max(gains)
        if gain == 0:
            break
        item = rest.pop(-at)
        taken.append(item)
        seen |= named(item)
    return [*head, *taken, *rest], len(head) + len(taken)


def next_hop(question: str, passage: Mapping[str, Any]) -> list[set[str]]:
    """The content words of each name ``passage`` gives that the question does not state."""
    asked = terms(question)
    return [words for words in question_entities(str(passage.get("text", ""))) if not words <= asked]


def about(passage: Mapping[str, Any]) -> set[str]:
    """The content words of what a passage is about: its page title and its opening."""
    return content_words(f"{passage.get('title', '')} {str(passage.get('text', ''))[:LEAD]}")


def title_words(passage: Mapping[str, Any]) -> set[str]:
    """The content words of a passage's page title, its disambiguation left out ("Third Eye Blind (album)" → third,
    eye, blind)."""
    return content_words(re.sub(r"\s*\([^)]*\)\s*$", "", str(passage.get("title", ""))))


def names_one(words: set[str], names: Sequence[set[str]]) -> bool:
    """Whether ``words`` hold every content word of one of ``names``."""
    return any(name <= words for name in names)


def rank_passages(
    question: str, passages: Sequence[P], *, chain_ids: Iterable[str] = (), bridges: Iterable[str] = (),
    drop_distractors: bool = False, limit: int | None = None,
) -> list[P]:
    """``passages`` (dicts with ``id`` and ``text``) ordered for ``question``; see the module docstring."""
    chain = set(chain_ids)
    asked = [*question_entities(question), *(w for w in (content_words(o) for o in options(question)) if w)]
    names = [*asked, *(w for w in (content_words(b) for b in bridges) if w)]
    scored, first = in_turn(sorted(
        ((passage_tier(question, words, str(passage.get("id", "")), chain, names, title_words(passage)), rank, words,
          passage)
         for rank, passage in enumerate(passages) for words in [content_words(str(passage.get("text", "")))]),
        key=lambda item: (item[0], item[1]),
    ), names)
    if scored:
        hop = next_hop(question, scored[0][3])
        head = max(1, first)
        linked = [item for item in scored[head:] if hop and names_one(about(item[3]), hop)]
        scored = [*scored[:head], *linked, *(item for item in scored[head:] if item not in linked)]
        if drop_distractors:
            scored = [item for item in scored if item[0][0] < 3 or item in linked]
    kept: list[tuple[set[str], P]] = []
    for _tier, _rank, words, passage in scored:
        if not any(near_duplicate(words, seen) for seen, _p in kept):
            kept.append((words, passage))
    out = [p for _w, p in kept]
    return out[:limit] if limit is not None else out
