"""Structure-aware chunking: headings and paragraphs first, a token budget with overlap second.

Guarantees: every chunk is an exact slice ``text[start:end]`` of the input (so a citation can quote
it), chunks never cross a heading or a page boundary, no chunk exceeds the token budget unless a
single word does, consecutive windows cut from one long paragraph overlap by about ``overlap``
tokens, and each chunk carries its nearest heading and (for paged documents) its 1-based page.
Tokens are counted as words and punctuation marks, a close, tokenizer-free estimate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+|[^\w\s]")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_HEADING_MAX_TOKENS = 14


@dataclass(frozen=True)
class Span:
    """A chunk before it becomes a record: offsets into the text, nearest heading and page."""

    start: int
    end: int
    heading: str | None = None
    page: int | None = None


def count_tokens(text: str) -> int:
    """Approximate token count: words and punctuation marks."""
    return len(_TOKEN.findall(text))


def _blocks(text: str, lo: int, hi: int) -> Iterable[tuple[int, int]]:
    """Paragraphs of ``text[lo:hi]`` as trimmed (start, end) offsets."""
    pos = lo
    for brk in _PARAGRAPH_BREAK.finditer(text, lo, hi):
        yield from _trimmed(text, pos, brk.start())
        pos = brk.end()
    yield from _trimmed(text, pos, hi)


def _trimmed(text: str, start: int, end: int) -> Iterable[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield start, end


def heading_text(block: str) -> str | None:
    """The heading a block is, or None: a Markdown ``#`` line or a short line without end punctuation."""
    if "\n" in block.strip():
        return None
    match = _MD_HEADING.match(block)
    if match:
        return match.group(1).strip() or None
    line = block.strip()
    if (
        count_tokens(line) <= _HEADING_MAX_TOKENS
        and line[-1:] not in ".!?:;,)\"'”"
        and line[:1].isupper()
        and not line.startswith(("-", "*", "|", ">"))
    ):
        return line
    return None


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans, pos = [], start
    for m in _SENTENCE_END.finditer(text, start, end):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, end))
    return [s for s in spans if s[0] < s[1]]


def _token_windows(text: str, start: int, end: int, budget: int, overlap: int) -> list[tuple[int, int]]:
    """Cut [start, end) into windows of at most ``budget`` tokens overlapping by ``overlap``."""
    toks = [(m.start(), m.end()) for m in _TOKEN.finditer(text, start, end)]
    step = max(1, budget - overlap)
    out, i = [], 0
    while i < len(toks):
        j = min(len(toks), i + budget)
        out.append((toks[i][0], toks[j - 1][1]))
        if j == len(toks):
            break
        i += step
    return out


def _split_long(text: str, start: int, end: int, budget: int, overlap: int) -> list[tuple[int, int]]:
    """A paragraph over budget as sentence-aligned windows, overlapping by whole sentences."""
    units: list[tuple[int, int, int]] = []
    for s, e in _sentences(text, start, end):
        n = count_tokens(text[s:e])
        if n > budget:
            units.extend((ws, we, count_tokens(text[ws:we])) for ws, we in _token_windows(text, s, e, budget, overlap))
        else:
            units.append((s, e, n))
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and (j == i or total + units[j][2] <= budget):
            total += units[j][2]
            j += 1
        out.append((units[i][0], units[j - 1][1]))
        if j >= len(units):
            break
        back, carried = j, 0  # step back over trailing sentences worth ``overlap`` tokens
        while back - 1 > i and carried + units[back - 1][2] <= overlap:
            back -= 1
            carried += units[back][2]
        i = back
    return out


def _pack(text: str, blocks: Sequence[tuple[int, int]], budget: int, overlap: int) -> list[tuple[int, int]]:
    """Consecutive paragraphs packed into chunks of at most ``budget`` tokens."""
    out: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None
    cur_tokens = 0
    for s, e in blocks:
        n = count_tokens(text[s:e])
        if n > budget:
            if cur:
                out.append(cur)
                cur, cur_tokens = None, 0
            out.extend(_split_long(text, s, e, budget, overlap))
        elif cur is not None and cur_tokens + n <= budget:
            cur, cur_tokens = (cur[0], e), cur_tokens + n
        else:
            if cur:
                out.append(cur)
            cur, cur_tokens = (s, e), n
    if cur:
        out.append(cur)
    return out


def chunk_text(
    text: str,
    *,
    max_tokens: int = 256,
    overlap: int = 32,
    pages: Sequence[tuple[int, int, int]] = (),
) -> list[Span]:
    """Split ``text`` into chunks; ``pages`` lists (number, start, end) spans of a paged document."""
    if max_tokens < 8:
        raise ValueError("max_tokens must be at least 8")
    overlap = max(0, min(overlap, max_tokens // 2))
    regions: list[tuple[int, int, int | None]] = [(p[1], p[2], p[0]) for p in sorted(pages, key=lambda p: p[1])] or [
        (0, len(text), None)
    ]
    spans: list[Span] = []
    heading: str | None = None
    for lo, hi, page in regions:
        section: list[tuple[int, int]] = []
        for s, e in _blocks(text, lo, min(hi, len(text))):
            title = heading_text(text[s:e])
            if title is None:
                section.append((s, e))
                continue
            spans.extend(Span(a, b, heading, page) for a, b in _pack(text, section, max_tokens, overlap))
            section, heading = [], title
        spans.extend(Span(a, b, heading, page) for a, b in _pack(text, section, max_tokens, overlap))
    if not spans and text.strip():  # only headings: keep them searchable
        spans = [Span(s, e, None, None) for s, e in _blocks(text, 0, len(text))]
    return spans
