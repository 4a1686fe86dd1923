"""The question's own passages come from a wide retrieval, so the page a two-hop question's bridge leads to is
among the candidates ``rank_passages`` orders (a real Chroma directory, the hashing embedder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from agents.answer import rank_passages
from agents.drafter import MAX_CHUNKS, QUESTION_POOL, _gather
from memory.embeddings import HashingEmbedder
from memory.store import Filters, Memory

QUESTION = "Which Canadian rock band released a song called Counterparts and had a drummer in the Hall of Fame?"
PAGES = {
    "Counterparts (song)": "Counterparts is a song by the Canadian rock band Rush, released in 1993. The song "
                           "features a Canadian rock band drummer and was called Counterparts by the band.",
    "Rush (band)": "Rush were a progressive trio from Toronto formed in 1968. Neil Peart joined them in 1974.",
}
DISTRACTORS = {f"Page {n}": f"The {kind} of a Canadian rock band drummer was called famous in a song number {n}."
               for n, kind in enumerate(["story", "history", "legend", "fame", "tale", "myth", "saga", "lore",
                                         "account", "record", "chronicle", "memoir"])}


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Any]:
    mem = Memory.open(tmp_path / "chroma", embedder=HashingEmbedder())
    sources = [mem.add_source(f"https://w.example/{n}", title, text, run_id="r")[0].id
               for n, (title, text) in enumerate({**PAGES, **DISTRACTORS}.items())]
    limits = SimpleNamespace(chunks_per_prompt=5)
    yield SimpleNamespace(memory=mem, limits=limits, filters=lambda **kw: Filters(**kw), sources=sources)
    mem.close()


def test_the_wide_pool_holds_the_bridge_page_that_plain_retrieval_misses(ctx: Any) -> None:
    assert len(PAGES) + len(DISTRACTORS) <= 5 * QUESTION_POOL  # every page fits the wide pool
    narrow = _gather(ctx, QUESTION, ctx.sources, [])
    wide = _gather(ctx, QUESTION, ctx.sources, [], wide=True)
    assert len(narrow) == 5 and len(wide) == len(PAGES) + len(DISTRACTORS) > MAX_CHUNKS  # not cut at 12
    assert "Rush (band)" not in {p["title"] for p in narrow}  # it shares no word with the question
    ranked = [p["title"] for p in rank_passages(QUESTION, wide)]
    assert ranked[0] == "Counterparts (song)" and "Rush (band)" in ranked[:2]  # the second hop follows the first
