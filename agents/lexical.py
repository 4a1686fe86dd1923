"""Lexical support: the content words of a text and how many of a sentence's words its passages hold.

Pure functions shared by the verifier's screen and the floors (``agents.floors``): no model, no I/O.
A content word is lower-cased, not a stop word, at least three characters long unless it starts with
a digit, with a plural ``s`` folded, so "Cells" in a sentence matches "cell" in a passage.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

_STOP = frozenset(
    [
        "a", "an", "the", "and", "or", "but", "of", "in", "on", "at", "to", "for", "from", "by", "with", "as",
        "is", "are", "was", "were", "be", "been", "being", "it", "its", "this", "that", "these", "those", "which",
        "who", "whom", "than", "then", "there", "their", "they", "them", "he", "she", "his", "her", "we", "our",
        "you", "your", "not", "no", "can", "could", "may", "might", "will", "would", "should", "has", "have",
        "had", "do", "does", "did", "also", "more", "most", "less", "such", "into", "over", "under", "about",
        "between", "per", "each", "other", "some", "any", "all", "both", "only", "very",
    ]
)


def content_words(text: str) -> set[str]:
    """Lower-cased content words (stop words dropped, plural ``s`` folded; numbers kept)."""
    words = set()
    for word in re.findall(r"[\w.%-]+", text.casefold()):
        word = word.strip(".-")
        if not word or word in _STOP or (len(word) < 3 and not word[0].isdigit()):
            continue
        words.add(word[:-1] if len(word) > 4 and word.endswith("s") else word)
    return words


def share_held(wanted: set[str], texts: Sequence[str]) -> float:
    """Share of the ``wanted`` content words that occur in the texts together (0..1; 0 for none wanted)."""
    if not wanted:
        return 0.0
    have: set[str] = set()
    for text in texts:
        have |= content_words(text)
    return len(wanted & have) / len(wanted)


def support_score(sentence: str, passages: list[str]) -> float:
    """Share of the sentence's content words that occur in the passages (0..1)."""
    return share_held(content_words(sentence), passages)


def fold(text: str) -> str:
    """``text`` with case and spacing folded: the key under which the same sentence is said once."""
    return " ".join(text.casefold().split())


def normalize_question(text: str) -> str:
    """Case, punctuation and spacing folded, for deduplicating questions and queries."""
    return " ".join(re.findall(r"\w+", text.casefold()))


def echoes(sentence: str, question: str) -> bool:
    """Whether ``sentence`` only restates ``question``: it has no content word the question does not have."""
    return content_words(sentence) <= content_words(question)


# Two sentences say the same thing when they share ``editor.DUPLICATE`` of their words as ``statement_words`` reads
# them; the eval's ``dup_sentences`` counts repeats with the same reading, so what the editor merges and what the
# eval counts are one definition (they differed: "trophies" and "trophys" met in one and not in the other).
_PUNCT = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_STATEMENT_STOP_TEXT = """and or but nor of in on at to for from by with without as into onto
    over under about after before between during through than then that this these those there here is
    are was were be been being am has have had having do does did it its he she they them his her
    their theirs we us our you your i me my which who whom whose what when where why how also not no so
    such very can could will would shall should may might must just only both either neither each any
    all some other more most"""
_STATEMENT_STOP = frozenset(_STATEMENT_STOP_TEXT.split())  # after ``normalize``, so no articles or apostrophes


def normalize(text: str) -> str:
    """SQuAD's normalization: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in str(text).lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def stem(token: str) -> str:
    """A light suffix fold (plural, -ing, -ed, final e) so that inflections of a word meet."""
    if len(token) > 4 and token.endswith("ies"):
        token = token[:-3] + "y"
    elif len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        token = token[:-1]
    if len(token) > 5 and token.endswith("ing"):
        token = token[:-3]
    elif len(token) > 4 and token.endswith("ed"):
        token = token[:-2]
    if len(token) > 3 and token.endswith("e"):
        token = token[:-1]
    return token


def statement_words(text: str) -> set[str]:
    """The words two statements are compared by: ``normalize``d tokens, stop words out, each ``stem``med."""
    return {stem(t) for t in normalize(text).split() if t not in _STATEMENT_STOP}
