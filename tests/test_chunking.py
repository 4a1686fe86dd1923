"""Structure-aware chunking: exact offsets, headings, pages, budget and overlap."""

from __future__ import annotations

import itertools

from memory.chunking import chunk_text, count_tokens, heading_text

DOC = """# Title

Intro paragraph one.

Intro paragraph two.

## Methods

We measured things carefully. Then we measured them again.

Results
"""


def test_paragraphs_pack_under_headings_and_slices_are_exact() -> None:
    spans = chunk_text(DOC, max_tokens=64, overlap=8)
    assert [DOC[s.start : s.end] for s in spans] == [
        "Intro paragraph one.\n\nIntro paragraph two.",
        "We measured things carefully. Then we measured them again.",
    ]
    assert [s.heading for s in spans] == ["Title", "Methods"]


def test_heading_detection() -> None:
    assert heading_text("## Methods and materials") == "Methods and materials"
    assert heading_text("Related work") == "Related work"
    assert heading_text("This is a sentence.") is None
    assert heading_text("- a list item") is None
    assert heading_text("two\nlines") is None


def test_long_paragraph_is_cut_into_overlapping_sentence_windows() -> None:
    sentences = [f"Sentence number {i} has exactly seven tokens." for i in range(30)]
    text = " ".join(sentences)
    spans = chunk_text(text, max_tokens=40, overlap=10)
    assert len(spans) > 1
    for s in spans:
        assert count_tokens(text[s.start : s.end]) <= 40
    for a, b in itertools.pairwise(spans):
        assert b.start < a.end  # consecutive windows overlap
    assert spans[0].start == 0 and spans[-1].end == len(text)


def test_overlong_sentence_falls_back_to_token_windows() -> None:
    text = " ".join(f"w{i}" for i in range(100))
    spans = chunk_text(text, max_tokens=30, overlap=5)
    assert all(count_tokens(text[s.start : s.end]) <= 30 for s in spans)
    assert spans[-1].end == len(text)
    covered: set[int] = set()
    for s in spans:
        covered.update(range(s.start, s.end))
    assert covered >= {i for i, ch in enumerate(text) if not ch.isspace()}


def test_chunks_never_cross_pages() -> None:
    page1 = "Alpha text on page one."
    page2 = "Beta text continues on page two."
    text = page1 + "\n" + page2
    spans = chunk_text(text, max_tokens=200, pages=[(1, 0, len(page1) + 1), (2, len(page1) + 1, len(text))])
    assert [(s.page, text[s.start : s.end]) for s in spans] == [(1, page1), (2, page2)]


def test_heading_only_document_is_still_searchable() -> None:
    spans = chunk_text("Just A Title")
    assert [(s.start, s.end) for s in spans] == [(0, 12)]


def test_empty_text_gives_no_chunks() -> None:
    assert chunk_text("   \n\n  ") == []
