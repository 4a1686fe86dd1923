"""The web-search agent: one sub-question in, sources in memory and cited findings out.

One agent runs per sub-question, in parallel (``Send``). It chooses tool calls with a
schema-constrained call over the registry's call schema (a real tool name with valid arguments),
picks the results worth reading by number (it can only read URLs a tool returned), fetches them
concurrently (or reuses fresh copies from memory: nothing is fetched twice), stores them, writes
findings that cite only chunk ids it was shown, and follows at most ``hop_allowance`` links. Page text
reaches the model only inside ``prompts.untrusted`` blocks. Every tool call is reported as an event.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, NamedTuple

from agents import reading
from agents.context import Rt, RunContext, ask, emit
from agents.floor_plan import degenerate
from agents.floors import best_sentences
from agents.kg import Extraction, merge_extractions, relation_schema
from agents.lexical import fold
from agents.prompt_fit import Group, fit
from agents.state import FindingRecord, SearchReport, SearchTask, SubQuestion, ToolCallRecord
from agents.verifier import screen
from tools.types import Link, SearchResult

# Written tokens cost about ten read ones (agents.run.pace): one findings call writes at most three findings
# and three facts (a 0.5B model filled four of each, 700 tokens, 45 s on two cores; the floor quotes its own).
MAX_FINDINGS = 3
MAX_FACTS = 3  # graph facts one findings call may write
FLOOR_FINDINGS = 3  # extractive findings per passage set, beside the model's
# The agent reads pages itself (fetch, store in memory, cite chunks), so the page-reading tool is
# not offered: text it returned could not be cited or verified.
READ_TOOLS = frozenset({"fetch_url"})


def tool_calls_schema(call_schema: dict[str, Any], max_calls: int) -> dict[str, Any]:
    """Schema of the tool-choice answer: one to ``max_calls`` valid tool calls."""
    return {
        "title": "ToolCalls",
        "type": "object",
        "properties": {"calls": {"type": "array", "items": call_schema, "minItems": 1, "maxItems": max_calls}},
        "required": ["calls"],
    }


def pick_schema(n_results: int, allowance: int) -> dict[str, Any]:
    """Schema of the reading choice: result numbers from the list, at most ``allowance``."""
    return {
        "title": "Picks",
        "type": "object",
        "properties": {
            "picks": {
                "type": "array",
                "items": {"type": "integer", "enum": list(range(1, n_results + 1))},
                "minItems": 1 if n_results and allowance else 0,  # read at least one result when there are any
                "maxItems": max(allowance, 1),
            }
        },
        "required": ["picks"],
    }


def findings_schema(
    chunk_ids: list[str], n_links: int, text_chars: int = 300, max_items: int = MAX_FINDINGS, facts: bool = False
) -> dict[str, Any]:
    """Schema of the findings answer: cited ids limited to the passages shown; with ``facts``, graph facts too."""
    finding = reading.cited_statement_schema(chunk_ids, text_chars)
    props: dict[str, Any] = {"findings": {"type": "array", "items": finding, "maxItems": min(max_items, MAX_FINDINGS)}}
    required = ["findings"]
    if facts:  # the graph's facts in the same call: the graph agent then needs no extraction call of its own
        props["facts"] = {"type": "array", "items": relation_schema(chunk_ids, text_chars), "maxItems": MAX_FACTS}
        required.append("facts")
    if n_links:
        props["follow"] = {"anyOf": [{"type": "integer", "enum": list(range(1, n_links + 1))}, {"type": "null"}]}
        required.append("follow")
    return {"title": "Findings", "type": "object", "properties": props, "required": required}


def collect_results(outputs: list[list[SearchResult]], skip: set[str]) -> list[SearchResult]:
    """Merge result lists: interleaved by rank, deduplicated by normalized URL, ``skip`` left out."""
    seen = set(skip)
    merged: list[SearchResult] = []
    depth = max((len(o) for o in outputs), default=0)
    for i in range(depth):
        for output in outputs:
            if i < len(output):
                key = reading.normalize_url(output[i].url)
                if key not in seen:
                    seen.add(key)
                    merged.append(output[i])
    return merged


def ranked_results(outputs: list[Any], n_floor: int, skip: set[str]) -> list[SearchResult]:
    """The floor's results first (its calls' lists interleaved by rank), then the model's calls' results.

    So the top-ranked results the floor reads do not depend on what else the model searched for.
    """
    lists = [(i, o) for i, o in enumerate(outputs) if isinstance(o, list)]
    floor = collect_results([o for i, o in lists if i < n_floor], skip)
    seen = skip | {reading.normalize_url(r.url) for r in floor}
    return floor + collect_results([o for i, o in lists if i >= n_floor], seen)


def picked_urls(picks: list[int], results: list[SearchResult], allowance: int) -> list[str]:
    """The URLs of the picked result numbers (valid, distinct, at most ``allowance``)."""
    urls: list[str] = []
    for n in picks:
        if 1 <= n <= len(results) and results[n - 1].url not in urls:
            urls.append(results[n - 1].url)
    return urls[:allowance]


def clean_findings(answer: dict[str, Any], allowed: set[str]) -> list[tuple[str, list[str]]]:
    """Findings with text and at least one allowed chunk id (ids outside the shown set dropped)."""
    out = []
    for item in answer.get("findings", [])[:MAX_FINDINGS]:
        text = " ".join(str(item.get("text", "")).split())
        ids = list(dict.fromkeys(i for i in item.get("chunk_ids", []) if i in allowed))
        if text and ids:
            out.append((text, ids))
    return out


def screened_findings(
    found: list[tuple[str, list[str]]], chunks: list[dict[str, str]], question: str = ""
) -> list[tuple[str, list[str]]]:
    """The model's findings the verifier's lexical screen does not reject outright (nor mere echoes of ``question``)."""
    texts = {c["id"]: c["text"] for c in chunks}
    kept = []
    for text, ids in found:
        cited = [texts[i] for i in ids if i in texts]
        others = [t for i, t in texts.items() if i not in ids]
        if screen(text, cited, others, question) != "unsupported":
            kept.append((text, ids))
    return kept


def floor_then_model(
    question: str, found: list[tuple[str, list[str]]], chunks: list[dict[str, str]], text_chars: int
) -> tuple[list[tuple[str, list[str]]], int]:
    """The passages' best-matching sentences, quoted and cited (the floor), then the model's findings that
    hold up and say something else — a model adds findings, it never replaces the floor's — and how
    many of them, from the start, are the floor's."""
    floor = best_sentences(question, chunks, limit=FLOOR_FINDINGS, max_chars=text_chars)
    seen = {fold(text) for text, _ids in floor}
    return [*floor, *(f for f in screened_findings(found, chunks, question) if fold(f[0]) not in seen)], len(floor)


def fallback_calls(tools: list[Any], queries: list[str], limit: int) -> list[tuple[str, dict[str, Any]]]:
    """Tool calls made without the model: each suggested query to the first tool that takes a query."""
    takes_query = [t for t in tools if "query" in t.parameters.get("properties", {})]
    takes_query.sort(key=lambda t: t.name != "web_search")
    if not takes_query:
        return []
    return [(takes_query[0].name, {"query": q[:200]}) for q in queries][:limit]


def outcome_text(output: Any) -> str:
    """A short description of a tool's output for events and the manifest."""
    if isinstance(output, list):
        return f"{len(output)} results"
    return f"text ({len(str(output))} chars)"


def memo_key(tool: str, arguments: dict[str, Any]) -> str:
    """The key of one tool call in the run's memo."""
    import json

    return json.dumps([tool, arguments], sort_keys=True, default=str)


async def _call_tool(ctx: RunContext, tool: str, arguments: dict[str, Any]) -> tuple[Any, ToolCallRecord]:
    """Run one tool call (or answer it from the run's memo) and describe it."""
    key = memo_key(tool, arguments)
    if key in ctx.memo:
        output = reading.load_output(ctx.memo[key])
        return output, ToolCallRecord(
            subquestion="",
            tool=tool,
            arguments=arguments,
            duration_s=0.0,
            ok=True,
            outcome="memo: " + outcome_text(output),
        )
    started = time.monotonic()
    outcome = await ctx.registry.call(tool, arguments)
    duration = round(getattr(outcome, "duration_s", time.monotonic() - started), 4)
    if outcome.ok:
        ctx.memo[key] = reading.dump_output(outcome.output)
        text = outcome_text(outcome.output)
    else:
        text = str(outcome.error)
    return (outcome.output if outcome.ok else None), ToolCallRecord(
        subquestion="", tool=tool, arguments=arguments, duration_s=duration, ok=bool(outcome.ok), outcome=text
    )


def floor_calls(tools: list[Any], sub: SubQuestion) -> list[tuple[str, dict[str, Any]]]:
    """The search floor: each of the sub-question's planned queries, then its own text, sent to web search."""
    return fallback_calls(tools, list(dict.fromkeys([*sub["queries"], sub["question"]])), 1 + len(sub["queries"]))


def merge_calls(
    floor: list[tuple[str, dict[str, Any]]], model: list[tuple[str, dict[str, Any]]], question: str, limit: int
) -> list[tuple[str, dict[str, Any]]]:
    """The floor's calls, then up to ``limit`` of the model's on top; identical calls once, useless queries dropped."""
    out: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    for n, (tool, args) in enumerate([*floor, *model]):
        query = args.get("query")
        if n >= len(floor) and (isinstance(query, str) and degenerate(query, question)):
            continue
        key = memo_key(tool, {"query": fold(query)} if isinstance(query, str) else args)
        if key in seen or (n >= len(floor) and len(out) >= len(floor) + limit):
            continue
        seen.add(key)
        out.append((tool, args))
    return out


async def choose_and_call(
    runtime: Rt, task: SearchTask, already: list[str]
) -> tuple[list[Any], list[ToolCallRecord], int]:
    """Ask the model for tool calls and send them on top of the floor's, concurrently.

    Returns the outputs and records in call order, and how many of the calls (the first ones) are the floor's.
    """
    ctx, sub = runtime.context, task["sub"]
    usable = [t for t in ctx.registry.tools() if t.name not in READ_TOOLS]
    schema = tool_calls_schema(ctx.registry.call_schema([t.name for t in usable]), ctx.limits.max_tool_calls)
    tools = [{"name": t.name, "description": t.description} for t in usable]
    fixed = {
        "question": task["question"],
        "subquestion": sub["question"],
        "queries": sub["queries"],
        "tools": tools,
        "max_calls": ctx.limits.max_tool_calls,
    }
    packed = None
    if ctx.limits.model_tools or any(t.origin != "built-in" for t in usable):  # else the planned queries suffice
        already_group = [Group("already", already[-20:])]
        packed = await fit(runtime, task["run_id"], "searcher", "searcher_tools", fixed, already_group)
    answer = await ask(runtime, task["run_id"], "searcher", packed.messages, schema) if packed else None
    chosen = [] if answer is None else [(c["tool"], dict(c.get("arguments") or {})) for c in answer["calls"]]
    floor = floor_calls(usable, sub)
    calls = merge_calls(floor, chosen, task["question"], ctx.limits.max_tool_calls)
    n_floor = sum(1 for call in calls[: len(floor)] if call in floor)
    done = await asyncio.gather(*(_call_tool(ctx, name, args) for name, args in calls))
    records = []
    for _output, record in done:
        record["subquestion"] = sub["id"]
        records.append(record)
        emit(
            runtime,
            task["run_id"],
            "tool_call",
            subquestion=sub["id"],
            **{k: v for k, v in record.items() if k != "subquestion"},
        )
    return [output for output, _ in done], records, n_floor


async def pick_results(
    runtime: Rt, run_id: str, sub: SubQuestion, results: list[SearchResult], allowance: int
) -> list[str]:
    """Ask the model which results to read (the top-ranked ones when it cannot say); returns their URLs."""
    if not results or allowance <= 0:
        return []
    if not runtime.context.limits.model_picks:  # the floor alone: the top-ranked results are read
        return picked_urls(list(range(1, min(len(results), 20) + 1)), results, allowance)
    listing = [{"n": i + 1, "title": r.title, "url": r.url, "snippet": r.snippet[:300]} for i, r in enumerate(results)]
    group = Group("results", listing[:20], field="snippet", required=True)
    fixed = {"subquestion": sub["question"], "allowance": allowance}
    packed = await fit(runtime, run_id, "searcher", "searcher_pick", fixed, [group])
    shown = results[: len(packed["results"]) if packed else 20]  # the model picks among those it was shown
    schema = pick_schema(len(shown), allowance)
    answer = await ask(runtime, run_id, "searcher", packed.messages, schema) if packed else None
    picks = [] if answer is None else [int(n) for n in answer.get("picks", [])]
    # The floor: the best-ranked half of the allowance is always read; the model's picks, then the
    # next-ranked results, fill the rest.
    top = results[:20]
    floor = list(range(1, (allowance + 1) // 2 + 1))
    return picked_urls([*floor, *(n for n in picks if n <= len(shown)), *range(1, len(top) + 1)], top, allowance)


class Notes(NamedTuple):
    """What one findings call left: the floor's and the model's findings, a link to follow, how many of the
    findings (from the start) are the floor's, and the graph facts written with them."""

    findings: list[tuple[str, list[str]]]
    link: Link | None
    n_floor: int
    facts: list[dict[str, Any]]


def fact_extraction(answer: dict[str, Any] | None, shown: list[dict[str, str]]) -> Extraction | None:
    """The graph facts of a findings answer as an extraction to merge, over the passages it was ``shown``
    (each with its source id); None when it wrote none."""
    facts = (answer or {}).get("facts") or []
    sources = {c["id"]: c["source_id"] for c in shown}
    return ({"entities": [], "relations": facts}, sources) if facts and sources else None


async def write_findings(
    runtime: Rt, run_id: str, sub: SubQuestion, chunks: list[dict[str, str]], links: list[Link], observations: list[str]
) -> Notes:
    """Ask the model for findings (and, unless the graph agent has calls of its own, graph facts) over the
    passages shown; the facts are merged into memory's graph here."""
    ctx = runtime.context
    listed = [{"n": i + 1, "url": link.url, "text": link.text[:120]} for i, link in enumerate(links)]
    groups = [Group("chunks", chunks, required=True), Group("observations", observations), Group("links", listed)]
    with_facts = not ctx.limits.graph_calls
    fixed = {"subquestion": sub["question"], "facts": with_facts}
    packed = await fit(runtime, run_id, "searcher", "searcher_findings", fixed, groups)
    ids = [c["id"] for c in packed["chunks"]] if packed else []  # only the passages shown are citable
    links = links[: len(packed["links"])] if packed else []
    schema = findings_schema(ids, len(links), ctx.limits.text_chars, ctx.limits.max_items, facts=with_facts)
    answer = await ask(runtime, run_id, "searcher", packed.messages, schema) if packed else None
    found = clean_findings(answer, set(ids)) if answer is not None else []
    follow = answer.get("follow") if answer is not None else None
    link = links[follow - 1] if isinstance(follow, int) and 1 <= follow <= len(links) else None
    findings, n_floor = floor_then_model(sub["question"], found, chunks, ctx.limits.text_chars)
    facts: list[dict[str, Any]] = []
    if (extraction := fact_extraction(answer, packed["chunks"] if packed else [])) is not None:
        facts = await asyncio.to_thread(merge_extractions, ctx, run_id, [extraction])
    return Notes(findings, link, n_floor, facts)


class Reading(NamedTuple):
    """What one search agent read and noted."""

    pages: reading.PagesRead
    found: list[tuple[str, list[str]]]  # the findings, the floor's first in each call
    hops: int
    floor: set[str]  # the (folded) texts of the floor's findings
    facts: list[dict[str, Any]]  # graph facts written with the findings


async def read_and_note(runtime: Rt, task: SearchTask, urls: list[str], observations: list[str]) -> Reading:
    """Read the picked pages, write findings, and follow links while the hop allowance lasts.

    Pages read always get the floor's findings, even once the budget is spent (they cost no model call).
    """
    ctx, sub, run_id = runtime.context, task["sub"], task["run_id"]
    pages = await reading.read_pages(runtime, run_id, sub["id"], urls)
    out = Reading(pages, [], 0, set(), [])
    hops, source_ids = 0, pages.source_ids
    links = reading.candidate_links(pages.links, seen=set(urls), limit=8) if task["hop_allowance"] else []
    page_cap = task["page_allowance"] + task["hop_allowance"]
    while source_ids:
        chunks = await reading.passages(ctx, sub["question"], source_ids)
        if not chunks:
            break
        notes = await write_findings(runtime, run_id, sub, chunks, links, observations)
        out.found.extend(notes.findings)
        out.floor.update(fold(text) for text, _ids in notes.findings[: notes.n_floor])
        out.facts.extend(notes.facts)
        observations = []
        if notes.link is None or hops >= task["hop_allowance"] or pages.fetched >= page_cap or ctx.starved():
            break
        hops += 1
        hop = await reading.read_pages(runtime, run_id, sub["id"], [notes.link.url], hop=True)
        pages.merge(hop)
        source_ids = hop.source_ids
        links = reading.candidate_links(hop.links, seen={*urls, notes.link.url}, limit=8)
    return out._replace(hops=hops)


async def search_subquestion(task: SearchTask, runtime: Rt) -> dict[str, Any]:
    """Node: research one sub-question (runs in parallel with its siblings)."""
    ctx, sub, run_id = runtime.context, task["sub"], task["run_id"]
    emit(runtime, run_id, "search_started", subquestion=sub["id"], question=sub["question"])
    outputs, calls, n_floor = await choose_and_call(runtime, task, [])
    observations = [str(o)[:1500] for o in outputs if isinstance(o, str) and o.strip()]
    results = ranked_results(outputs, n_floor, set(task.get("skip_urls", [])))
    urls = await pick_results(runtime, run_id, sub, results, task["page_allowance"]) if not ctx.starved() else []
    read = await read_and_note(runtime, task, urls, observations)
    pages, hops = read.pages, read.hops
    records = await reading.record_findings(ctx, run_id, sub["question"], read.found)
    for rec in records:
        rec["origin"] = "floor" if fold(rec["text"]) in read.floor else "model"
    for rec in records:
        emit(runtime, run_id, "finding", subquestion=sub["id"], text=rec["text"], chunk_ids=rec["chunk_ids"])
    emit(
        runtime,
        run_id,
        "search_done",
        subquestion=sub["id"],
        pages=pages.fetched,
        findings=len(records),
        tokens=ctx.tokens(),
    )
    report = SearchReport(
        id=sub["id"],
        question=sub["question"],
        section=sub["section"],
        queries=[str(c["arguments"]) for c in calls],
        pages=pages.fetched,
        findings=len(records),
        hops=hops,
    )
    return {
        "searches": [report],
        "findings": records,
        "fetches": pages.records,
        "tool_calls": calls,
        "queries": [str(c["arguments"].get("query", "")) for c in calls if c["arguments"].get("query")],
        "pages_fetched": pages.fetched,
        "hops_used": hops,
        "facts": read.facts,
        "asked": [sub["question"]],
        "budget_out": ctx.starved(),
    }


__all__ = ["FindingRecord", "search_subquestion"]
