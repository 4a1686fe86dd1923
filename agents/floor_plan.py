"""The plan's and the search's floors: what is searched whatever the model planned (ARCHITECTURE.md, "Floors").

Pure functions, no model and no I/O:

- ``keyword_query``: a keyword query derived from the question — its named spans (quoted titles,
  capitalized names, numbers) and its longest remaining content words;
- ``degenerate``: whether a sub-question or query a model wrote is useless — fewer words than a
  question needs, nothing in common with the question, only the schema's own key names or a
  language code;
- ``off_topic`` / ``foreign_title``: the plan floor on the relevance bar's footing (``memory.relevance``):
  a sub-question or query must share a named entity or a rare content word with the question (or a
  bridge entity found in this run); an outline section must not name something else — a name that
  shares only a common word with the question ("Operation Barrel Roll" for a question on Operation
  Neptune Spear), or none, is dropped like any unusable title;
- ``floor_plan``: the question itself is always searched — as a query of the model's first usable
  sub-question (after its own first two), or, when the model planned nothing usable, as the one sub-question (with the
  keyword query and the model's usable queries); the outline is the model's usable sections, else
  one "Findings" section;
- ``hop_entities``: names the pages read mention that the question does not — round-two queries.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from agents.lexical import content_words, fold, normalize_question
from memory.relevance import names_something, shares_key

FINDINGS_SECTION = "Findings"  # not "Answer": the short answer opens the report under that heading
MIN_SUBQUESTION_WORDS = 4
KEYWORDS = 8  # words in a derived keyword query
# What a small model copies from the prompt or the schema instead of writing a plan.
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


ECHOES = _words(
    """brief outline section sections subquestion subquestions question questions query queries
    research web search web_search tool tools answer answers language string array object none null en"""
)
MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
         r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_WHEN = re.compile(rf"{MONTH}|(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day", re.IGNORECASE)
_QUOTED = re.compile(r"[\"“]([^\"”]{2,80})[\"”]")
_NAME = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:(?:of|the|de|la|and|von|van|du|del|for)\s+)*[A-Z][\w'’.-]*)*"
                   r"|\b\d[\d,.]*\d\b|\b\d\b")
_LEADING = _words("""a an the which what who whom whose when where why how is are was were do does did in on
    at of for to from by and or but this that these those it its his her their there""")


def named_spans(text: str) -> list[str]:
    """Quoted titles and capitalized names (and numbers) in ``text``, in order, without leading function words."""
    spans = [m.group(1).strip() for m in _QUOTED.finditer(text)]
    for match in _NAME.finditer(text):
        # a name never runs across a sentence end; an initial's stop is none ("James A. Garfield")
        for part in re.split(r"(?<=[.!?;:])(?<!\b[A-Z]\.)\s+", match.group(0)):
            words = part.split()
            while words and words[0].casefold() in _LEADING:
                words.pop(0)
            while words and words[-1].casefold() in _LEADING:
                words.pop()
            if words and (any(w[0].isupper() for w in words) or words[0][0].isdigit()):
                spans.append(" ".join(words).strip(".,;:"))
    out: list[str] = []
    for span in spans:
        if span and span.casefold() not in {o.casefold() for o in out}:
            out.append(span)
    return out


_DEMONYM = re.compile(r"(?:an|ian|ese|ish|ic|i)$")  # American, Italian, Japanese, British, Icelandic, Israeli
# honorifics and titles: "Mrs" or "President" alone names no one
_HONORIFIC = _words("mr mrs ms dr sir lady lord dame saint st prof president king queen prince princess emperor "
                      "empress pope governor senator general captain chairman")
_VERB_FORM = re.compile(r"(?:ed|[^s]s)$")
_LINKING = _words("is are was were has have had will would can could did does do won became remains")


def bare_title(name: str) -> bool:
    """Whether ``name`` is one honorific or title word ("Mrs", "President"): it names no one."""
    return " " not in name and name.casefold().rstrip(".") in _HONORIFIC


def describing(text: str, span: str, at: int) -> bool:
    """Whether a one-word name of ``text`` only describes the noun after it ("an American businessman", "a 1979
    British thriller") or is an honorific without its name ("Mrs"): no answer to a question asking for a name (a
    floor answered "American" and "Mrs" to "Who ...?" questions). "Japan is", "Jordan played" are names."""
    if " " in span:
        return False
    if bare_title(span):
        return True
    after = text[at + len(span):].split(maxsplit=1)
    following = after[0].strip(",;:.\"'") if after and after[0][:1] not in ",;:.)" else ""
    return bool(_DEMONYM.search(span)) and following[:1].islower() \
        and following.casefold() not in _LINKING and not _VERB_FORM.search(following)


def keyword_query(question: str, limit: int = KEYWORDS) -> str:
    """A keyword query for ``question``: its named spans, then its longest other content words."""
    words: list[str] = []
    seen: set[str] = set()

    def add(word: str) -> None:
        keys = content_words(word) or {word.casefold()}
        if not keys <= seen and len(words) < limit:
            seen.update(keys)
            words.append(word)

    for span in named_spans(question):
        for word in span.split():
            if word.casefold() not in _LEADING:
                add(word.strip(".,;:?!\"“”"))
    rest = [w for w in re.findall(r"[\w'’-]+", question) if content_words(w) and w.casefold() not in _LEADING]
    for word in sorted(dict.fromkeys(rest), key=lambda w: (-len(w), w.casefold())):
        add(word)
    return " ".join(w for w in words if w)


def degenerate(text: str, question: str, *, min_words: int = 1) -> bool:
    """Whether a model-written sub-question (``min_words`` 4) or query (1) is of no use for ``question``."""
    words = re.findall(r"\w+", text)
    own = content_words(text)
    if len(words) < min_words or not own:
        return True
    if own <= ECHOES:
        return True
    return not own & content_words(question)


_WORD = re.compile(r"[^\W\d_]{2,}")  # a word of letters: "1000000000" is no section title


def usable_title(title: str) -> bool:
    """Whether a model-written section title can head a section: a word of letters, not only the schema's."""
    return bool(_WORD.search(title)) and not degenerate(title, title)


def off_topic(text: str, question: str, bridges: Sequence[str] = ()) -> bool:
    """Whether a sub-question or query shares no named entity or rare word with the question or a bridge
    (False when they name nothing the bar could judge: the older rules decide then)."""
    return shares_key(text, question, bridges) is False


def foreign_title(title: str, question: str, bridges: Sequence[str] = ()) -> bool:
    """Whether an outline title names something else: it is a name (two capitalized words or a quoted
    title) that shares no named entity or rare word with the question or a bridge. A generic title
    ("Band", "Efficiency") names nothing and is judged as today."""
    return names_something(title) and shares_key(title, question, bridges) is False


def floor_plan(plan: dict[str, Any], question: str, breadth: int, bridges: Sequence[str] = ()) -> dict[str, Any]:
    """``plan`` (brief, outline, subquestions as dicts) with the floor under it; see the module docstring."""
    keywords = keyword_query(question)
    subs: list[dict[str, Any]] = []
    for sub in plan.get("subquestions", []):
        text = str(sub.get("question", "")).strip()
        if degenerate(text, question, min_words=MIN_SUBQUESTION_WORDS) or off_topic(text, question, bridges):
            continue
        queries = [str(q).strip() for q in sub.get("queries", [])
                   if not degenerate(str(q), f"{question} {text}") and not off_topic(str(q), question, bridges)]
        subs.append({"question": text, "queries": _distinct(queries or [keyword_query(text)]),
                     "section": sub.get("section", "")})
    outline = _distinct([str(t).strip() for t in plan.get("outline", [])
                         if usable_title(str(t)) and not foreign_title(str(t), question, bridges)])
    if not subs:
        model_queries = [q for s in plan.get("subquestions", []) for q in s.get("queries", [])
                         if not degenerate(str(q), question) and not off_topic(str(q), question, bridges)]
        subs = [{"question": question, "queries": _distinct([keywords, *model_queries])[:3],
                 "section": outline[0] if outline else FINDINGS_SECTION}]
    elif not any(_same(s["question"], question) or any(_same(q, question) for q in s["queries"]) for s in subs):
        subs[0]["queries"] = _distinct([*subs[0]["queries"][:2], question])
    for sub in subs:
        sub["queries"] = sub["queries"][:3]
        if sub["section"] not in outline:  # a section the outline lost (or never had): the first one
            sub["section"] = outline[0] if outline else FINDINGS_SECTION
    return {"brief": plan.get("brief", ""), "outline": outline or [FINDINGS_SECTION],
            "subquestions": subs[: max(1, breadth)]}


def hop_entities(
    question: str, texts: Sequence[str], limit: int, *, extra: Sequence[str] = (), attest: Sequence[str] = ()
) -> list[str]:
    """Names in ``texts`` that ``question`` does not name, then names from ``extra`` (e.g. the knowledge
    graph's entities, the model's findings' names) that the texts or ``attest`` attest.

    The floor's names come first (a month or a weekday is no name): those of the texts that name one of the
    question's own names (``anchors``: the first hop's sentences, where a bridge is named), then the rest; a word
    that only describes the noun after it ("an American model") last. Within each, by how many of the distinct texts
    name them, then by first appearance. A model's entity is taken only when it occurs in the texts and only after
    them, so a model can add names but never push the floor's out. A name counts as named by the question when all
    its content words are in the question.
    """
    asked = content_words(question)
    own = anchors(question)
    counts: dict[str, int] = {}
    first: dict[str, int] = {}
    names: dict[str, str] = {}
    anchored: set[str] = set()
    plain: set[str] = set()  # names used as a name at least once (not only "an American model")
    for text in dict.fromkeys(texts):  # a finding two sub-questions recorded counts once
        words_of_text = content_words(text)
        hop = any(a <= words_of_text for a in own)
        for span in named_spans(text):
            words = content_words(span)
            if not words or words <= asked or words <= ECHOES or span.replace(",", "").replace(".", "").isdigit() \
                    or _WHEN.fullmatch(span):  # "born 4 July 1992": a month links no two subjects
                continue
            key = " ".join(sorted(words))
            names.setdefault(key, span)
            counts[key] = counts.get(key, 0) + 1
            first.setdefault(key, len(first))
            if hop:
                anchored.add(key)
            if not describing(text, span, text.find(span)):
                plain.add(key)
    ranked = [names[k] for k in sorted(counts, key=lambda k: (k not in anchored, k not in plain, -counts[k], first[k]))]
    folded = fold(" ".join([*texts, *attest]))
    for name in extra:
        words = content_words(name)
        attested = name.strip() and fold(name) in folded
        if attested and words and not words <= asked and not any(_same(name, r) for r in ranked):
            ranked.append(name.strip())
    return ranked[:limit]


def anchors(question: str) -> list[frozenset[str]]:
    """The content words of each name ``question`` states, less a word that only describes the noun after it
    ("Which Canadian rock band"): what a first-hop sentence names."""
    out = []
    for span in named_spans(question):
        words = content_words(span)
        if words and not describing(question, span, question.find(span)):
            out.append(frozenset(words))
    return out


def _distinct(items: Sequence[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item and not any(_same(item, o) for o in out):
            out.append(item)
    return out


def _same(a: str, b: str) -> bool:
    return normalize_question(a) == normalize_question(b)
