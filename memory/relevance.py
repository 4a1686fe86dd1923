"""Whether a stored passage is about a question: the relevance bar on every read that crosses runs.

Pure functions, no I/O beyond reading the reference table once. A passage from an earlier run is
about a question (``relevant``) only when both hold:

1. **It names what the question names** (``about``): a named entity of the question — a quoted title or
   a capitalized name, matched as a whole word sequence ("U.S." and "US" meet) — or a *rare* content
   word of it. A word is common when its stem occurs in at least ``COMMON_SHARE`` of the paragraphs of
   a general reference corpus (``word_df.tsv``: document frequencies of Snowball stems over the 5,065
   Wikipedia paragraphs of the shared HotpotQA and MuSiQue sets, written by
   ``bench/relevance_calibrate.py df``), so "Operation", "group" or "first" never make a passage
   relevant on their own, while "Neptune" or "perovskite" do.
2. **Its score clears the bar** (``score >= BAR``): the share of the question's content-word weight
   (each stem weighted by its idf in the same table) that the passage's words cover. The bar was
   calibrated with ``bench/relevance_calibrate.py calibrate`` on the shared MuSiQue set (a question's
   supporting paragraphs against the paragraphs of the other questions); the score is lexical and
   absolute, so it means the same whatever the embedding model (the fused search score is only a rank).

``key_terms`` and ``shares_key`` give the plan floor (``agents.floor_plan``) the same footing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from memory.retrieval import STOPWORDS, Tokenizer

COMMON_SHARE = 0.01  # a stem in at least 1% of the reference paragraphs is a common word
BAR = 0.35  # the least share of the question's weight a passage must cover (bench/relevance_calibrate.py)
DF_FILE = Path(__file__).with_name("word_df.tsv")

_ACRONYM = re.compile(r"\b(?:[^\W\d_]\.){2,}")
_WORD = re.compile(r"[^\W_]+")
_QUOTED = re.compile(r"[\"“]([^\"”]{2,80})[\"”]")
_CAPS = re.compile(r"(?:[A-Z][\w'’-]*\.?|\d[\d,.]*)(?:\s+(?:(?:of|the|de|la|and|von|van|du|del|for)\s+)*"
                   r"(?:[A-Z][\w'’-]*\.?|\d[\d,.]*\b))*")
# Capitalized words that open a sentence or a question without naming anything.
_LEADING_TEXT = """a an the which what who whom whose when where why how is are was were do does did
    in on at of for to from by and or but this that these those it its his her their there if"""
_LEADING = frozenset(_LEADING_TEXT.split())
_tokenize = Tokenizer()


@dataclass(frozen=True)
class Terms:
    """What a question names: its named spans (folded word tuples), rare stems, and content-stem weights."""

    names: tuple[tuple[str, ...], ...]
    rare: frozenset[str]
    weights: dict[str, float]

    @property
    def keyed(self) -> bool:
        """Whether the question names anything a passage could share (else the bar cannot judge it)."""
        return bool(self.names or self.rare)


@lru_cache(maxsize=1)
def _table() -> tuple[int, dict[str, int]]:
    """(paragraphs, stem -> document frequency) of the reference corpus."""
    n, df = 1, {}
    for line in DF_FILE.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("\t")
        if key == "#paragraphs":
            n = int(value)
        elif key and value:
            df[key] = int(value)
    return n, df


def common(stem: str) -> bool:
    """Whether a stem is a common word (a stop word, a number, or frequent in the reference corpus)."""
    n, df = _table()
    return stem in STOPWORDS or stem.isdigit() or len(stem) < 3 or df.get(stem, 0) >= COMMON_SHARE * n


def idf(stem: str) -> float:
    """The stem's inverse document frequency in the reference corpus (unseen stems weigh the most)."""
    n, df = _table()
    return math.log((n + 1) / (df.get(stem, 0) + 1))


def folded_words(text: str) -> list[str]:
    """Lower-case words of ``text``, acronyms written with dots joined ("U.S." -> "us")."""
    joined = _ACRONYM.sub(lambda m: m.group(0).replace(".", ""), text)
    return _WORD.findall(joined.casefold())


def named_spans(text: str) -> list[tuple[str, ...]]:
    """Quoted titles and capitalized names of ``text`` as folded word tuples, without leading function words."""
    text = _ACRONYM.sub(lambda m: m.group(0).replace(".", ""), text)
    spans = [m.group(1) for m in _QUOTED.finditer(text)] + [m.group(0) for m in _CAPS.finditer(text)]
    out: list[tuple[str, ...]] = []
    for span in spans:
        words = folded_words(span)
        while words and words[0] in _LEADING:
            words.pop(0)
        while words and words[-1] in _LEADING:
            words.pop()
        if words and not all(w.isdigit() for w in words) and tuple(words) not in out:
            out.append(tuple(words))
    return out


def stems(text: str) -> set[str]:
    """The content stems of ``text`` (stop words dropped)."""
    return set(_tokenize(" ".join(folded_words(text))))


@lru_cache(maxsize=256)
def key_terms(question: str) -> Terms:
    """The named spans, rare stems and weighted content stems of ``question``."""
    own = stems(question)
    weights = {s: idf(s) for s in own if s not in STOPWORDS}
    return Terms(tuple(named_spans(question)), frozenset(s for s in own if not common(s)), weights)


def _names_in(names: Iterable[tuple[str, ...]], text: str) -> bool:
    padded = f" {' '.join(folded_words(text))} "
    return any(f" {' '.join(name)} " in padded for name in names)


def about(terms: Terms, text: str) -> bool:
    """Whether ``text`` shares a named entity or a rare content word with the question of ``terms``."""
    return bool(terms.rare & stems(text)) or _names_in(terms.names, text)


def score(terms: Terms, text: str) -> float:
    """The share of the question's content-word weight that ``text`` covers (0 to 1)."""
    total = sum(terms.weights.values())
    if total <= 0:
        return 0.0
    have = stems(text)
    return sum(w for s, w in terms.weights.items() if s in have) / total


def relevant(question: str, text: str, bar: float = BAR) -> bool:
    """Whether a passage from an earlier run may be shown for ``question`` (see the module docstring)."""
    terms = key_terms(question)
    return about(terms, text) and score(terms, text) >= bar


def shares_key(text: str, question: str, bridges: Iterable[str] = ()) -> bool | None:
    """Whether ``text`` shares a named entity or rare word with ``question`` or a bridge entity.

    None when neither the question nor the bridges name anything (the caller keeps its older rule).
    """
    groups = [key_terms(question), *(key_terms(b) for b in bridges if b.strip())]
    if not any(t.keyed for t in groups):
        return None
    own_stems = stems(text)
    return any(t.rare & own_stems or _names_in(t.names, text) for t in groups)


def names_something(text: str) -> bool:
    """Whether ``text`` is a name rather than a generic title: two or more capitalized words, or a quoted title."""
    if _QUOTED.search(text):
        return True
    words = [w for w in re.findall(r"[\w'’.-]+", text) if w.casefold() not in _LEADING]
    return sum(1 for w in words if w[:1].isupper()) >= 2
