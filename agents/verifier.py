"""The citation verifier: every cited sentence checked against the text of the chunks it cites.

A fast lexical screen runs first: a sentence whose content words are (nearly) all in its cited
passages is supported; one that shares almost nothing with its passages *or* any other passage of its
section is removed without a model call. Everything in between goes to the model as judge, whose
schema allows only: supported, re-cite (ids from the section's passages), rewrite (a narrower
sentence), or remove. A re-citation or rewrite must itself pass the screen, else the sentence is
removed. The counts form the report's verification summary.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from agents.answer import choose_answer
from agents.answer.chain import bridge_names
from agents.context import Rt, RunContext, ask, emit
from agents.drafter import MAX_SENTENCES, run_source_ids, section_findings
from agents.editor import edit_chain, edit_report
from agents.floor_plan import named_spans
from agents.floors import best_supported, quoted_answer, rank_supported
from agents.lexical import content_words, echoes, fold, support_score
from agents.prompt_fit import Group, fit
from agents.state import ResearchState

__all__ = ["content_words", "screen", "support_score", "verify_report"]

SUPPORTED = 0.75  # share of content words found in the cited text: supported without a model call
UNSUPPORTED = 0.2  # below this (and no better passage in the section): removed without a model call
REWRITE_MIN = 0.5  # a rewritten sentence must reach this against its citations


def with_findings(
    question: str, kept: list[dict[str, Any]], findings: list[Any], texts: dict[str, str]
) -> list[dict[str, Any]]:
    """A section's verified sentences, then its best-supported findings (quoted, cited) up to ``MAX_SENTENCES``.

    So a model adds to a section and never takes the floor's findings out of it.
    """
    said = {fold(str(s["text"])) for s in kept}
    room = MAX_SENTENCES - len(kept)
    ranked = rank_supported(question, findings, texts, MAX_SENTENCES) if room > 0 else []
    extra = [f for f in ranked if fold(f["text"]) not in said][: max(room, 0)]
    return [*kept, *({**f, "status": "supported"} for f in extra)]


def claims(sentence: str, texts: Iterable[str] = (), question: str = "") -> list[str]:
    """The names and numbers ``sentence`` states ("A and B" as two names), each a claim a passage must hold.

    A lone capitalized first word ("Heat pumps ...") is how sentences begin, not a name, unless ``texts``
    (the run's passages) or ``question`` show it is one (``named_word``): "Hollowick had a drummer inducted
    into the Modern Drummer Hall of Fame", cited to a passage about another drummer, claims Hollowick too, and
    "Sutera is a shrub belonging to the family Asteraceae", cited to a page on Olearia canescens, claims the
    Sutera that "Are Sutera and Rhodotypos both types of shrub?" names.
    """
    start = sentence.lstrip(" \"'(")
    texts = list(texts)
    spans = [s for s in named_spans(sentence)
             if not (" " not in s and start.startswith(s) and not s[0].isdigit() and not named_word(s, texts)
                     and not named_word(s, [question]))]
    return [p for s in spans for p in re.split(r"\s+(?:and|&)\s+", s) if content_words(p)]


def named_word(word: str, texts: Sequence[str]) -> bool:
    """Whether ``texts`` use ``word`` as a name: capitalized inside a sentence somewhere, lower-case nowhere."""
    if not texts or not word[:1].isupper():
        return False
    joined = " ".join(texts)
    if re.search(rf"(?<![\w-]){re.escape(word.lower())}(?![\w-])", joined):
        return False
    return re.search(rf"[\w,;]\s+{re.escape(word)}(?![\w-])", joined) is not None


def attested(sentence: str, passages: list[str]) -> bool:
    """Whether every name and number ``sentence`` states is in ``passages`` (each name's content words).

    The floor under the judge: a model's "supported" (or its rewrite) cannot bring a name or a number
    into the report that the cited text does not have — "John Howard" cited to a passage about Robert
    Menzies, "1955" to one about a 1999 film.
    """
    have = content_words(" ".join(passages))
    return all(content_words(span) <= have for span in claims(sentence))


CONTRIBUTES = 0.34  # share of a sentence's content words a citation holding none of its names must hold


def own_citations(
    sentence: str, ids: list[str], texts: Mapping[str, str], titles: Mapping[str, str] | None = None,
    question: str = "",
) -> tuple[list[str], bool]:
    """The citations of ``sentence`` that support something in it, and whether each of its names and numbers
    is held by *one* of them that is about the sentence's subject (its first name).

    Each claim is checked against a single cited chunk (with its source's title), never the union of
    them: "Doctor Stranger aired on KBS2 from May 5 to July 8, 2014 [1][3]" fails when KBS2 is only in
    [1], a passage about another series. A citation holding none of the sentence's names or numbers and
    under ``CONTRIBUTES`` of its words supports nothing in it and is dropped.
    """
    titles = titles or {}
    words = {i: content_words(f"{texts[i]} {titles.get(i, '')}") for i in dict.fromkeys(ids) if i in texts}
    spans = claims(sentence, texts.values(), question)
    stated = [content_words(c) for c in spans]
    kept = [i for i, have in words.items()
            if any(c <= have for c in stated) or support_score(sentence, [texts[i]]) >= CONTRIBUTES]
    names = [c for c, text in zip(stated, spans, strict=True) if not text[:1].isdigit()]
    about = [i for i in kept if names and names[0] <= words[i]] or kept
    return kept, all(any(c <= words[i] for i in about) for c in stated)


def screen(sentence: str, cited: list[str], others: list[str], question: str = "") -> str:
    """Lexical verdict: "supported", "unsupported" or "judge" (ask the model).

    Nothing cited, or a sentence that only restates ``question`` (its words are in the passages because
    the passages were retrieved for the question, not because they say it), is "unsupported".
    """
    if not cited or (question and echoes(sentence, question)):
        return "unsupported"
    score = support_score(sentence, cited)
    if score >= SUPPORTED and attested(sentence, cited):
        return "supported"
    best_other = max((support_score(sentence, [o]) for o in others), default=0.0)
    if score < UNSUPPORTED and best_other < UNSUPPORTED:
        return "unsupported"
    return "judge"


def judge_schema(candidate_ids: list[str], text_chars: int = 300) -> dict[str, Any]:
    """Schema of the judge's verdict; ids limited to the section's passages."""
    return {
        "title": "Verdict",
        "type": "object",
        "properties": {
            "verdict": {"enum": ["supported", "recite", "rewrite", "remove"]},
            "chunk_ids": {"type": "array", "items": {"enum": candidate_ids}, "maxItems": 3},
            "rewrite": {"type": "string", "maxLength": text_chars},
        },
        "required": ["verdict", "chunk_ids", "rewrite"],
    }


def apply_verdict(
    sentence: dict[str, Any], verdict: dict[str, Any], texts: dict[str, str], titles: Mapping[str, str] | None = None,
    question: str = "",
) -> dict[str, Any] | None:
    """The sentence after the judge's verdict, re-screened (its support, each of its names and numbers held by
    one passage it ends up citing, ``own_citations``); None when it must be removed."""
    kind = verdict.get("verdict")
    cited = sentence["chunk_ids"]

    def holds(text: str, ids: list[str], minimum: float) -> bool:
        passages = [texts[i] for i in ids if i in texts]
        return support_score(text, passages) >= minimum and own_citations(text, ids, texts, titles, question)[1]

    if kind == "supported" and holds(sentence["text"], cited, UNSUPPORTED):
        return {**sentence, "status": "supported"}
    ids = [i for i in verdict.get("chunk_ids", []) if i in texts] or cited
    if kind == "recite" and holds(sentence["text"], ids, UNSUPPORTED):
        return {**sentence, "chunk_ids": ids, "status": "recited"}
    new_text = " ".join(str(verdict.get("rewrite", "")).split())
    if kind == "rewrite" and new_text and holds(new_text, ids, REWRITE_MIN):
        return {"text": new_text, "chunk_ids": ids, "status": "rewritten"}
    return None


_YES_NO_START = ("is ", "are ", "was ", "were ", "do ", "does ", "did ", "can ", "could ", "has ", "have ",
                 "had ", "will ", "would ", "should ")


def _texts_titles(
    ctx: RunContext, sections: list[dict[str, Any]], extra: list[str] | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """The text of every chunk cited (or in ``extra``), and the title of its source."""
    ids = list(dict.fromkeys([*(i for s in sections for sent in s["sentences"] for i in sent["chunk_ids"]),
                              *(extra or [])]))
    chunks = ctx.memory.get_chunks(ids) if ids else []
    sources = {s.id: s for s in ctx.memory.get_sources(sorted({c.source_id for c in chunks}))} if chunks else {}
    return {c.id: c.text for c in chunks}, {c.id: str(getattr(sources.get(c.source_id), "title", "") or "")
                                            for c in chunks}


def question_passages(ctx: RunContext, state: ResearchState) -> list[str]:
    """The ids of the passages of this run's sources that best match the question (hybrid retrieval)."""
    sources = run_source_ids(state.get("fetches", []))
    if not sources:
        return []
    hits = ctx.memory.search(state["question"], ctx.limits.chunks_per_prompt, ctx.filters(source_ids=sources))
    return [h.chunk.id for h in hits]


def answer_text(question: str, text: str, kept: list[dict[str, Any]], texts: dict[str, str]) -> str:
    """The short answer to print: the model's when its passages hold it (or a yes/no to a yes/no question),
    else the first verified sentence."""
    text = " ".join(text.split())
    cited = [texts[i] for s in kept for i in s["chunk_ids"] if i in texts]
    yes_no = text.casefold().strip(".!") in ("yes", "no") and question.casefold().lstrip().startswith(_YES_NO_START)
    if text and (yes_no or support_score(text, cited) >= SUPPORTED):
        return text
    return str(kept[0]["text"])


async def verify_answer(
    runtime: Rt, state: ResearchState, sections: list[dict[str, Any]], texts: dict[str, str], counts: dict[str, int],
    titles: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The short answer after verification: its text the first that holds of

    1. the model's short answer, found in the passages of its verified sentences (``answer_text``);
    2. the model's short answer, quoted verbatim from a passage it was shown (``floors.quoted_answer``);
    3. the model's first verified sentence;
    4. the best-supported finding or section sentence (the floor);

    and its sentences the model's that hold, then the floor's (a model adds to the floor's answer,
    never replaces it).
    """
    answer = state.get("answer") or {}
    said = str(answer.get("text", ""))
    candidates = [*(sent for s in sections for sent in s["sentences"]), *state.get("findings", [])]
    best = best_supported(state["question"], candidates, texts)
    floor = [{**best, "status": "supported"}] if best is not None else []
    kept: list[dict[str, Any]] = []
    if answer.get("sentences"):
        checked = await verify_section(
            runtime, state["run_id"], {"title": "Answer", "sentences": answer["sentences"]}, texts, counts,
            state["question"], titles,
        )
        kept = checked["sentences"]
    text = answer_text(state["question"], said, kept, texts) if kept else ""
    if not (kept and text != kept[0]["text"]):  # the model's short answer is not held by its verified sentences
        cited = [i for s in answer.get("sentences", []) for i in s["chunk_ids"]]
        quoted = quoted_answer(state["question"], said, [*cited, *answer.get("shown", [])], texts)
        if quoted is not None:  # a passage it was shown states the answer verbatim: quote that sentence
            text, kept = quoted["text"], [{**quoted["sentence"], "status": "supported"}, *kept]
    if kept:
        merged: dict[str, dict[str, Any]] = {}
        for sentence in [*kept, *floor]:
            merged.setdefault(fold(sentence["text"]), sentence)
        return {"text": text, "sentences": list(merged.values()), "source": "model"}
    if not floor:
        return {}
    return {"text": floor[0]["text"], "sentences": floor, "source": "floor"}


async def judge(
    runtime: Rt, run_id: str, sentence: dict[str, Any], texts: dict[str, str], pool: list[str]
) -> dict[str, Any]:
    """Ask the model whether the sentence is supported; returns its verdict ("remove" when it cannot say)."""
    cited = [{"id": i, "text": texts[i]} for i in sentence["chunk_ids"] if i in texts]
    others = [{"id": i, "text": texts[i]} for i in pool if i not in sentence["chunk_ids"]][:6]
    groups = [Group("cited", cited, required=True), Group("others", others)]  # the cited passages come first
    fixed = {"sentence": sentence["text"]}
    packed = await fit(runtime, run_id, "verifier", "verifier", fixed, groups, order="sequence")
    shown = [c["id"] for c in (packed["cited"] + packed["others"] if packed else [])]  # citable: the passages shown
    schema = judge_schema(shown or ["none"], runtime.context.limits.text_chars)
    result = await ask(runtime, run_id, "verifier", packed.messages, schema) if packed else None
    return dict(result) if result is not None else {"verdict": "remove", "chunk_ids": [], "rewrite": ""}


async def verify_section(
    runtime: Rt, run_id: str, section: dict[str, Any], texts: dict[str, str], counts: dict[str, int],
    question: str = "", titles: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Check every sentence of one section; returns the section with verified sentences only.

    ``question`` is handed to ``screen``, which removes a sentence that only restates it. Each sentence
    keeps only the citations that support something in it (``own_citations``); one whose names and
    numbers no single passage about its subject holds is not "supported" by the screen (the judge may
    re-cite or narrow it, else it is removed).
    """
    ctx = runtime.context
    pool = list(dict.fromkeys(i for s in section["sentences"] for i in s["chunk_ids"] if i in texts))
    kept = []
    for sentence in section["sentences"]:
        counts["checked"] += 1
        ids, whole = own_citations(sentence["text"], sentence["chunk_ids"], texts, titles, question)
        sentence = {**sentence, "chunk_ids": ids}  # a citation that supports nothing in the sentence goes
        cited = [texts[i] for i in ids]
        others = [texts[i] for i in pool if i not in ids]
        verdict = screen(sentence["text"], cited, others, question)
        if verdict == "supported" and not whole:
            verdict = "judge"  # stitched: a name or number only a passage about another subject holds
        if verdict == "judge" and (ctx.out_of_tokens() or not ctx.limits.judge):
            verdict = "unsupported"  # no budget left to judge, or no judge (quick): keep what the screen supports
        result: dict[str, Any] | None
        if verdict == "supported":
            result = {**sentence, "status": "supported"}
        elif verdict == "judge":
            verdict_of = await judge(runtime, run_id, sentence, texts, pool)
            result = apply_verdict(sentence, verdict_of, texts, titles, question)
        else:
            result = None
        if result is None:
            counts["removed"] += 1
        elif result["status"] == "supported":
            counts["supported"] += 1
            kept.append(result)
        else:
            counts["changed"] += 1
            kept.append(result)
    return {"title": section["title"], "sentences": kept}


async def verify_report(state: ResearchState, runtime: Rt) -> dict[str, Any]:
    """Node: verify every section; sentences keep only citations that resolve to stored chunks."""
    ctx, run_id = runtime.context, state["run_id"]
    emit(runtime, run_id, "phase", phase="verify")
    sections = state.get("sections", [])
    answer = state.get("answer") or {}
    extra = [i for s in answer.get("sentences", []) for i in s["chunk_ids"]] + list(answer.get("shown", []))
    extra += [i for f in state.get("findings", []) for i in f["chunk_ids"]]
    extra += await asyncio.to_thread(question_passages, ctx, state)  # where the span picker looks too
    texts, titles = await asyncio.to_thread(_texts_titles, ctx, sections, extra)
    counts = {"checked": 0, "supported": 0, "changed": 0, "removed": 0}
    verified = [await verify_section(runtime, run_id, s, texts, counts, state["question"], titles) for s in sections]
    for section in verified:  # the floor: a section keeps its best-supported findings beside what was verified
        section["sentences"] = with_findings(state["question"], section["sentences"],
                                             section_findings(section["title"], state), texts)
    short = await verify_answer(runtime, state, verified, texts, counts, titles)
    answer, edited = finish_report(state, verified, short, texts, ctx.limits.length, titles)
    emit(runtime, run_id, "verified", **counts, tokens=ctx.tokens(), answer=answer.get("source", "none"),
         not_found=bool(answer.get("not_found")))
    return {"sections": edited, "answer": answer, "verification": counts}


def finish_report(
    state: ResearchState, sections: list[dict[str, Any]], short: dict[str, Any], texts: dict[str, str], length: str,
    titles: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """After verification: the answer by chain of evidence (``agents.answer``), then the editor over the sections
    (``agents.editor``), the chain's bridge names and each section's sub-questions its topic."""
    question = state["question"]
    said = str((state.get("answer") or {}).get("text", ""))
    answer = choose_answer(question, short, sections, state.get("findings", []), state.get("facts", []), texts, said)
    answer["sentences"] = edit_chain(answer["sentences"], texts)
    bridges = bridge_names(question, answer["sentences"], texts)
    subs: dict[str, list[str]] = {}
    for sub in [*state.get("plan", {}).get("subquestions", []), *state.get("searches", [])]:
        subs.setdefault(sub["section"], []).append(sub["question"])
    edited = edit_report(question, sections, answer["sentences"], subquestions=subs, bridges=bridges, texts=texts,
                         length=length, answer_text=str(answer.get("text", "")), anchored=bool(answer.get("span")),
                         titles=titles)
    return answer, edited
