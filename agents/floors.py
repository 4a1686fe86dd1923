"""Floors: what a run does where a model decides nothing useful (ARCHITECTURE.md, "Floors").

Pure functions over text, no model and no I/O, so each rule is tested on its own:

- ``best_sentences``: the sentences of the passages shown that best match a question, quoted
  verbatim and cited by the chunk they come from (the findings floor);
- ``best_supported`` / ``rank_supported``: among cited statements, those their passages support
  that say most about the question (the short answer's floor, and a section's when the verifier
  removed everything the model wrote);
- ``floor_plan``: the question itself always searched, degenerate sub-questions and queries (a word
  or two, nothing in common with the question, the schema's own key names) replaced by keyword
  queries derived from the question, an "Answer" section first;
- ``quoted_answer``: a model's short answer accepted only where a passage it was shown states it
  word for word, and quoted with that sentence;
- ``hop_entities``: names on the pages read that the question does not mention — the second hop
  of a bridge question.

A floor's output is always extractive: every sentence is a substring of a stored chunk, so it passes
the verifier's lexical screen and cites only fetched text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from agents.lexical import content_words, fold, support_score

MIN_WORDS = 5  # a floor sentence is a statement, not a heading or a menu item
PER_CHUNK = 2  # sentences one passage may give, so a floor's findings come from more than one page
SUPPORTED = 0.75  # the verifier's "supported without a model call" share

_BOUNDARY = re.compile(r"(?<=[.!?])[\"”’)\]]*\s+(?=[\"“‘(\[]?[A-Z0-9])|\n+")


# A stop after one of these ends no sentence: "Richard Connell Jr. (born", "William H. Ginsburg", "(born c. 1972)",
# "Mariotto di Nardo (c. 1368 – c. 1388–1424)" (split there, reports printed "1388–1424) was a Florentine painter."),
# quoted too: 'Mariotto di Nardo di Cione ("fl". 1388–1424)'.
_ABBREVIATION = re.compile(r"(?:\b(?:Jr|Sr|Dr|Mr|Mrs|Ms|St|Co|Ltd|Inc|No|Vol|vs|Mt|Gen|Col|Lt|Sgt|Prof|c|ca|b|d|fl)"
                           r"|\b[A-Z])[\"”’']?\.$")
_INSIDE = 200  # a stop inside brackets that close within this many characters ends no sentence


def _in_brackets(text: str, start: int, at: int) -> bool:
    """Whether position ``at`` of ``text`` lies inside a bracket opened since ``start`` and closed soon after
    (a stop there is an abbreviation's the splitter does not know, not a sentence's end)."""
    before = text[start:at]
    if before.count("(") <= before.count(")"):
        return False
    after = text[at:at + _INSIDE]
    close, reopen = after.find(")"), after.find("(")
    return close >= 0 and (reopen < 0 or close < reopen) and "\n" not in after[:close]


SENTENCE_ENDS = (".", "!", "?", '"', "”", "’", ")")  # how a whole sentence ends (a cut one does not)


def split_sentences(text: str) -> list[str]:
    """The sentences of a passage: split after . ! ? before a capital or digit (not after an abbreviation or a
    name's initial, nor inside brackets that close soon after) and at line breaks."""
    out, start = [], 0
    for boundary in _BOUNDARY.finditer(text):
        if "\n" not in boundary.group(0) and (_ABBREVIATION.search(text[start:boundary.start()])
                                              or _in_brackets(text, start, boundary.start())):
            continue
        out.append(text[start:boundary.start()])
        start = boundary.end()
    out.append(text[start:])
    return [s for s in (" ".join(part.split()) for part in out) if s]


def _trim(sentence: str, max_chars: int) -> str:
    """``sentence`` cut to ``max_chars`` at a word boundary (still a substring of the passage, up to spacing)."""
    if len(sentence) <= max_chars:
        return sentence
    cut = sentence[:max_chars].rsplit(" ", 1)[0]
    return cut or sentence[:max_chars]


def best_sentences(
    query: str, chunks: Sequence[Mapping[str, str]], *, limit: int = 3, max_chars: int = 300
) -> list[tuple[str, list[str]]]:
    """The ``limit`` sentences of ``chunks`` that best match ``query``, each with the id of its chunk.

    A sentence scores the inverse-document-frequency weights (over the sentences shown) of the query's
    content words it contains; ties go to the earlier (better-ranked) passage. Sentences sharing no
    content word with the query, shorter than ``MIN_WORDS`` words, or repeated, are never chosen.
    """
    wanted = content_words(query)
    if not wanted or limit <= 0:
        return []
    candidates: list[tuple[int, int, str, str, set[str]]] = []
    for rank, chunk in enumerate(chunks):
        for pos, sentence in enumerate(split_sentences(str(chunk.get("text", "")))):
            if len(sentence.split()) >= MIN_WORDS:
                candidates.append((rank, pos, sentence, str(chunk["id"]), content_words(sentence)))
    if not candidates:
        return []
    df: dict[str, int] = {}
    for *_, words in candidates:
        for word in words & wanted:
            df[word] = df.get(word, 0) + 1
    idf = {w: math.log(1.0 + len(candidates) / n) for w, n in df.items()}
    scored = sorted(
        ((sum(idf[w] for w in words & wanted), rank, pos, sentence, chunk_id)
         for rank, pos, sentence, chunk_id, words in candidates if words & wanted),
        key=lambda item: (-item[0], item[1], item[2]),
    )
    out: list[tuple[str, list[str]]] = []
    seen: set[str] = set()
    per_chunk: dict[str, int] = {}
    for _score, _rank, _pos, sentence, chunk_id in scored:
        key = fold(sentence)
        if key in seen or per_chunk.get(chunk_id, 0) >= PER_CHUNK:
            continue
        seen.add(key)
        per_chunk[chunk_id] = per_chunk.get(chunk_id, 0) + 1
        out.append((_trim(sentence, max_chars), [chunk_id]))
        if len(out) >= limit:
            break
    return out


def rank_supported(
    question: str, candidates: Sequence[Mapping[str, Any]], texts: Mapping[str, str], limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` distinct candidate statements their cited ``texts`` support that share a content word
    with the question, best for the question first."""
    scored: list[tuple[tuple[float, float, int], dict[str, Any]]] = []
    for order, item in enumerate(candidates):
        ids = [i for i in item.get("chunk_ids", []) if i in texts]
        text = str(item.get("text", ""))
        if not ids or not text.strip():
            continue
        support = support_score(text, [texts[i] for i in ids])
        overlap = question_overlap(question, text)
        if support >= SUPPORTED and overlap > 0:  # supported, and about the question
            scored.append(((-overlap, -support, order), {"text": text, "chunk_ids": ids}))
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for _key, found in sorted(scored, key=lambda pair: pair[0]):
        norm = fold(str(found["text"]))
        if norm not in seen:
            seen.add(norm)
            out.append(found)
        if len(out) >= limit:
            break
    return out


def question_overlap(question: str, sentence: str) -> float:
    """Share of the question's content words that the sentence contains (0..1)."""
    return support_score(question, [sentence])


def best_supported(
    question: str, candidates: Sequence[Mapping[str, Any]], texts: Mapping[str, str]
) -> dict[str, Any] | None:
    """The candidate statement (``text``, ``chunk_ids``) best supported by its cited ``texts`` and the question.

    Only statements whose cited passages hold at least ``SUPPORTED`` of their content words qualify;
    among those the one sharing most of the question's content words wins (then the better
    supported, then the earlier). None when no candidate qualifies.
    """
    ranked = rank_supported(question, candidates, texts, 1)
    return ranked[0] if ranked else None


MAX_ANSWER_WORDS = 12  # a short answer is a name, a number, a date: not a paragraph


def quoted_answer(
    question: str, answer: str, chunk_ids: Sequence[str], texts: Mapping[str, str]
) -> dict[str, Any] | None:
    """The sentence that states a model's short ``answer`` verbatim, with the id of its chunk; else None.

    The check behind an answer whose own sentences the verifier removed: the answer counts only if it
    appears, word for word (case and spacing aside), in a sentence of one of ``chunk_ids`` (the
    passages the model cited first, then the others it was shown). It must be short, more than one
    character (a lone "1" is stated by any list) and say something the question does not (content
    words of its own). Among the sentences holding it, the one sharing most content words with the
    question is quoted.
    """
    text = " ".join(answer.split()).strip(" .;,")
    if len(text) < 2 or len(text.split()) > MAX_ANSWER_WORDS or not content_words(text) - content_words(question):
        return None
    # whole words and whole numbers only: "26" is not stated by "26.1"
    needle = re.compile(r"(?<!\w)(?<!\d[.,])" + re.escape(fold(text)) + r"(?!\w)(?![.,]\d)")
    best: tuple[tuple[float, int], str, str] | None = None
    for order, chunk_id in enumerate(dict.fromkeys(chunk_ids)):
        for sentence in split_sentences(texts.get(chunk_id, "")):
            if needle.search(fold(sentence)):
                key = (question_overlap(question, sentence), -order)
                if best is None or key > best[0]:
                    best = (key, sentence, chunk_id)
    if best is None:
        return None
    return {"text": text, "sentence": {"text": best[1], "chunk_ids": [best[2]]}}
