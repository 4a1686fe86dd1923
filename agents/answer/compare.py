"""Either-or and yes/no questions answered by comparing what the run read about each of their subjects.

Pure functions, no model and no I/O. A comparison question names two subjects ("Who was born earlier,
Simone Bolelli or Caroline Wozniacki?", "Are Sutera and Rhodotypos both types of shrub?"); the answer is
not a span of one sentence but the outcome of reading both subjects' passages side by side:

- a *time* comparison (earlier, first, older, younger, later, the earliest formed …) compares the first
  date each subject's best statement gives (the statement stating most of the question's other terms:
  "born" picks the birth date, "went into space" the flight);
- a *lifespan* comparison (lived longer, to an older age) compares the years between each subject's
  two years in its opening statement ("(1909 – 2003)");
- a *count* comparison (more albums, the most members, more Grand Slam titles) compares the number each
  subject's best statement puts before the question's counted word; a *height* comparison (taller,
  higher) the first height in metres or feet;
- otherwise the question's remaining terms ("is from Japan") are looked up in each subject's passages,
  and the subject holding the terms the other lacks wins;
- "Are X and Y both Z?" is "yes" when each subject's passages state Z, "no" when one subject's
  passages were read and none states it.

A subject's passages are the chunks that name it before (or without) the other subject. The result is a
``Chain`` whose statements are each subject's deciding statement, so the report prints the comparison's
evidence under the answer. When either subject has no deciding statement, there is no result: the
chain of evidence (``agents.answer.chain``) or "not found" takes over — never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from agents.answer.candidates import DATE, YEAR, Candidate, Statement, holds, mention_at, options, word_set
from agents.answer.chain import Chain, terms

_EARLY = re.compile(r"\b(earlier|earliest|first|older|oldest|elder|eldest|before|sooner)\b", re.I)
_LATE = re.compile(r"\b(later|latest|last|younger|youngest|newer|newest|recent|recently|after)\b", re.I)
_LIFESPAN = re.compile(r"\b(lived (?:a )?longer|longer (?:life|lived)|lived to an older age|older age|"
                       r"lived the longest|longest life)\b", re.I)
_MORE = re.compile(r"\b(more|most|larger|largest|bigger|biggest|greater|greatest|higher|highest|taller|tallest|"
                   r"longer|longest)\b", re.I)
_FEWER = re.compile(r"\b(fewer|fewest|less|least|smaller|smallest|lower|lowest|shorter|shortest)\b", re.I)
_COUNTED = re.compile(r"\b(?:more|most|fewer|fewest|less|least)\s+((?:[\w'-]+\s+){0,4}?[\w'-]+?)\s*"
                      r"(?:\b(?:with|of|in|at|for|by|than|from|during|as)\b|[,?]|$)", re.I)
_RECENT = re.compile(r"\b(?:more|most)\s+recent(?:ly)?\b", re.I)
_HEIGHT = re.compile(r"\b(taller|tallest|higher|highest)\b", re.I)
_ELEVATION = re.compile(r"\b(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(m|metres|meters|ft|feet)\b", re.I)
_BOTH = re.compile(r"(?i)^\s*(?:are|were|is|was|do|did|does|have|has)\s+(?:the\s+)?(?:\w+\s+){0,3}?"
                   r"(.+?)\s+and\s+(.+?)\s+both\s+(.+?)\s*\?\s*$")
_BOTH_LEAD = re.compile(r"(?i)^\s*(?:are|were|is|was|do|did|does|have|has)\s+both\s+(.+?)\s+and\s+(.+?)\s+"
                        r"((?:a|an|the)\s+.+?|\w+s)\s*\?\s*$")
# Words that say how a comparison is asked, not what its subjects are: never a term to look up.
_ASKED = word_set(
    "earlier earliest first older oldest elder eldest before sooner later latest last younger youngest newer newest "
    "recent after more most larger largest bigger biggest greater greatest higher highest taller tallest longer "
    "longest fewer fewest less least smaller smallest lower lowest shorter shortest person people one type kind "
    "form date time age life lived"
)
SUBJECT = 30  # a name this near a statement's start is its subject
MAX_TERMS = 3  # a "both Z?" with more terms than this is a claim to read, not a property to look up
_GENERIC = word_set("type kind form sort example member part")
_WORD_NUMBERS = {w: n for n, w in enumerate(re.findall(r"\w+", (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty")))}
_COUNT = re.compile(r"\b(\d[\d,]*|" + "|".join(_WORD_NUMBERS) + r")\b", re.I)
_MONTHS = {m: n for n, m in enumerate(re.findall(r"\w+", "jan feb mar apr may jun jul aug sep oct nov dec"), start=1)}


@dataclass(frozen=True)
class Side:
    """One subject of a comparison: its name and the statements of the passages about it."""

    name: str
    statements: tuple[Statement, ...]
    words: tuple[set[str], ...] = field(init=False)  # each statement's ``terms``, read once

    def __post_init__(self) -> None:
        object.__setattr__(self, "words", tuple(terms(s.text) for s in self.statements))


def sides(names: Sequence[str], pool: Sequence[Statement]) -> list[Side]:
    """Each subject with the statements of the chunks that name it first (a chunk naming neither: no one's)."""
    by_chunk: dict[str, list[Statement]] = {}
    for s in pool:
        if s.chunk_ids:
            by_chunk.setdefault(s.chunk_ids[0], []).append(s)
    owner: dict[str, int] = {}
    for chunk, found in by_chunk.items():
        text = " ".join(s.text for s in sorted(found, key=lambda s: s.pos))
        at = [_first_mention(text, n) for n in names]
        named = [(a, i) for i, a in enumerate(at) if a >= 0]
        if named:
            owner[chunk] = min(named)[1]
    return [Side(n, tuple(s for c, found in by_chunk.items() if owner.get(c) == i
                          for s in sorted(found, key=lambda s: s.pos)))
            for i, n in enumerate(names)]


def _first_mention(text: str, name: str) -> int:
    """Where ``text`` first names ``name`` (whole, else its last word of four letters or more); -1: nowhere."""
    for needle in (name, *[w for w in name.split()[-1:] if len(w) >= 4]):
        if (at := mention_at(text, needle)) >= 0:
            return at
    return -1


def _matches(term: str, words: set[str]) -> bool:
    """Whether ``term`` is among ``words``, a prefix of four letters or more counting ("japan" in "japanese")."""
    return term in words or any(len(a) >= 4 and b.startswith(a) for w in words for a, b in ((term, w), (w, term)))


def _date_key(text: str) -> tuple[int, int, int] | None:
    """The first date or year ``text`` states as (year, month, day); None when it states none."""
    date, year = DATE.search(text), YEAR.search(text)
    if date and (not year or date.start() <= year.start()):
        y = YEAR.search(date.group(0))
        if y:
            month = next((n for m, n in _MONTHS.items() if m in date.group(0).casefold()), 0)
            day = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\b(?!\d)", date.group(0).replace(y.group(0), ""))
            return int(y.group(0)), month, int(day.group(1)) if day else 0
    return (int(year.group(0)), 0, 0) if year else None


def _best(side: Side, wanted: set[str], value: Callable[[str], object]) -> tuple[Statement, object] | None:
    """The statement of ``side`` for which ``value`` reads a value, stating most ``wanted`` terms, then naming the
    side as its subject (in its first ``SUBJECT`` characters), then naming it at all, then the earliest; with that
    value."""
    best: tuple[tuple[int, int], Statement, object] | None = None
    for s, words in zip(side.statements, side.words, strict=True):
        got = value(s.text)
        if got is None:
            continue
        at = _first_mention(s.text, side.name)
        score = (sum(1 for t in wanted if _matches(t, words)), (at >= 0) + (0 <= at < SUBJECT))
        if best is None or score > best[0]:
            best = (score, s, got)
    return (best[1], best[2]) if best else None


def _lifespan(text: str) -> int | None:
    """Years between the first two years of a statement's opening parentheses ("(1909 – 2003)"); None: none."""
    match = re.search(r"\(([^)]*)\)", text)
    years = [int(y) for y in YEAR.findall(match.group(1))] if match else []
    return years[1] - years[0] if len(years) >= 2 and years[1] > years[0] else None


def _elevation(text: str) -> float | None:
    """The first height a statement states, in metres ("8,586 m", "28,251 ft"); None when it states none."""
    match = _ELEVATION.search(text)
    if not match:
        return None
    value = float(match.group(1).replace(",", ""))
    return value * 0.3048 if match.group(2).casefold() in ("ft", "feet") else value


def _counter(counted: str) -> Callable[[str], int | None]:
    """A reader of the number a statement puts within a few words before ``counted`` (word numbers too)."""
    def read(text: str) -> int | None:
        for match in _COUNT.finditer(text):
            after = text[match.end(): match.end() + 40].casefold().split()[:3]
            if any(_matches(counted, {w.strip(",.;()")}) for w in after):
                word = match.group(1).casefold()
                return _WORD_NUMBERS[word] if word in _WORD_NUMBERS else int(word.replace(",", ""))
        return None
    return read


def _chain(name: str, decided: Sequence[Statement], covered: float) -> Chain:
    """The comparison's result as a chain: the answer and each side's deciding statement."""
    own = next((s for s in decided if holds(s.text, name)), decided[0])
    return Chain(Candidate(name, "name", own, max(own.text.casefold().find(name.casefold()), 0)),
                 tuple(dict.fromkeys(decided)), covered, len(decided))


def compare(question: str, pool: Sequence[Statement]) -> tuple[Chain, bool] | None:
    """The answer of an either-or question by comparison, and whether it was *measured* (dates, lifespans,
    counts: then it wins over a model's answer) rather than read from terms; None when it cannot be decided."""
    names = options(question)
    if len(names) != 2:
        return None
    two = sides(names, pool)
    if not all(side.statements for side in two):
        return None
    rest = {t for t in terms(question) - set().union(*(terms(n) for n in names)) if t not in _ASKED}
    measured = _measure(question, two, rest)
    if measured is not None:
        return measured, True
    found = [{t for t in rest if any(_matches(t, words) for words in side.words)} for side in two]
    own = [found[0] - found[1], found[1] - found[0]]
    if len(own[0]) == len(own[1]):
        return None
    win = 0 if len(own[0]) > len(own[1]) else 1
    best = [_best(side, own[i] or rest, lambda _text: True) for i, side in enumerate(two)]
    decided = [b[0] for b in best if b is not None]
    return _chain(two[win].name, decided[win:] + decided[:win], len(found[win]) / max(len(rest), 1)), False


def _measure(question: str, two: Sequence[Side], rest: set[str]) -> Chain | None:
    """A dates, lifespan or count comparison's chain; None when the question is none or a side has no value."""
    reader: Callable[[str], object]
    if _LIFESPAN.search(question):
        reader, larger = _lifespan, True
    elif _RECENT.search(question):
        reader, larger = _date_key, True
    elif _HEIGHT.search(question) and not _COUNTED.search(question):
        reader, larger = _elevation, True
    elif _MORE.search(question) or _FEWER.search(question):
        counted = _COUNTED.search(question)
        if not counted:
            return None
        noun = counted.group(1).split()[-1].casefold()
        noun = noun[:-1] if len(noun) > 4 and noun.endswith("s") else noun
        reader, larger = _counter(noun), _MORE.search(question) is not None
    elif _EARLY.search(question) or _LATE.search(question):
        reader, larger = _date_key, _LATE.search(question) is not None and not _EARLY.search(question)
    else:
        return None
    decided = [_best(side, rest, reader) for side in two]
    if any(d is None for d in decided):
        return None
    values = [d[1] for d in decided if d is not None]
    if values[0] == values[1]:
        return None
    win = int((values[1] > values[0]) == larger)  # type: ignore[operator]
    statements = [d[0] for d in decided if d is not None]
    return _chain(two[win].name, [statements[win], statements[1 - win]], 1.0)


def both(question: str, pool: Sequence[Statement]) -> Chain | None:
    """"Are X and Y both Z?": "yes" when a statement of each subject's passages states all of Z's terms, "no"
    when one subject's passages were read and state none of them; None otherwise (a subject unread, Z partly
    stated, Z longer than ``MAX_TERMS`` terms, or another question)."""
    match = _BOTH.match(question) or _BOTH_LEAD.match(question)
    if not match:
        return None
    first, second, what = (g.strip(" \"'") for g in match.groups())
    wanted = terms(what) - _GENERIC - terms(first) - terms(second)
    if not wanted or len(wanted) > MAX_TERMS:
        return None
    two = sides([first, second], pool)
    if not all(side.statements for side in two):
        return None
    held = [_best(side, wanted, lambda text: all(_matches(t, terms(text)) for t in wanted) or None) for side in two]
    if all(held):
        return Chain(Candidate("yes", "yesno", None), tuple(h[0] for h in held if h is not None), 1.0, 2)
    for side, h in zip(two, held, strict=True):
        if h is None and not any(_matches(t, words) for words in side.words for t in wanted):
            shown = [side.statements[0], *(h[0] for h in held if h is not None)]
            return Chain(Candidate("no", "yesno", None), tuple(shown), 1.0, 2)
    return None
