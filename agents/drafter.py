"""The drafter: one section at a time, every sentence citing chunk ids it was given.

Guarantees: the schema of each section's answer restricts cited ids to an enum of the chunks shown
for that section (hybrid retrieval over this run's sources plus the chunks its findings cite), so a
report can never cite a page that was not fetched; a section with too little support is sent back
for more research once, within budget; a run that read nothing drafts nothing and says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from agents.answer import rank_passages
from agents.answer.candidates import expected_kind, restates
from agents.context import Rt, RunContext, ask, emit
from agents.kg import hop_names
from agents.planner import make_subquestions
from agents.prompt_fit import Group, fit
from agents.reading import cited_statement_schema, passage_dicts
from agents.run.budget import may_search_again, round_allowance
from agents.run.pace import ANSWER_PROMPT
from agents.state import FindingRecord, ResearchState

MAX_SENTENCES = 6
MAX_CHUNKS = 12
# The question's own passages are drawn from this many retrieval hits before ``rank_passages`` orders them: the page
# a two-hop question's bridge leads to shares few of its words, so it ranks low in retrieval and was missed at 8
# (``rank_passages`` moves it up only when it is among the candidates).
QUESTION_POOL = 3
MIN_SUPPORT = 1  # findings a section needs before it is drafted without (one more round of) research
NOTHING_FOUND = "Quarry found no source it could read on this question, so this report makes no claims."


def draft_schema(chunk_ids: list[str], text_chars: int = 300, max_items: int = MAX_SENTENCES) -> dict[str, Any]:
    """Schema of one section: sentences whose citations are ids from ``chunk_ids`` only."""
    sentence = cited_statement_schema(chunk_ids, text_chars)
    return {
        "title": "Section",
        "type": "object",
        "properties": {
            # at least one sentence: the drafter is only asked when the section has passages to cite
            "sentences": {"type": "array", "items": sentence, "minItems": 1, "maxItems": min(max_items, MAX_SENTENCES)}
        },
        "required": ["sentences"],
    }


def answer_schema(chunk_ids: list[str], text_chars: int = 300) -> dict[str, Any]:
    """Schema of the short answer: a few words, then one to three sentences citing ``chunk_ids`` only."""
    return {
        "title": "Answer",
        "type": "object",
        "properties": {
            "answer": {"type": "string", "minLength": 1, "maxLength": min(120, text_chars)},
            "sentences": {
                "type": "array", "items": cited_statement_schema(chunk_ids, text_chars), "minItems": 1, "maxItems": 3
            },
        },
        "required": ["answer", "sentences"],
    }


# The focused answer call (``Limits.answer_call``): the first passages of the ranking alone, since what a small
# model is shown decides its answer (the 1.5B: F1 0.74 given a HotpotQA question's two supporting paragraphs,
# 2 of 6 right given all ten), and a few words to write, so it costs a tenth of the drafting call.
ANSWER_PASSAGES = 4  # (the prompt is trimmed to ``ANSWER_PROMPT`` tokens)
SHORT_ANSWER = {
    "title": "ShortAnswer",
    "type": "object",
    "properties": {"answer": {"type": "string", "minLength": 1, "maxLength": 80}},
    "required": ["answer"],
}


# Sentences a section of the one-call report may have, by ``--length`` (each written token costs about ten
# read ones: a quick run's 1.5B wrote 729 tokens for two sections at "standard", 91 s of its 108).
SECTION_SENTENCES = {"short": 2, "standard": 4, "long": 8}


def report_schema(
    chunk_ids: list[str], outline: list[str], text_chars: int = 300, length: str = "standard"
) -> dict[str, Any]:
    """Schema of the whole report in one call: the short answer, its sentences, then sentences per section."""
    answer = answer_schema(chunk_ids, text_chars)["properties"]
    most = SECTION_SENTENCES.get(length, SECTION_SENTENCES["standard"])
    if length == "short":  # the answer's own sentences too
        answer = {**answer, "sentences": {**answer["sentences"], "maxItems": 2}}
    section = {
        "type": "object",
        "properties": {
            "title": {"enum": outline},
            "sentences": {
                "type": "array", "items": cited_statement_schema(chunk_ids, text_chars), "minItems": 1, "maxItems": most
            },
        },
        "required": ["title", "sentences"],
    }
    return {
        "title": "Report",
        "type": "object",
        "properties": {**answer, "sections": {"type": "array", "items": section, "maxItems": len(outline)}},
        "required": ["answer", "sentences", "sections"],
    }


def run_source_ids(fetches: Sequence[Mapping[str, Any]]) -> list[str]:
    """The sources this run read (fetched now or reused from memory), in order."""
    return list(
        dict.fromkeys(f["source_id"] for f in fetches if f["source_id"] and f["status"] in ("fetched", "memory"))
    )


def section_findings(section: str, state: ResearchState) -> list[FindingRecord]:
    """The findings of the sub-questions that serve ``section``."""
    subs = [*state["plan"]["subquestions"], *state.get("searches", [])]
    questions = {s["question"] for s in subs if s["section"] == section}
    return [f for f in state.get("findings", []) if f["question"] in questions]


def related(items: list[dict[str, Any]], chunk_ids: set[str], limit: int) -> list[dict[str, Any]]:
    """Facts or contradictions whose evidence is among ``chunk_ids``."""
    return [i for i in items if chunk_ids.intersection(i.get("chunk_ids", []))][:limit]


def clean_sentences(answer: dict[str, Any], allowed: set[str]) -> list[dict[str, Any]]:
    """Sentences with text and at least one allowed id (anything else is dropped)."""
    out = []
    for item in answer.get("sentences", [])[:MAX_SENTENCES]:
        text = " ".join(str(item.get("text", "")).split())
        ids = list(dict.fromkeys(i for i in item.get("chunk_ids", []) if i in allowed))
        if text and ids:
            out.append({"text": text, "chunk_ids": ids})
    return out


def _gather(
    ctx: RunContext, query: str, sources: list[str], cited: list[str], wide: bool = False
) -> list[dict[str, str]]:
    k = ctx.limits.chunks_per_prompt * (QUESTION_POOL if wide else 1)
    hits = ctx.memory.search(query, k, ctx.filters(source_ids=sources)) if sources else []
    shown = passage_dicts(hits)
    have = {c["id"] for c in shown}
    missing = [i for i in cited if i not in have]
    if missing:
        chunks = ctx.memory.get_chunks(missing)
        titles = {s.id: s.title for s in ctx.memory.get_sources(sorted({c.source_id for c in chunks}))}
        for chunk in chunks:
            shown.append({"id": chunk.id, "title": titles.get(chunk.source_id, ""), "text": chunk.text[:1200],
                          "source_id": chunk.source_id})
    return shown if wide else shown[:MAX_CHUNKS]


async def passages_for(
    ctx: RunContext, state: ResearchState, query: str, findings: Sequence[FindingRecord], *, wide: bool = False
) -> list[dict[str, str]]:
    """Hybrid retrieval for ``query`` over this run's sources, plus the chunks ``findings`` cite; ``wide``: the
    question's own candidates (``QUESTION_POOL`` times the hits, none cut), for ``rank_passages`` to order."""
    cited = list(dict.fromkeys(i for f in findings for i in f["chunk_ids"]))
    sources = run_source_ids(state.get("fetches", []))
    return await asyncio.to_thread(_gather, ctx, query, sources, cited, wide)


async def section_passages(ctx: RunContext, state: ResearchState, section: str) -> list[dict[str, str]]:
    """The passages the drafter may cite for ``section``."""
    return await passages_for(ctx, state, f"{section}. {state['question']}", section_findings(section, state))


async def draft_section(
    runtime: Rt, state: ResearchState, section: str, chunks: list[dict[str, str]]
) -> list[dict[str, Any]]:
    """Draft one section's sentences from its passages, findings and graph neighbourhood."""
    ctx = runtime.context
    every = {c["id"] for c in chunks}
    fixed = {"question": state["question"], "brief": state["plan"]["brief"], "section": section,
             "length": ctx.limits.length}
    groups = [
        Group("chunks", chunks, required=True),
        Group("findings", section_findings(section, state)[:12]),
        Group("facts", related(state.get("facts", []), every, 10), field=None),
        Group("contradictions", related(state.get("contradictions", []), every, 5), field=None),
    ]
    packed = await fit(runtime, state["run_id"], "drafter", "drafter", {**fixed, "language": ctx.language}, groups)
    ids = [c["id"] for c in packed["chunks"]] if packed else []  # only the passages shown are citable
    schema = draft_schema(ids, ctx.limits.text_chars, ctx.limits.max_items)
    answer = await ask(runtime, state["run_id"], "drafter", packed.messages, schema) if packed else None
    if answer is None:  # no valid draft: the section lists its cited findings as recorded
        return from_findings(section_findings(section, state))
    return clean_sentences(answer, set(ids))


def from_findings(findings: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Sentences made of findings (each already cites its chunks), for drafting without a model."""
    return [{"text": f["text"], "chunk_ids": list(f["chunk_ids"])} for f in findings][:MAX_SENTENCES]


async def draft_answer(runtime: Rt, state: ResearchState, chunks: list[dict[str, str]]) -> dict[str, Any]:
    """The model's short answer, its cited sentences and the passages it was shown (empty: the verifier's floor)."""
    if not chunks:
        return {}
    ctx = runtime.context
    fixed = {"question": state["question"], "language": ctx.language}
    groups = [Group("chunks", chunks, required=True), Group("findings", state.get("findings", [])[:12])]
    packed = await fit(runtime, state["run_id"], "drafter", "answer", fixed, groups)
    ids = [c["id"] for c in packed["chunks"]] if packed else []  # only the passages shown are citable
    schema = answer_schema(ids, ctx.limits.text_chars)
    answer = await ask(runtime, state["run_id"], "drafter", packed.messages, schema) if packed else None
    if answer is None:
        return {}
    sentences = clean_sentences(answer, set(ids))[:3]
    text = " ".join(str(answer.get("answer", "")).split())
    # ``shown``: the passages the model saw, where the verifier may find its answer quoted.
    return {"text": text, "sentences": sentences, "shown": ids} if sentences or text else {}


def more_research(state: ResearchState, thin: list[str], breadth: int) -> list[Any]:
    """Sub-questions that send thin sections back for more research."""
    raw = [
        {"question": f"{state['question']} — {s}", "queries": [f"{s} {state['question']}"[:200]], "section": s}
        for s in thin
    ]
    return make_subquestions(
        raw, state["plan"]["outline"], round_no=state.get("round", 0) + 1, limit=breadth, skip=state.get("asked", [])
    )


async def draft_report(state: ResearchState, runtime: Rt) -> dict[str, Any]:
    """Node: draft every section (or send thin ones back for research once)."""
    ctx, run_id = runtime.context, state["run_id"]
    emit(runtime, run_id, "phase", phase="draft")
    outline = state["plan"]["outline"]
    if not run_source_ids(state.get("fetches", [])):
        return {"sections": [], "answer": {}, "pending": [], "notes": [NOTHING_FOUND]}
    thin = [s for s in outline if len(section_findings(s, state)) < MIN_SUPPORT]
    used_up = ctx.exhausted(state.get("pages_fetched", 0))
    if (  # thin sections get one more round, for per-section drafting (one call drafts from every passage)
        thin
        and not ctx.limits.one_call_draft
        and not state.get("redraft_used")
        and may_search_again(ctx.limits, round_no=0, exhausted_now=used_up, followups=len(thin))
    ):
        subs = more_research(state, thin, ctx.limits.breadth)
        if subs:
            emit(runtime, run_id, "more_research", sections=thin, subquestions=[s["question"] for s in subs])
            allowance = round_allowance(ctx.limits, state.get("pages_fetched", 0), len(subs))
            return {"pending": subs, "redraft_used": True, "round": state.get("round", 0) + 1, "allowance": allowance}
    if ctx.limits.one_call_draft:
        sections, answer = await draft_whole(runtime, state, outline)
        return {"sections": sections, "answer": answer, "pending": [], "notes": [], "budget_out": []}
    support = {s: await section_passages(ctx, state, s) for s in outline}
    sections, notes, out = await draft_sections(runtime, state, outline, support)
    findings = state.get("findings", [])
    found = [] if ctx.starved(share=1.0) else await passages_for(ctx, state, state["question"], findings, wide=True)
    ranked = rank_passages(state["question"], found, bridges=hop_names(state), limit=MAX_CHUNKS)
    answer = await draft_answer(runtime, state, ranked)
    return {"sections": sections, "answer": answer, "pending": [], "notes": notes, "budget_out": out}


def section_drafted(runtime: Rt, state: ResearchState, title: str, sentences: Sequence[Mapping[str, Any]]) -> None:
    """The ``section_drafted`` event of one section (its sentences, the chunks they cite, what budget is left)."""
    ctx = runtime.context
    emit(runtime, state["run_id"], "section_drafted", section=title, sentences=len(sentences),
         chunk_ids=sorted({i for sent in sentences for i in sent["chunk_ids"]}), tokens=ctx.tokens(),
         budget=ctx.budget(state.get("pages_fetched", 0), state.get("round", 0)))


async def draft_sections(
    runtime: Rt, state: ResearchState, outline: list[str], support: Mapping[str, list[dict[str, str]]]
) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """One drafting call per section (the ``deep`` structure); a section past the budget lists its findings."""
    ctx = runtime.context
    sections: list[dict[str, Any]] = []
    notes: list[str] = []
    out: list[str] = []
    for title in outline:
        if spent := ctx.starved(share=1.0):  # no model call left: the section lists its cited findings as recorded
            notes.append(f'The {spent[0]} budget ran out before "{title}" was drafted; it lists the findings as '
                         "recorded.")
            out += spent
            sentences = from_findings(section_findings(title, state))
        elif support[title]:
            sentences = await draft_section(runtime, state, title, support[title])
        else:
            sentences = []
        sections.append({"title": title, "sentences": sentences})
        section_drafted(runtime, state, title, sentences)
    return sections, notes, out


async def focused_answer(runtime: Rt, state: ResearchState, chunks: list[dict[str, str]]) -> tuple[str, list[str]]:
    """The model's short answer read from the first ``ANSWER_PASSAGES`` ranked passages alone, and their ids
    ("" and none when the mode makes no such call, the budget refuses it or the model gives no answer)."""
    ctx, run_id = runtime.context, state["run_id"]
    if not ctx.limits.answer_call or not chunks:
        return "", []
    groups = [Group("chunks", chunks[:ANSWER_PASSAGES], required=True)]
    packed = await fit(runtime, run_id, "drafter", "short_answer", {"question": state["question"]}, groups,
                       ceiling=ANSWER_PROMPT)
    if packed is None:
        return "", []
    answer = await ask(runtime, run_id, "drafter", packed.messages, SHORT_ANSWER)
    if answer is None:
        return "", []
    said, read = usable_answer(state["question"], str(answer.get("answer", ""))), [c["id"] for c in packed["chunks"]]
    # what the model answered, and whether it is used (events.jsonl)
    emit(runtime, run_id, "short_answer", text=" ".join(str(answer.get("answer", "")).split()), used=bool(said),
         chunk_ids=read)
    return (said, read) if said else ("", [])


def usable_answer(question: str, text: str) -> str:
    """The model's short answer, spaced once; "" when it only restates the question (a name the question states
    answers nothing, unless the question asks to choose between its own options)."""
    said = " ".join(text.split())
    return "" if restates(said, question) and expected_kind(question) != "option" else said


async def draft_whole(
    runtime: Rt, state: ResearchState, outline: list[str]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The short answer and every section in one drafting call, over the passages ranked for the question.

    A section the model leaves empty (or the whole report, when the call is refused or fails) lists its
    cited findings as recorded: the floor.
    """
    ctx, run_id = runtime.context, state["run_id"]
    findings = state.get("findings", [])
    found = await passages_for(ctx, state, state["question"], findings, wide=True)
    # the evidence first, a few more passages than one search agent's call reads
    chunks = rank_passages(state["question"], found, bridges=hop_names(state), limit=ctx.limits.chunks_per_prompt + 4)
    said, read = await focused_answer(runtime, state, chunks)
    every = {c["id"] for c in chunks}
    # No brief: small models copied it into the report as a sentence (a 1.5B printed "The report must answer ...").
    fixed = {"question": state["question"], "outline": outline, "language": ctx.language, "length": ctx.limits.length}
    groups = [Group("chunks", chunks, required=True), Group("findings", findings[:12]),
              Group("facts", related(state.get("facts", []), every, 10), field=None),
              Group("contradictions", related(state.get("contradictions", []), every, 5), field=None)]
    ceiling = ctx.draft_prompt_ceiling()  # late research: fewer passages, not an overrun or no call
    packed = await fit(runtime, run_id, "drafter", "report", fixed, groups, ceiling=ceiling) if chunks else None
    ids = [c["id"] for c in packed["chunks"]] if packed else []  # only the passages shown are citable
    schema = report_schema(ids, outline, ctx.limits.text_chars, ctx.limits.length)
    answer = await ask(runtime, run_id, "drafter", packed.messages, schema) if packed else None
    written: dict[str, list[dict[str, Any]]] = {}
    for section in (answer or {}).get("sections", []):
        written.setdefault(str(section.get("title", "")), []).extend(clean_sentences(section, set(ids)))
    sections = []
    for title in outline:
        sentences = written.get(title) or from_findings(section_findings(title, state))
        sections.append({"title": title, "sentences": sentences[:MAX_SENTENCES]})
        section_drafted(runtime, state, title, sentences)
    shown = list(dict.fromkeys([*read, *ids]))
    if answer is None:
        return sections, ({"text": said, "sentences": [], "shown": shown} if said else {})
    sentences = clean_sentences(answer, set(ids))[:3]
    # the focused call's answer first: it read the evidence alone; the report's own answer is the fallback
    text = said or " ".join(str(answer.get("answer", "")).split())
    return sections, ({"text": text, "sentences": sentences, "shown": shown} if sentences or text else {})
