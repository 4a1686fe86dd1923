"""The answer by chain of evidence: each candidate span scored by the cited statements linking it to the question.

Pure functions, no model and no I/O. The run's statements (the model's verified answer sentences, the
verified section sentences, the findings, the knowledge graph's facts whose chunks attest them, and
the sentences of the passages cited) form the pool. A candidate's chain starts at the statement that
holds it and grows, at most ``MAX_LINKS`` times, by a statement that shares a *bridge* name with the
chain (a name the question does not state) and covers question terms the chain does not yet cover:
question entity → bridge → candidate, every link a cited statement. A chain *holds* when it covers
at least ``HOLD`` of the question's terms and names one of its entities (when it has any); the best
candidate is the best-fitting kind, then the best-covered chain, then the model's own answer, then
the one more statements state; the model's own held answer yields only to a chain better on kind, blank or
coverage (``EVIDENCE``). When no chain holds, the answer is "not found" — never a guess.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agents.answer.candidates import (
    ASKING,
    PRONOUNS,
    Candidate,
    Statement,
    cloze_hint,
    describes,
    expected_kind,
    fits,
    from_model,
    from_statement,
    holds,
    modifier,
    name_spans,
    opens_with,
    order_hint,
    restates,
    type_hint,
)
from agents.floor_plan import bare_title
from agents.floors import SENTENCE_ENDS, split_sentences
from agents.lexical import content_words, fold

MAX_LINKS = 3  # statements a chain may add to the candidate's own: question entity → bridge(s) → candidate
HOLD = 0.4  # share of the question's terms a chain must cover to hold
COVERAGE_STEP = 0.2  # coverages compared to the nearest fifth
EVIDENCE = 3  # the leading fields of ``rank_key`` (kind, blank, coverage) by which a chain outranks the model's
MAX_CHARS = 400  # a passage sentence longer than this is no statement to print
MIN_WORDS = 4


def terms(text: str) -> set[str]:
    """Content words of ``text`` that say what it is about (the words a question asks with left out; hyphenated
    words in their parts, so "perovskite-silicon" covers "silicon")."""
    return content_words(re.sub(r"(?<=\w)-(?=\w)", " ", text)) - ASKING


def question_entities(question: str) -> list[set[str]]:
    """The content words of each name the question states (its own entities); a one-word name describing the
    kind of thing asked for ("Which Canadian rock band") is none: a distractor's chain named "Canadian" and held."""
    return [w for w in (terms(n) for n, at in name_spans(question) if not modifier(question, n, at)) if w]


def passage_statements(chunk_id: str, text: str) -> list[Statement]:
    """The whole sentences of a chunk as statements citing it; a fragment cut at the chunk's edge is left out."""
    parts = split_sentences(text)
    out = []
    for n, part in enumerate(parts):
        cut_start = n == 0 and part[:1].islower()
        cut_end = n == len(parts) - 1 and not part.endswith(SENTENCE_ENDS)
        if not (cut_start or cut_end) and len(part.split()) >= MIN_WORDS and len(part) <= MAX_CHARS:
            out.append(Statement(part, (chunk_id,), "passage", n))
    return out


def fact_statements(facts: Sequence[Mapping[str, Any]], texts: Mapping[str, str]) -> list[Statement]:
    """Each knowledge-graph fact as the sentence of a chunk it cites that names both its ends (else none)."""
    out = []
    for fact in facts:
        ends = [str(fact.get("subject", "")), str(fact.get("object", ""))]
        for chunk_id in fact.get("chunk_ids", []):
            found = [s for s in split_sentences(texts.get(chunk_id, "")) if all(holds(s, e) for e in ends if e)]
            if found and len(found[0]) <= MAX_CHARS:
                out.append(Statement(found[0], (chunk_id,), "fact"))
                break
    return out


def statement_pool(
    answer: Sequence[Mapping[str, Any]], sections: Sequence[Mapping[str, Any]], findings: Sequence[Mapping[str, Any]],
    facts: Sequence[Mapping[str, Any]], texts: Mapping[str, str],
) -> list[Statement]:
    """Every cited statement the run holds, each once: the model's verified answer sentences first. A written
    statement (the model's, a finding) carries the words of the chunks it cites as its evidence."""
    def cited(items: Sequence[Mapping[str, Any]], origin: str) -> list[Statement]:
        out = []
        for s in items:
            ids = tuple(dict.fromkeys(i for i in s.get("chunk_ids", []) if i in texts))
            if ids:
                evidence = frozenset(terms(" ".join(texts[i] for i in ids)))
                out.append(Statement(str(s["text"]), ids, origin, evidence=evidence))
        return out

    pool = [*cited(answer, "model"), *cited([s for sec in sections for s in sec.get("sentences", [])], "sentence"),
            *cited(findings, "finding"), *fact_statements(facts, texts)]
    pool += [s for chunk_id, text in texts.items() for s in passage_statements(chunk_id, text)]
    out: dict[str, Statement] = {}
    for statement in pool:
        key = fold(statement.text)
        first = out.setdefault(key, statement)
        if first is not statement and statement.pos >= 0 and first.pos < 0:  # the same sentence, in its passage
            ids = (statement.chunk_ids[0], *(i for i in first.chunk_ids if i != statement.chunk_ids[0]))
            out[key] = Statement(first.text, ids, first.origin, statement.pos)  # its own evidence
    return list(out.values())


def bridge_names(question: str, statements: Sequence[Mapping[str, Any]], texts: Mapping[str, str]) -> list[str]:
    """The names ``statements`` state that the question does not, less those most chunks of ``texts`` state
    ("Korean", "American": no bridge between two subjects)."""
    found = [n for s in statements for n, _at in name_spans(str(s["text"])) if not restates(n, question)]
    chunks = [fold(t) for t in texts.values()]
    common = {n for n in found if len(chunks) >= 4 and sum(holds(c, n) for c in chunks) > len(chunks) / 2}
    return list(dict.fromkeys(n for n in found if n not in common))


@dataclass(frozen=True)
class Chain:
    """A candidate and the statements linking it to the question (question side first, its own last)."""

    candidate: Candidate
    statements: tuple[Statement, ...]
    coverage: float  # share of the question's terms the statements cover
    entities: int  # the question's entities the statements name
    focus: int = 0  # the question's focus terms (``focus_terms``) the candidate's own statement states


def focus_terms(question: str) -> set[str]:
    """The terms next to what the question asks with ("last aired on what date" → last, aired): the relation
    the answer's own statement should state."""
    words = question.rstrip(" ?").split()
    at = next((n for n, w in enumerate(words) if w.casefold().strip(",") in ASKING), 0)
    return terms(" ".join([*words[max(0, at - 4): at + 4], *words[-4:]]))


def pronoun_led(text: str) -> bool:
    """Whether a sentence's subject is a pronoun ("It is the third book ...")."""
    first = text.split(maxsplit=1)[0].casefold().strip("\"'“(,") if text.split() else ""
    return first in PRONOUNS


def grounded(statement: Statement) -> set[str]:
    """The terms of ``statement`` its evidence states: a written sentence's own words are no evidence (a 1.5B's
    "The name of the child of Chiang Hsiao-wen's father is Andy Barclay", citing a page on a film character,
    covered the whole question)."""
    words = terms(statement.text)
    return words if statement.evidence is None else words & statement.evidence


def grounded_names(statement: Statement, question: str) -> list[str]:
    """The names of ``statement`` the question does not state and its evidence does; a bare title names no one, so
    it links nothing ("President" linked a memoir of a White House doctor to Bill Clinton's lawyer)."""
    found = [n for n, _at in name_spans(statement.text) if not restates(n, question) and not bare_title(n)]
    return [n for n in found if statement.evidence is None or terms(n) <= statement.evidence]


def mentions_name(raw: str, folded: str, name: str) -> bool:
    """Whether a statement (``raw``, and ``folded``) names ``name``: a one-word name as written, capital and all
    (an infobox's "First appearance" is no link to "his first wife"); a longer one case and spacing aside."""
    if " " in name:
        return fold(name) in folded and holds(folded, name)
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", raw) is not None


class _Index:
    """The pool with each statement's grounded terms and bridge names, and which statements each bridge name links."""

    def __init__(self, question: str, pool: Sequence[Statement]) -> None:
        self.question = question
        self.wanted = terms(question)
        self.focus = focus_terms(question) & self.wanted
        self.entities = question_entities(question)
        self.pool = list(pool)
        self.words = [grounded(s) for s in self.pool]
        folded = [fold(s.text) for s in self.pool]
        surfaces = [grounded_names(s, question) for s in self.pool]
        names = [[fold(n) for n in found] for found in surfaces]
        written = {fold(n): n for found in surfaces for n in found}
        mentions = {n: [i for i, s in enumerate(self.pool) if mentions_name(s.text, folded[i], surface)]
                    for n, surface in written.items()}
        common = self._common(mentions)
        self.bridges = [[n for n in found if n not in common] for found in names]
        self.mentions = mentions
        self.place = {(s.chunk_ids[0], s.pos): i for i, s in enumerate(self.pool) if s.pos >= 0}
        led: dict[str, set[int]] = {}
        for i, s in enumerate(self.pool):
            if s.pos > 0 and pronoun_led(s.text):
                led.setdefault(s.chunk_ids[0], set()).add(i)
        self._led = {chunk: frozenset(found) for chunk, found in led.items()}  # pronoun-led sentences per chunk
        self._chains: dict[tuple[int, frozenset[int]], tuple[tuple[int, ...], set[str]]] = {}

    def _common(self, mentions: Mapping[str, list[int]]) -> set[str]:
        """Names most chunks state ("Korean", "American"): no bridge between two subjects."""
        chunks = {c for s in self.pool for c in s.chunk_ids}
        if len(chunks) < 4:
            return set()
        return {n for n, where in mentions.items()
                if len({c for i in where for c in self.pool[i].chunk_ids}) > len(chunks) / 2}

    def near(self, i: int) -> set[int]:
        """Statements linked to statement ``i``: those stating one of its bridge names, and its passage neighbours."""
        out = {j for n in self.bridges[i] for j in self.mentions.get(n, [])}
        s = self.pool[i]
        if s.pos >= 0:
            out |= {j for d in (-1, 1) if (j := self.place.get((s.chunk_ids[0], s.pos + d))) is not None}
        return out - {i}

    def said_of(self, start: int) -> frozenset[int]:
        """The pronoun-led sentences of the chunk that statement ``start`` opens ("He also had two half-brothers
        ...", on the page that opens "Chiang Hsiao-wu (...) was ..."): what the chunk says of its subject."""
        s = self.pool[start]
        return self._led.get(s.chunk_ids[0], frozenset()) if s.pos == 0 else frozenset()

    def chain(self, start: int, about: frozenset[int] = frozenset()) -> tuple[tuple[int, ...], set[str]]:
        """Greedy: from ``start``, add the linked statement (or one of ``about``: what is said of the candidate by
        pronoun) covering most new question terms, ``MAX_LINKS`` times."""
        if (start, about) not in self._chains:
            links, covered = [start], self.words[start] & self.wanted
            for _ in range(MAX_LINKS):
                near = (set().union(*(self.near(i) for i in links)) | about) - set(links)
                gains = sorted(((len((self.words[j] & self.wanted) - covered), -j) for j in near), reverse=True)
                if not gains or gains[0][0] == 0:
                    break
                links.insert(0, -gains[0][1])
                covered |= self.words[-gains[0][1]] & self.wanted
            self._chains[start, about] = (tuple(links), covered)
        return self._chains[start, about]

    def printable(self, links: Sequence[int]) -> list[Statement]:
        """The chain's statements to print: a pronoun-led passage sentence after the one before it in its chunk,
        sentences of one chunk together and in their order, chunks in the chain's order."""
        wanted = list(links)
        for i in links:
            s = self.pool[i]
            if s.pos > 0 and pronoun_led(s.text) and (j := self.place.get((s.chunk_ids[0], s.pos - 1))) is not None:
                wanted.insert(wanted.index(i), j)
        groups: dict[str, list[int]] = {}
        for i in dict.fromkeys(wanted):
            groups.setdefault(self.pool[i].chunk_ids[0] if self.pool[i].pos >= 0 else f"#{i}", []).append(i)
        return [self.pool[i] for group in groups.values() for i in sorted(group, key=lambda k: self.pool[k].pos)]


def chain_for(index: _Index, candidate: Candidate) -> Chain | None:
    """The chain of ``candidate`` (None for a candidate with no statement)."""
    if candidate.statement is None:
        return None
    start = index.pool.index(candidate.statement)
    # a candidate that opens its chunk is the "He"/"It" of the chunk's later sentences (the 1.5B's right "Chiang
    # Hsiao-wu" lost to "Winston Chang", named in "He also had two half-brothers ... the same father")
    opens = candidate.position == 0 or opens_with(candidate.statement.text, candidate.text)
    links, covered = index.chain(start, index.said_of(start) if opens else frozenset())
    words = set().union(*(index.words[i] for i in links))
    named = sum(1 for e in index.entities if e <= words)
    coverage = len(covered) / len(index.wanted) if index.wanted else 0.0
    focus = len(index.words[start] & index.focus)
    return Chain(candidate, tuple(index.printable(links)), coverage, named, focus)


def holding(chain: Chain, index: _Index) -> bool:
    """Whether ``chain`` links its candidate to the question: enough of its terms, one of its entities."""
    return chain.coverage >= HOLD and (chain.entities > 0 or not index.entities)


def covered(chain: Chain) -> float:
    """The chain's coverage to the nearest ``COVERAGE_STEP``: a term more of a long question is no better evidence
    (a chain of four statements covering one term more outranked the span a question's relation names)."""
    return math.floor(chain.coverage / COVERAGE_STEP + 0.5) * COVERAGE_STEP


def rank_key(chain: Chain, index: _Index, votes: Mapping[str, int]) -> tuple[float, ...]:
    """Sort key (higher first): the kind's fit, a span filling the question's blank, the chain's coverage, the
    question's focus terms, a span named as what it asks for (or whose own sentence in the chain says so), the
    model's answer, how often stated, order."""
    c = chain.candidate
    hint = order_hint(index.question, c.statement, c.position) if c.statement is not None else 0.0
    cloze = cloze_hint(index.question, c.statement, c.position) if c.statement is not None else 0
    typed = type_hint(index.question, c.statement, c.position) if c.statement is not None else 0
    typed = max(typed, int(any(describes(index.question, s, c.text) for s in chain.statements)))
    return (fits(c.kind, expected_kind(index.question)), cloze, covered(chain), chain.focus, typed,
            chain.entities,
            float(c.model),
            min(votes.get(fold(c.text), 0), 3), hint, -len(chain.statements), -c.position / 1000.0)


def best_chain(question: str, pool: Sequence[Statement], model_answer: str = "") -> Chain | None:
    """The best holding chain over ``pool`` for ``question`` (the model's answer a candidate too); None: not found."""
    index = _Index(question, pool)
    found = [*from_model(question, model_answer, index.pool),
             *(c for s in index.pool for c in from_statement(question, s))]
    votes: dict[str, int] = {}
    for c in found:
        votes[fold(c.text)] = votes.get(fold(c.text), 0) + 1
    chains = [ch for ch in (chain_for(index, c) for c in found) if ch is not None and holding(ch, index)]
    # The model read the passages; the span picker only reads their surface. Its answer, when a chain holds
    # it, is the answer (a 1.5B's held answers lost to spans such as "Roll Hall of Fame" and "9 January 1868").
    # Unless another chain fits the asked kind better, fills the question's blank, or covers clearly more of it
    # (the 1.5B's "Hollowick", "Midland F1 Racing", "Brøndby IF": held, but by a thinner chain).
    own = [ch for ch in chains if ch.candidate.model]
    best = max(chains, key=lambda ch: rank_key(ch, index, votes), default=None)
    mine = max(own, key=lambda ch: rank_key(ch, index, votes), default=None)
    if best is None or mine is None:
        return best
    return best if rank_key(best, index, votes)[:EVIDENCE] > rank_key(mine, index, votes)[:EVIDENCE] else mine


def yes_no(question: str, model_answer: str, pool: Sequence[Statement]) -> Chain | None:
    """A yes/no question's answer: the model's yes or no, held by its verified sentences covering the question."""
    said = " ".join(model_answer.split()).strip(" .!").casefold()
    own = [s for s in pool if s.origin == "model"]
    if expected_kind(question) != "yesno" or said not in ("yes", "no") or not own:
        return None
    index = _Index(question, own)
    covered = set().union(*index.words) & index.wanted
    chain = Chain(Candidate(said, "yesno", None, model=True), tuple(own),
                  len(covered) / len(index.wanted) if index.wanted else 0.0,
                  sum(1 for e in index.entities if e <= set().union(*index.words)))
    return chain if holding(chain, index) else None
