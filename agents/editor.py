"""The editor: the verified report, edited so that what is printed earns its place (deterministic, no model).

Runs after verification, over the verified sections and the answer's chain; every rule is a pure
function with its own test:

- a sentence cut mid-word ("The story is insp.") or trimmed at a word becomes the whole sentence of
  the chunk it cites, or goes; a sentence that is only the title of a page it cites goes, and so does one
  that speaks of the question instead of the sources ("The research question asks ...");
- the answer's chain gets the same, and its near-duplicates said once (``edit_chain``);
- markup debris that pages carry into their text is tidied away (``tidy``): a wiki template left as a
  dict ("Peart, {'1': ", '2': "} ( ; born 1952)"), brackets holding only punctuation ("Tottenham ( ) or
  Spurs"), a short page's title run into its first sentence;
- a sentence is kept only when it is on topic: it names an entity of the question, of the answer's
  bridge names or of its section's sub-questions, or shares ``MIN_TERMS`` of their content terms;
  and, when an answer's chain is printed, when it stays beside that chain (``on_chain``): it cites
  one of the chain's chunks or names the answer, a bridge a page read is about, or a name of the
  question that few pages share, in a page about it — the distractor pages a question's terms also
  find do not make the report;
- a sentence whose subject is a pronoun ("It is the third book ...") is kept only right after a
  sentence citing the same chunk (the one that names "it");
- near-duplicate sentences (``DUPLICATE`` of each one's content words shared) are said once,
  the better-cited one kept in the first one's place; the answer's chain comes first, so a section
  never repeats it;
- sections with the same title are merged; a section left empty goes, a one-sentence section is
  folded into its neighbour;
- a title cut mid-phrase or too long is made from its section's sub-question;
- ``length`` caps sentences per section and sections (``LENGTHS``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agents.answer.candidates import PRONOUNS, holds, modifier, name_spans, restates
from agents.answer.chain import MAX_CHARS, terms
from agents.answer.evidence import LEAD
from agents.floors import SENTENCE_ENDS
from agents.floors import split_sentences as chunk_sentences
from agents.lexical import content_words, fold, statement_words

DUPLICATE = 0.7  # share of each sentence's content words two sentences share: said once
MIN_TERMS = 2  # content terms of the question (or bridges, or sub-questions) an on-topic sentence shares
MAX_TITLE = 80
DISTINCT = 2  # chunks read (or a quarter of them) that may name a question's name for it to anchor a sentence
# sentences per section and sections per report for each ``--length``
LENGTHS: dict[str, tuple[int, int]] = {"short": (2, 3), "standard": (5, 6), "long": (8, 8)}
_DANGLING = frozenset(str.split("""a an the of in on at to for from by with and or but as is are was were be that
    which who whose its their his her this these than into about over under between via per"""))


_TEMPLATE_DEBRIS = re.compile(r"""\s*\{'\w+':[^{}]*\}""")  # {'1': ", '2': "}: a template rendered as a dict
_HOLLOW_BRACKETS = re.compile(r"\s*[(\[][^\w(\[]*[)\]]")  # ( ), ( ; ), (] )
_OPEN_SEPARATOR = re.compile(r"([(\[])[\s;,]+")  # "( ; born" -> "(born"
_SPACE_BEFORE_MARK = re.compile(r"\s+([,;:.)\]])")
_COMMA_BEFORE_BRACKET = re.compile(r",\s*\(")


# A page's title glued to its first sentence ("The Hawk (1935 film) The Hawk is a 1935 film", "Jack Attack Jack
# Attack is a game": the extracted text of a short page ran its heading into its paragraph). The title is a name
# of two words or more, or one followed by a bracketed qualifier, so "Duran Duran is a band" is left alone.
_GLUED_TITLE = re.compile(r"^(?P<name>[A-Z][^\s()]*(?:\s[^\s()]+)*?)\s(?:\([^()]{1,40}\)\s)?(?=(?P=name)\b)")


def unglued(text: str) -> str:
    """``text`` without a page title glued before its first sentence (``_GLUED_TITLE``)."""
    match = _GLUED_TITLE.match(text)
    if match is None or (" " not in match.group("name") and "(" not in match.group(0)):
        return text
    return text[match.end():]


def tidy(text: str) -> str:
    """``text`` without markup debris (see the module docstring); what it says is unchanged."""
    text = unglued(text)
    out = _OPEN_SEPARATOR.sub(r"\1", _TEMPLATE_DEBRIS.sub("", text))
    if out != text:  # the name before a template's brackets kept its comma: "Peart, (born" -> "Peart (born"
        out = _COMMA_BEFORE_BRACKET.sub(" (", out)
    out = _HOLLOW_BRACKETS.sub("", out)
    return " ".join(_SPACE_BEFORE_MARK.sub(r"\1", out).split())


def tidied(sentence: Mapping[str, Any]) -> dict[str, Any]:
    """``sentence`` with its text tidied (``tidy``)."""
    return {**sentence, "text": tidy(str(sentence["text"]))}


def whole_sentence(sentence: Mapping[str, Any], texts: Mapping[str, str]) -> dict[str, Any] | None:
    """``sentence`` made whole from the chunk it cites when it is a cut piece of one of the chunk's sentences
    (cut mid-word, "The story is insp.", or after an abbreviation, "Jo is a 2016 series" of "Mr. Jo", or trimmed
    to a length at a word, "... committed by Colombian drug lord Pablo");
    None when the chunk itself was cut there; a sentence its chunks do not hold verbatim is left as written."""
    stem = fold(str(sentence["text"]).rstrip(" .…"))
    for chunk_id in sentence.get("chunk_ids", []):
        for whole in chunk_sentences(texts.get(chunk_id, "")):
            folded_whole = fold(whole)
            at = folded_whole.find(stem) if stem else -1
            if at < 0:
                continue
            if not whole.rstrip().endswith(SENTENCE_ENDS):
                return None  # the chunk was cut here: no whole sentence to print
            after = folded_whole[at + len(stem): at + len(stem) + 1]
            if at == 0 and not after.isalnum() and str(sentence["text"]).rstrip().endswith(SENTENCE_ENDS):
                return dict(sentence)  # the sentence itself, or a clause of it ending where a word ends
            return {**sentence, "text": whole} if at == 0 or not after.isalnum() else dict(sentence)
    return completed(sentence, texts)


TAIL_WORDS = 4  # words a written sentence's cut end must share with its chunk to be completed from it


_CLAUSE_END = re.compile(r"[,;:—]\s")
MIN_CLAUSE_WORDS = 5  # words a written sentence cut back to its last clause keeps, or it goes


def completed(sentence: Mapping[str, Any], texts: Mapping[str, str]) -> dict[str, Any] | None:
    """A written sentence with no stop (a model's output cut at its token limit: "... starring Brian Bosworth on
    the Fox Broadcasting Co") completed from the chunk it cites, when the chunk holds its last words: the rest of
    the chunk's sentence from there ("...mpany that performed so poorly it was canceled after one episode."), up
    to ``MAX_CHARS`` in all (an infobox's run of names is no sentence). Else it is cut back to its last whole
    clause ("... in 1949, in part over a Laborproposal" → "... in 1949."), or, with none, goes: a sentence cut
    mid-word ("... did Keld Bordingga") is never printed."""
    text = str(sentence["text"]).rstrip()
    words = text.split()
    if text.endswith(SENTENCE_ENDS):
        return dict(sentence)
    if len(words) >= TAIL_WORDS and len(content_words(" ".join(words[-TAIL_WORDS:]))) >= 2:  # "one of the": no anchor
        tail = re.compile(r"\s+".join(map(re.escape, words[-TAIL_WORDS:])), re.IGNORECASE)
        for chunk_id in sentence.get("chunk_ids", []):
            for whole in chunk_sentences(texts.get(chunk_id, "")):
                found = tail.search(whole)
                rest = whole[found.end():].rstrip() if found else ""
                if found and whole.rstrip().endswith(SENTENCE_ENDS) and len(text) + len(rest) <= MAX_CHARS:
                    return {**sentence, "text": text + rest}
    for end in reversed([m.start() for m in _CLAUSE_END.finditer(text)]):
        head = text[:end].rstrip()
        kept = head.split()
        if len(kept) >= MIN_CLAUSE_WORDS and kept[-1].casefold() not in _DANGLING \
                and head.count("(") == head.count(")"):
            return {**sentence, "text": f"{head}."}
    return None


def topic(question: str, bridges: Sequence[str], subquestions: Sequence[str]) -> tuple[list[set[str]], set[str]]:
    """The entities (content words of each name) and the content terms a sentence of a section may speak to."""
    texts = [question, *bridges, *subquestions]
    entities = [w for text in texts for w in (content_words(n) for n, _at in name_spans(text)) if w]
    entities += [w for w in (content_words(b) for b in bridges) if w]
    return entities, set().union(*(terms(t) for t in texts))


def on_topic(text: str, entities: Sequence[set[str]], wanted: set[str]) -> bool:
    """Whether a sentence names one of ``entities`` or shares ``MIN_TERMS`` of the ``wanted`` terms."""
    words = content_words(text)
    return any(e <= words for e in entities) or len(terms(text) & wanted) >= MIN_TERMS


def pronoun_led(text: str) -> bool:
    """Whether a sentence's subject is a pronoun ("It is ...", "He began ...")."""
    first = text.split(maxsplit=1)[0] if text.split() else ""
    return first.casefold().strip("\"'“(,") in PRONOUNS


def resolved(sentences: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The sentences without a pronoun-led one that does not follow a sentence citing the same chunk."""
    out: list[dict[str, Any]] = []
    for sentence in sentences:
        if pronoun_led(str(sentence["text"])):
            before = set(out[-1]["chunk_ids"]) if out else set()
            if not before & set(sentence.get("chunk_ids", [])):
                continue
        out.append(dict(sentence))
    return out


def said_once(answer: Sequence[Mapping[str, Any]], sections: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``sections`` with every near-duplicate said once: the answer's sentences first, then in order; of two
    near-duplicates the better-cited (more chunks, then longer) is kept in the first one's place."""
    seen: list[tuple[set[str], int, int]] = [(statement_words(str(s["text"])), -1, -1) for s in answer]
    out = [{"title": s["title"], "sentences": []} for s in sections]
    for n, section in enumerate(sections):
        for sentence in section["sentences"]:
            words = statement_words(str(sentence["text"]))
            twin = next((item for item in seen if repeats(words, item[0])), None)
            if twin is None:
                seen.append((words, n, len(out[n]["sentences"])))
                out[n]["sentences"].append(dict(sentence))
            elif twin[1] >= 0 and _better(sentence, out[twin[1]]["sentences"][twin[2]]):
                out[twin[1]]["sentences"][twin[2]] = dict(sentence)
    return out


def repeats(a: set[str], b: set[str]) -> bool:
    """Whether two sentences' words (``lexical.statement_words``) are each ``DUPLICATE`` shared with the other (the
    same statement); the eval's ``dup_sentences`` counts these pairs."""
    return bool(a and b) and len(a & b) / max(len(a), len(b)) >= DUPLICATE


def _better(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return (len(a.get("chunk_ids", [])), len(str(a["text"]))) > (len(b.get("chunk_ids", [])), len(str(b["text"])))


def title_fits(title: str) -> bool:
    """Whether a title is whole: short enough, and not ending on a word that needs another after it."""
    words = title.rstrip(" ?.").split()
    return bool(words) and len(title) <= MAX_TITLE and words[-1].casefold() not in _DANGLING \
        and not title.rstrip().endswith(("-", ",", ":", "—"))


def whole_title(title: str, subquestions: Sequence[str]) -> str:
    """``title`` when it fits, else one made from the first sub-question (cut at a word, never mid-phrase)."""
    if title_fits(title):
        return title
    source = next((q for q in subquestions if q.strip()), title)
    words = re.sub(r"\s+", " ", source).strip(" ?.").split(" ")
    while words and (len(" ".join(words)) > MAX_TITLE or words[-1].casefold().strip(",;:") in _DANGLING):
        words.pop()
    return " ".join(words).rstrip(",;:—-") or "Findings"


def merged_titles(sections: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Sections of the same title (case and spacing aside) merged into the first."""
    out: dict[str, dict[str, Any]] = {}
    for section in sections:
        key = fold(str(section["title"]))
        if key in out:
            out[key]["sentences"] += section["sentences"]
        else:
            out[key] = {"title": section["title"], "sentences": list(section["sentences"])}
    return list(out.values())


def folded(sections: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Empty sections dropped; a one-sentence section folded into the section before it (else the one after)."""
    out = [{"title": s["title"], "sentences": list(s["sentences"])} for s in sections if s["sentences"]]
    n = 0
    while len(out) > 1 and n < len(out):
        if len(out[n]["sentences"]) == 1:
            into = out[n - 1] if n > 0 else out[n + 1]
            into["sentences"] = [*into["sentences"], *out[n]["sentences"]] if n > 0 \
                else [*out[n]["sentences"], *into["sentences"]]
            del out[n]
        else:
            n += 1
    return out


def on_chain(
    question: str, chain: Sequence[Mapping[str, Any]], answer_text: str, bridges: Sequence[str],
    texts: Mapping[str, str], titles: Mapping[str, str] | None = None,
) -> Callable[[Mapping[str, Any]], bool]:
    """With an answer's chain printed: whether a sentence stays beside it. It cites a chunk of the chain, or names
    the answer, a bridge name of the chain, or a name of the question that at most ``DISTINCT`` (or a quarter) of
    the chunks read name (a name the distractor pages share, "Modern Drummer Hall of Fame", is no anchor) and that
    the page title of a chunk it cites names (without ``titles``, the chunk's opening, ``evidence.LEAD`` characters):
    the page is about it."""
    chunks = {i for s in chain for i in s.get("chunk_ids", [])}
    chunk_words = [content_words(t) for t in texts.values()]
    names = [w for w in (content_words(n) for n, at in name_spans(question) if not modifier(question, n, at)) if w
             and sum(w <= words for words in chunk_words) <= max(DISTINCT, len(chunk_words) // 4)]
    # an answer the question names (one of its options) is one of the question's names, with their rule
    # a bridge name anchors when a page read is about it (its title names it): "German", "British" do not
    pages = set(titles.values()) if titles else set()
    bridges = [b for b in bridges if not pages or any(holds(p, b) for p in pages)]
    anchors = [a for a in (answer_text, *bridges)
               if a and a.casefold() not in ("yes", "no") and not restates(a, question)]

    def stays(sentence: Mapping[str, Any]) -> bool:
        text, cited = str(sentence["text"]), list(sentence.get("chunk_ids", []))
        words = content_words(text)
        if chunks & set(cited) or any(holds(text, a) for a in anchors):
            return True
        # a question's name anchors a sentence of a page about it, not one that mentions it in passing
        # ("Simone Bolelli and Andreas Seppi were the defending champions", from a tournament's page)
        heads = [titles[i] if titles and titles.get(i) else texts.get(i, "")[:LEAD] for i in cited]
        about = set().union(*(content_words(h) for h in heads)) if heads else set()
        return any(name <= words and name <= about for name in names)
    return stays


# A sentence about the question, not about what the pages say ("The research question asks for the seat of ...",
# a 1.5B's introduction, lexically "supported" because it restates the question's own names).
_ABOUT_THE_QUESTION = re.compile(r"(?i)\b(?:research question|(?:the|this) question (?:asks|is|was|of|about))\b")


def about_the_question(sentence: Mapping[str, Any]) -> bool:
    """Whether ``sentence`` speaks of the question rather than of the sources (``_ABOUT_THE_QUESTION``)."""
    return bool(_ABOUT_THE_QUESTION.search(str(sentence["text"])))


def printable(sentences: Sequence[Mapping[str, Any]], texts: Mapping[str, str]) -> list[dict[str, Any]]:
    """``sentences`` made whole from their chunks (``whole_sentence``; one cut at its chunk's edge goes) and tidied,
    none about the question: what the chain and every section print from."""
    made = (whole_sentence(s, texts) for s in sentences)
    return [tidied(w) for w in made if w is not None and not about_the_question(w)]


def edit_chain(chain: Sequence[Mapping[str, Any]], texts: Mapping[str, str]) -> list[dict[str, Any]]:
    """The answer's chain as printed: each sentence tidied and whole (one cut at its chunk's edge goes), none about
    the question, near-duplicates said once (a chain printed a passage's sentence twice, once trimmed at a word);
    the chain as it was, tidied, if nothing would be left."""
    once = said_once([], [{"title": "", "sentences": printable(chain, texts)}])[0]["sentences"]
    return once or [tidied(s) for s in chain]


def a_title(sentence: Mapping[str, Any], titles: Mapping[str, str] | None) -> bool:
    """Whether ``sentence`` is only the title of a page it cites ("The Deep Blue Sea (1955 film)"): a heading,
    no statement."""
    text = fold(str(sentence["text"]).rstrip(" ."))
    return any(text == fold(titles.get(i, "")) for i in sentence.get("chunk_ids", [])) if titles else False


def edit_report(
    question: str, sections: Sequence[Mapping[str, Any]], answer: Sequence[Mapping[str, Any]], *,
    subquestions: Mapping[str, Sequence[str]], bridges: Sequence[str], texts: Mapping[str, str],
    length: str = "standard", answer_text: str = "", anchored: bool = True, titles: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The edited sections (see the module docstring); ``answer`` is the answer's chain, printed first (with
    ``anchored``, the sections stay beside it: a short answer's chain, not an explanation's sentences)."""
    per_section, most = LENGTHS.get(length, LENGTHS["standard"])
    stays = on_chain(question, answer, answer_text, bridges, texts, titles) if answer and anchored else None
    kept = []
    for section in sections:
        subs = subquestions.get(str(section["title"]), [])
        entities, wanted = topic(question, bridges, subs)
        relevant = resolved([s for s in printable(section["sentences"], texts)
                             if on_topic(str(s["text"]), entities, wanted)
                             and (stays is None or stays(s)) and not a_title(s, titles)])
        kept.append({"title": whole_title(str(section["title"]), subs), "sentences": relevant})
    edited = folded(said_once(answer, merged_titles(kept)))
    return [{**s, "sentences": s["sentences"][:per_section]} for s in edited][:most]
