"""The span picker: short answers (names, dates, numbers, yes/no) a cited sentence offers for a question.

Pure functions, no model and no I/O. A candidate is a span of a sentence the run holds (a verified
sentence, a finding, a passage's sentence) or the model's own short answer; it must say something the
question does not (a span whose content words the question already holds restates the question and
is never the answer), except for the options of an either-or question ("X or Y?"), which are the only
candidates there. The question's expected kind (date, year, number, name, yes/no) is read from its
wording, so a "what date" question prefers "July 8, 2014" over "2016".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.floor_plan import MONTH as _MONTH
from agents.floor_plan import describing, named_spans
from agents.lexical import content_words, fold

DATE = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{3,4}}"  # July 8, 2014
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+\d{{3,4}}"  # 8 July 2014
    rf"|{_MONTH},?\s+\d{{4}})\b"  # July 2014
)
YEAR = re.compile(r"(?<![\d.,])\b(1[0-9]{3}|20[0-9]{2})\b(?![\d.,]\d)")
_NUMBER = re.compile(r"(?<![\w.,])\d[\d,]*(?:\.\d+)?(?:\s*(?:%|percent|million|billion|thousand))?(?![\w])")
_CLAUSE_START = re.compile(r"(?:^|[.!?:;—–]\s*|\s-\s)[\"'“(]?$")  # a lone capital here starts a sentence
_YES_NO = ("is ", "are ", "was ", "were ", "do ", "does ", "did ", "can ", "could ", "has ", "have ", "had ",
           "will ", "would ", "should ")
_OPTIONS = re.compile(r",?\s*([^,?]+?)\s+or\s+([^,?]+?)\s*\?\s*$")
_MEASURES = ("efficiency|percentage|percent|rate|population|height|length|speed|temperature|size|amount|cost|"
             "price|distance|area|capacity|weight|age|score|number|count|total|share")
_LAST = re.compile(r"\b(last|latest|final|finally|end|ended|ends|until|closed|concluded)\b", re.I)
_FIRST = re.compile(r"\b(first|premiered|began|begin|start|started|debut|debuted|opened|launched)\b", re.I)
# What a question asks with, not what it is about: never evidence that a sentence is on its topic.
def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text`` as a set (word lists written as one string)."""
    return frozenset(text.split())


ASKING = word_set("what which who whom whose when where why how name named called date year number")
PRONOUNS = word_set("it its he his she her they their them this these those")


@dataclass(frozen=True)
class Statement:
    """A cited sentence the run holds: its text and the ids of the chunks it cites."""

    text: str
    chunk_ids: tuple[str, ...]
    origin: str = "sentence"  # "model" (the model's verified answer sentence), "sentence", "finding", "passage", "fact"
    pos: int = -1  # a passage sentence's place in its chunk (-1: not a passage sentence)
    # the content words of the chunks a written statement cites (None: the statement is its own evidence)
    evidence: frozenset[str] | None = None


@dataclass(frozen=True)
class Candidate:
    """A short answer and where it was found (the statement holding it; None for a bare yes/no)."""

    text: str
    kind: str  # "date", "year", "number", "name", "yesno"
    statement: Statement | None
    position: int = 0  # where the span starts in its statement (the subject comes first)
    model: bool = False  # the model's own short answer


def expected_kind(question: str) -> str:
    """The kind of answer ``question`` asks for: "date", "year", "number", "yesno", "option" or "name"."""
    q = " ".join(question.casefold().split())
    if options(question):
        return "option"
    if q.startswith(_YES_NO):
        return "yesno"
    if re.search(r"\b(what|which|in what)\s+year\b", q):
        return "year"
    if q.startswith("when") or re.search(r"\b(what|which)\s+(date|day)\b", q) or q.rstrip("?").endswith("date"):
        return "date"
    if re.search(r"\bhow\s+(many|much|long|old|tall|high|far|big|large)\b", q) or "what number" in q:
        return "number"
    if re.search(rf"\b(what|which)\s+(\w+\s+)?({_MEASURES})\b", q):
        return "number"
    return "name"


_OPEN = re.compile(r"(?:how|why|explain|describe|discuss|summari[sz]e|outline|what is the difference|what are the "
                   r"(?:advantages|disadvantages|benefits|effects|impacts|causes|risks|pros|uses|main))\b")
_QUANTITY = re.compile(r"how\s+(?:many|much|long|old|tall|high|far|big|large|deep|wide|often|fast)\b")


def factoid(question: str) -> bool:
    """Whether ``question`` asks for a short answer (a name, date, number, yes/no, one of two options) rather
    than an explanation ("How do perovskite solar cells work?", "Why ...", "What is a perovskite?")."""
    q = " ".join(question.casefold().split())
    if _QUANTITY.match(q) or options(question):
        return True
    if _OPEN.match(q):
        return False
    defined = re.fullmatch(r"what\s+(?:is|are)\s+(?:an?\s+)?([\w' -]+?)\s*\??", q)  # "What is a perovskite?"
    return not (defined and len(defined.group(1).split()) <= 3
                and not re.search(r"\b(?:the|of|name|called|known)\b|'s\b", defined.group(1)))


def options(question: str) -> list[str]:
    """The two options of an either-or question ("Which is older, X or Y?"), else []."""
    q = question.strip()
    if not re.match(r"(?i)\s*(which|who|what|whose|where|is|are|was|were|did|does|do)\b", q):
        return []
    match = _OPTIONS.search(q)
    if not match:
        return []
    first = re.sub(r"(?i)^.*\b(?:is|was|are|were|did|does|do|has|had)\s+(?:the\s+)?", "", match.group(1)).strip()
    if "," not in q:  # "Who was born first Iain Pears or ...": the lower-case words before the name are the question's
        first = re.sub(r"^(?:[A-Z][a-z]*\s+)?(?:[a-z][\w'-]*\s+)+(?=[A-Z0-9\"'“])", "", first)
    out = [first.strip(" \"'"), match.group(2).strip(" \"'")]
    return out if all(len(o) > 1 for o in out) else []


def acronyms(text: str) -> set[str]:
    """The initials of each name of ``text`` of two or more capitalized words, folded ("Association of Indian
    Universities" → "aiu")."""
    out = set()
    for name in named_spans(text):
        capitals = [w[0] for w in re.findall(r"[^\W\d_][\w'’-]*", name) if w[0].isupper()]
        if len(capitals) >= 2:
            out.add("".join(capitals).casefold())
    return out


def restates(span: str, question: str) -> bool:
    """Whether ``span`` only restates ``question``: every content word of it is one of the question's, or the
    initials of one of its names ("AIU" for "the Association of Indian Universities")."""
    words = content_words(span)
    return not words or not words - content_words(question) - acronyms(question)


def _pair(span: str) -> list[str]:
    """``span`` split at "and"/"&" into the names it joins ("Park Hae-jin and Kang So-ra"), except a name whose
    first word is joined to a longer tail ("Rock and Roll Hall of Fame", "Procter & Gamble Company"): one name."""
    parts = re.split(r"\s+(?:and|&)\s+", span)
    if len(parts) == 2 and len(parts[0].split()) == 1 and len(parts[1].split()) >= 3:
        return [span]
    return parts


def name_spans(text: str) -> list[tuple[str, int]]:
    """Names (quoted titles, capitalized runs) in ``text`` with their positions; "A and B" split in two
    (``_pair``), a lone capitalized word starting a sentence or clause ("Stacking a cell ...") no name, nor a month
    (two people born in September are not linked by it)."""
    out: list[tuple[str, int]] = []
    for span in named_spans(text):
        for part in _pair(span):
            part = part.strip(" \"'“”,;:.")
            at = text.find(part)
            if part and not part.replace(",", "").replace(".", "").isdigit() and YEAR.fullmatch(part) is None \
                    and re.fullmatch(_MONTH, part) is None and part.casefold() not in ASKING \
                    and not (" " not in part and _CLAUSE_START.search(text[:max(at, 0)])):
                out.append((part, at if at >= 0 else len(text)))
    return out


_DETERMINER = re.compile(r"\b(?:a|an|the|which|what)\s+$", re.IGNORECASE)


def modifier(question: str, name: str, at: int) -> bool:
    """Whether a one-word name of ``question`` describes a noun ("Which Canadian rock band", "a Danish chemist"):
    the kind of thing asked for, no entity, so it anchors no sentence (the distractor "Hollowick is a Canadian rock
    band" named it)."""
    after = question[at + len(name):].split(maxsplit=1)
    return " " not in name and bool(_DETERMINER.search(question[:at])) and bool(after) and after[0][:1].islower()


def spans(text: str) -> list[tuple[str, str, int]]:
    """Every answer-like span of ``text``: (span, kind, position) for dates, years, numbers and names."""
    found: list[tuple[str, str, int]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in (("date", DATE), ("year", YEAR), ("number", _NUMBER)):
        for match in pattern.finditer(text):
            if any(a <= match.start() < b for a, b in taken):
                continue  # "2014" inside "July 8, 2014" is not a span of its own
            taken.append((match.start(), match.end()))
            found.append((match.group(0).strip(" ,"), kind, match.start()))
    for name, at in name_spans(text):
        if not DATE.fullmatch(name) and not any(a <= at < b for a, b in taken):
            found.append((name, "name", at))
    return found


def fits(kind: str, wanted: str) -> int:
    """How well a span of ``kind`` fits a question asking for ``wanted``: 2 exactly, 1 loosely, 0 not."""
    if kind == wanted:
        return 2
    loose = {"date": ("year",), "year": ("date",), "number": (), "name": ("date", "year", "number")}
    return 1 if kind in loose.get(wanted, ()) else 0


def from_statement(question: str, statement: Statement) -> list[Candidate]:
    """The candidates a statement offers: its spans the question does not already state."""
    wanted = expected_kind(question)
    if wanted == "option":
        return [Candidate(o, "name", statement, statement.text.casefold().find(o.casefold()))
                for o in options(question) if holds(statement.text, o)]
    if wanted == "yesno":
        return []
    return [Candidate(span, kind, statement, at) for span, kind, at in spans(statement.text)
            if fits(kind, wanted) and not restates(span, question)
            and not (kind == "name" and describing(statement.text, span, at) and not _NATIONALITY.search(question))
            and not (kind == "name" and alias(question, statement.text, at))]


_ALIAS = re.compile(r"\((?:born|né|née|nee|birth name|real name|also known as|known as|a\.?k\.?a\.?)[:,]?\s+"
                    r"(?:[^\s;,()\d]+\s+){0,3}$", re.I)  # "(born Piero di Giovanni; ...": the words of one name
_ASKS_NAME = re.compile(r"(?i)\b(?:born|birth|real name|known as|nickname|nick name|called|pen name|stage name|"
                        r"alias)\b")


def alias(question: str, text: str, at: int) -> bool:
    """Whether the name at ``at`` of ``text`` is another name of one of the question's own names ("Lorenzo Monaco
    (born Piero di Giovanni; ...)"): no answer, unless the question asks for a name ("born as", "nickname")."""
    opened = _ALIAS.search(text[:at])
    if opened is None or _ASKS_NAME.search(question):
        return False
    before = [n for n, _ in name_spans(text[:opened.start()].rstrip())]
    return bool(before) and restates(before[-1], question)


_NATIONALITY = re.compile(r"(?i)\b(?:nationality|citizen|citizenship|ethnicity|ethnic|demonym)\b")


def from_model(question: str, text: str, statements: list[Statement]) -> list[Candidate]:
    """The model's short answer as candidates: once per statement that states it (a yes/no stands alone).

    An answer that only restates the question ("The Hounds of Zaroff" for "What was The Hounds of
    Zaroff also published as?") is no candidate; an either-or question takes only one of its options.
    """
    text = " ".join(text.split()).strip(" .;,\"'")
    wanted = expected_kind(question)
    if not text or len(text.split()) > 12:
        return []
    if text.casefold() in ("yes", "no"):
        return [Candidate(text.casefold(), "yesno", None, model=True)] if wanted == "yesno" else []
    if wanted == "option":
        if not any(fold(text) == fold(o) for o in options(question)):
            return []
    elif restates(text, question):
        return []
    kind = spans(text)[0][1] if len(spans(text)) == 1 else "name"
    return [Candidate(text, kind, s, s.text.casefold().find(text.casefold()), model=True)
            for s in statements if holds(s.text, text)]


def mention_at(sentence: str, span: str) -> int:
    """Where ``sentence`` (folded) first states ``span`` word for word (case and spacing aside, whole words only);
    -1 when it does not."""
    match = re.search(rf"(?<!\w){re.escape(fold(span))}(?!\w)", fold(sentence))
    return match.start() if match else -1


def holds(sentence: str, span: str) -> bool:
    """Whether ``sentence`` states ``span`` word for word (case and spacing aside, whole words only)."""
    return mention_at(sentence, span) >= 0


def order_hint(question: str, statement: Statement, position: int) -> float:
    """For a "last aired"/"first published" question: the later (or earlier) span of a range wins."""
    if _LAST.search(question):
        return position / max(len(statement.text), 1)
    if _FIRST.search(question):
        return -position / max(len(statement.text), 1)
    return 0.0



_TAIL_STOP = word_set("to as of on in at by for the a an was is were are be been also simply commonly")


def cloze_hint(question: str, statement: Statement, position: int) -> int:
    """1 when the span comes right after the words the question ends on ("... commonly referred to as?" and
    "... or Spurs" after "referred to simply as"; "also published as?" and "published as The Most Dangerous
    Game"): the sentence fills the question's blank. Else 0."""
    tail = re.findall(r"[\w'-]+", question.rstrip(" ?").split(",")[-1].casefold())[-4:]
    if not tail or tail[-1] not in ("as", "called", "named", "titled", "by"):
        return 0
    anchors = [w for w in tail if w not in _TAIL_STOP and w not in ASKING]
    if not anchors:
        return 0
    at = statement.text.casefold().find(anchors[-1])
    return 1 if 0 <= at < position <= at + len(anchors[-1]) + 40 else 0


_ASKED_NOUN = re.compile(r"(?i)\b(?:which|what)\s+((?:[\w'-]+\s+){0,3}[\w'-]+)")


def asked_words(question: str) -> set[str]:
    """The words of the question's "which ..." phrase that say what kind of thing it asks for ("Which Canadian
    rock band" → canadian, rock, band)."""
    match = _ASKED_NOUN.search(question)
    if not match:
        return set()
    return {w for w in re.findall(r"[\w'-]+", match.group(1).casefold()) if len(w) >= 4 and w not in ASKING}


def type_hint(question: str, statement: Statement, position: int) -> int:
    """1 when a word of the question's "which ..." phrase ("Which Canadian rock band") comes right before the
    span ("... rock band Rush"): the sentence names the span as what the question asks for. Else 0."""
    asked = asked_words(question)
    if not asked or position <= 0:
        return 0
    before = re.findall(r"[\w'-]+", statement.text[max(0, position - 25): position].casefold())[-2:]
    return 1 if asked & set(before) else 0


_IS = re.compile(r"\b(?:is|was|are|were)\b")
DESCRIBED_WITHIN = 80  # characters after "is"/"was" where the sentence says what its subject is


_AUX = word_set("is are was were do does did has have had will would can could")
_AFTER_VERB = word_set("a an the his her their its in by on at to from with for as")


def asked_heads(question: str) -> set[str]:
    """The nouns the question's "which ..." phrase ends on ("Which Italian painter and architect" → painter,
    architect; "What political party was ..." → party): the kind of thing asked for, less its describing words."""
    match = re.search(r"(?i)\b(?:which|what)\s+(.*)", question)
    if not match:
        return set()
    phrase = re.findall(r"[\w'-]+", match.group(1).casefold())[:6]
    words: list[str] = []
    for n, w in enumerate(phrase):  # up to the verb: "was", or "released a song" (not "animated film")
        if w in _AUX or (words and w.endswith("ed") and (n + 1 == len(phrase) or phrase[n + 1] in _AFTER_VERB)):
            break
        words.append(w)
    heads = {w for n, w in enumerate(words) if n == len(words) - 1 or words[n + 1] in ("and", "or")}
    return {w for w in heads if len(w) >= 3 and w not in ASKING}


def opens_with(text: str, span: str) -> bool:
    """Whether ``text`` opens with ``span`` (case and spacing aside): the span is the sentence's subject."""
    return bool(span) and fold(text).startswith(fold(span))


def describes(question: str, statement: Statement, span: str) -> bool:
    """Whether ``statement`` opens with ``span`` and says it is what the question asks for ("Giotto di Bondone
    (1270 – 1337) ... was an Italian painter and architect" for "influenced by which Italian painter and
    architect?"): the span's own page names its kind. "He was influenced by Giotto and his followers Spinello
    Aretino" held both names alike, and the one stated twice won."""
    asked = asked_heads(question)
    if not asked or not opens_with(statement.text, span):
        return False
    said = _IS.split(statement.text, maxsplit=1)
    return len(said) == 2 and bool(asked & set(re.findall(r"[\w'-]+", said[1][:DESCRIBED_WITHIN].casefold())))

