"""The knowledge-graph agent: facts with provenance from findings, then gaps and follow-up questions.

By default the search agents write the graph's facts in the same call as their findings
(``agents.searcher``, through ``merge_extractions`` here), so this agent makes no model call to
extract them: it merges, finds gaps and bridges, and asks the model only for follow-up questions.
With ``Limits.graph_calls`` (the ``deep`` mode) it extracts facts in calls of its own, as below.

Guarantees: its cost is bounded — it reads only the findings it has not read yet and the chunks they
cite, ``kg_batch`` findings per model call and at most ``kg_batches`` calls per round, and stops when
the token or time budget runs out. Every relation cites chunk ids it was shown, so each fact has
provenance (chunks and their sources). Entities are resolved against memory (names, aliases,
embedding neighbours, and the entities of the same node's earlier batches) before they are merged;
a node's facts are written together, entities then relations, in two batched writes whose merges
equal one write per item in order. Contradictions are passed on to the drafter.
"""

from __future__ import annotations

import asyncio
from typing import Any

from agents import graphs
from agents.context import Rt, RunContext, ask, emit
from agents.floor_plan import FINDINGS_SECTION, hop_entities, keyword_query, named_spans
from agents.planner import make_subquestions, plan_schema
from agents.prompt_fit import Group, fit
from agents.run.budget import may_search_again, round_allowance
from agents.state import FindingRecord, ResearchState, SubQuestion
from memory.options import NewEntity, NewRelation

MAX_ENTITIES = 8
MAX_RELATIONS = 8
CHUNK_CHARS = 1000


def relation_schema(chunk_ids: list[str], text_chars: int = 300) -> dict[str, Any]:
    """Schema of one fact: a subject - relation - object triple citing one to three of ``chunk_ids``."""
    name = min(60, text_chars)
    return {
        "type": "object",
        "properties": {
            "subject": {"type": "string", "minLength": 1, "maxLength": name},
            "relation": {"type": "string", "minLength": 1, "maxLength": min(40, text_chars)},
            "object": {"type": "string", "minLength": 1, "maxLength": min(80, text_chars)},
            "chunk_ids": {"type": "array", "items": {"enum": chunk_ids}, "minItems": 1, "maxItems": 3},
        },
        "required": ["subject", "relation", "object", "chunk_ids"],
    }


def kg_schema(chunk_ids: list[str], text_chars: int = 300, max_items: int = MAX_RELATIONS) -> dict[str, Any]:
    """Schema of one extraction: entities and relations citing the passages shown."""
    name = min(60, text_chars)
    entity = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": name},
            "type": {"type": "string", "maxLength": min(30, text_chars)},
            "aliases": {"type": "array", "items": {"type": "string", "maxLength": name}, "maxItems": 2},
            "description": {"type": "string", "maxLength": min(120, text_chars)},
        },
        "required": ["name", "type"],
    }
    relation = relation_schema(chunk_ids, text_chars)
    return {
        "title": "GraphFacts",
        "type": "object",
        "properties": {
            "entities": {"type": "array", "items": entity, "maxItems": min(max_items, MAX_ENTITIES)},
            "relations": {"type": "array", "items": relation, "maxItems": min(max_items, MAX_RELATIONS)},
        },
        "required": ["entities", "relations"],
    }


def batch_findings(findings: list[FindingRecord], size: int, max_batches: int) -> list[list[FindingRecord]]:
    """Split findings into at most ``max_batches`` batches of ``size``."""
    batches = [findings[i : i + size] for i in range(0, len(findings), max(size, 1))]
    return batches[:max_batches]


def _resolve(ctx: RunContext, name: str, staged: list[NewEntity]) -> Any:
    """The known entity ``name`` denotes: one staged in this batch, else one in memory, else None."""
    return graphs.resolve_entity(name, staged) or graphs.resolve_entity(name, ctx.memory.find_entities(name, k=5))


def _entity_item(
    ctx: RunContext, run_id: str, name: str, spec: dict[str, Any], sources: list[str], staged: list[NewEntity]
) -> NewEntity:
    """The entity to upsert for ``name``, under the canonical name of the entity it resolves to."""
    known = ctx.entity_cache.get(graphs.norm(name)) or _resolve(ctx, name, staged)
    canonical = known.name if known is not None else name
    aliases = [a for a in [name, *spec.get("aliases", [])] if graphs.norm(a) != graphs.norm(canonical)]
    kind = str(spec.get("type") or (known.type if known else "thing"))
    return NewEntity(canonical, kind, run_id, tuple(aliases), str(spec.get("description", "")), tuple(sources))


Extraction = tuple[dict[str, Any], dict[str, str]]  # a model's answer and the chunk -> source map it saw


def merge_extractions(ctx: RunContext, run_id: str, extractions: list[Extraction]) -> list[dict[str, Any]]:
    """Upsert the extracted entities, then the relations, one batched write each; returns the facts.

    Each extraction's mentions are merged as if its batch had been written after the earlier ones.
    """
    rels = []
    for n, (answer, chunk_sources) in enumerate(extractions):
        types = {graphs.norm(e["name"]): e for e in answer.get("entities", [])}
        for rel in answer.get("relations", []):
            ids = [i for i in rel.get("chunk_ids", []) if i in chunk_sources]
            if ids:
                rels.append((n, types, rel, rel["relation"].strip(), ids, sorted({chunk_sources[i] for i in ids})))
    order: dict[tuple[int, str], int] = {}  # (extraction, entity key) -> its item, in order of first mention
    items: list[NewEntity] = []
    with ctx.memory_lock:
        for n, types, rel, _, _, sources in rels:
            for name in (rel["subject"], rel["object"]):
                if (n, graphs.norm(name)) not in order:
                    order[(n, graphs.norm(name))] = len(items)
                    items.append(_entity_item(ctx, run_id, name, types.get(graphs.norm(name), {}), sources, items))
        stored = ctx.memory.upsert_entities(items) if items else []
        entities = {key: stored[i] for key, i in order.items()}
        ctx.entity_cache.update({key: entity for (_, key), entity in entities.items()})
        ends = [
            (entities[(n, graphs.norm(r["subject"]))], entities[(n, graphs.norm(r["object"]))]) for n, _, r, *_ in rels
        ]
        edges = [
            NewRelation(subj.id, pred, obj.id, run_id, tuple(ids), tuple(sources))
            for (subj, obj), (_, _, _, pred, ids, sources) in zip(ends, rels, strict=True)
        ]
        relations = ctx.memory.upsert_relations(edges) if edges else []
    return [
        {
            "id": edge.id,
            "subject": subj.name,
            "subject_id": subj.id,
            "relation": pred,
            "object": obj.name,
            "object_id": obj.id,
            "chunk_ids": ids,
            "source_ids": sources,
        }
        for edge, (subj, obj), (_, _, _, pred, ids, sources) in zip(relations, ends, rels, strict=True)
    ]


async def extract_facts(runtime: Rt, run_id: str, batch: list[FindingRecord]) -> Extraction | None:
    """One bounded extraction over a batch of findings and the chunks they cite (None: nothing extracted)."""
    ctx = runtime.context
    ids = list(dict.fromkeys(i for f in batch for i in f["chunk_ids"]))[: ctx.limits.chunks_per_prompt]
    chunks = await asyncio.to_thread(ctx.memory.get_chunks, ids)
    if not chunks:
        return None
    shown = [{"id": c.id, "text": c.text[:CHUNK_CHARS]} for c in chunks]
    groups = [Group("chunks", shown, required=True), Group("findings", batch)]
    packed = await fit(runtime, run_id, "extractor", "kg_extract", {}, groups)
    if packed is None:  # the prompt cannot fit: as if the model gave no extraction
        return None
    kept = {c["id"] for c in packed["chunks"]}  # relations may cite only the passages shown
    schema = kg_schema([c.id for c in chunks if c.id in kept], ctx.limits.text_chars, ctx.limits.max_items)
    answer = await ask(runtime, run_id, "extractor", packed.messages, schema)
    if answer is None:  # no valid extraction: this batch adds no facts
        return None
    return answer, {c.id: c.source_id for c in chunks if c.id in kept}


async def propose_followups(runtime: Rt, state: ResearchState, analysis: dict[str, Any]) -> list[SubQuestion]:
    """Ask the model for follow-up sub-questions that fill the gaps; deduplicated against those asked."""
    ctx = runtime.context
    plan = state["plan"]
    fixed = {"question": state["question"], "outline": plan["outline"], "breadth": ctx.limits.breadth}
    groups = [
        Group("gaps", analysis["gaps"]),
        Group("contradictions", analysis["contradictions"], field=None),
        Group("bridges", analysis["bridges"]),
        Group("findings", [f["text"] for f in state.get("findings", [])][-30:]),
        Group("asked", state.get("asked", [])),
    ]
    packed = await fit(runtime, state["run_id"], "planner", "kg_reflect", fixed, groups)
    schema = plan_schema(ctx.limits.breadth, ctx.limits.text_chars)["properties"]["subquestions"]
    schema = {
        "title": "FollowUps",
        "type": "object",
        "properties": {"subquestions": {**schema, "minItems": 0}},
        "required": ["subquestions"],
    }
    answer = await ask(runtime, state["run_id"], "planner", packed.messages, schema) if packed else None
    return make_subquestions(
        (answer or {}).get("subquestions", []),
        plan["outline"],
        round_no=state.get("round", 0) + 1,
        limit=ctx.limits.breadth,
        skip=state.get("asked", []),
    )


HOP_ENTITIES = 2  # round-two sub-questions the second-hop floor adds


def hop_subquestions(state: ResearchState, facts: list[dict[str, Any]], limit: int) -> list[SubQuestion]:
    """The second-hop floor: names the floor's findings mention that the question does not, then those of
    the model's findings and the graph's facts."""
    question = state["question"]
    texts: list[str] = []  # the floor's findings (a record without an origin is the floor's)
    theirs: list[str] = []  # the model's: they and the facts may add names after the floor's, never outrank them
    for finding in state.get("findings", []):
        (texts if finding.get("origin", "floor") == "floor" else theirs).append(finding["text"])
    names = [n for text in theirs for n in named_spans(text)]
    names += [n for f in facts for n in (f.get("subject", ""), f.get("object", ""))]
    keywords = keyword_query(question, 4)
    raw = [{"question": f"{name} — {question}", "queries": [name, f"{name} {keywords}"], "section": FINDINGS_SECTION}
           for name in hop_entities(question, texts, limit, extra=names, attest=theirs)]
    return make_subquestions(raw, state["plan"]["outline"], round_no=state.get("round", 0) + 1, limit=limit,
                             skip=state.get("asked", []))


def hop_names(state: ResearchState) -> list[str]:
    """The bridge names this run's second hop searched (``hop_subquestions`` asks "{name} — {question}")."""
    suffix = f" — {state['question']}"
    return [s["question"][: -len(suffix)] for s in state.get("searches", []) if s["question"].endswith(suffix)]


async def build_graph(state: ResearchState, runtime: Rt) -> dict[str, Any]:
    """Node: extract facts from new findings, analyse the graph, and queue follow-ups within budget."""
    ctx, run_id = runtime.context, state["run_id"]
    emit(runtime, run_id, "phase", phase="graph")
    seen = set(state.get("kg_seen", []))
    new = [f for f in state.get("findings", []) if f["id"] not in seen]
    extractions: list[Extraction] = []
    # The search agents write the graph's facts in their findings calls unless the graph agent has calls of its own.
    read: list[str] = [] if ctx.limits.graph_calls else [f["id"] for f in new]
    batches = batch_findings(new, ctx.limits.kg_batch, ctx.limits.kg_batches) if ctx.limits.graph_calls else []
    for batch in batches:
        if ctx.starved():
            break
        if (got := await extract_facts(runtime, run_id, batch)) is not None:
            extractions.append(got)
        read += [f["id"] for f in batch]
    facts = await asyncio.to_thread(merge_extractions, ctx, run_id, extractions) if extractions else []  # two writes
    all_facts = graphs.merge_facts(state.get("facts", []), facts)
    analysis = graphs.analyse(state["plan"], state.get("searches", []), state.get("findings", []), all_facts)
    emit(
        runtime,
        run_id,
        "graph",
        facts=len(all_facts),
        new_facts=len(facts),
        gaps=analysis["gaps"],
        contradictions=len(analysis["contradictions"]),
        tokens=ctx.tokens(),
        budget=ctx.budget(state.get("pages_fetched", 0), state.get("round", 0)),
    )
    round_no = state.get("round", 0)
    used_up = ctx.exhausted(state.get("pages_fetched", 0))
    update: dict[str, Any] = {
        "facts": facts,
        "kg_seen": [*state.get("kg_seen", []), *read],
        "contradictions": analysis["contradictions"],
        "gaps": analysis["gaps"],
        "pending": [],
    }
    wanted = bool(analysis["gaps"] or analysis["contradictions"] or analysis["bridges"])
    # The second hop is the floor's after the first round, whatever the model proposes.
    hops = hop_subquestions(state, all_facts, min(HOP_ENTITIES, ctx.limits.breadth)) if round_no == 0 else []
    if (wanted or hops) and may_search_again(ctx.limits, round_no=round_no, exhausted_now=used_up, followups=1):
        # A round has ``breadth`` sub-questions: the second hop's first, the model's follow-ups in the room left.
        room = ctx.limits.breadth - len(hops)
        proposed = await propose_followups(runtime, state, analysis) if wanted and room > 0 else []
        taken = {f["id"] for f in hops}
        followups = [*hops, *(f for f in proposed if f["id"] not in taken)][: max(ctx.limits.breadth, len(hops))]
        if followups:
            allowance = round_allowance(ctx.limits, state.get("pages_fetched", 0), len(followups), floor=len(hops))
            update.update(pending=followups, round=round_no + 1, allowance=allowance)
            emit(runtime, run_id, "followups", round=round_no + 1, subquestions=[f["question"] for f in followups])
    elif wanted:
        update["notes"] = graphs.stop_notes(ctx.limits, used_up, round_no)
        update["budget_out"] = used_up  # hitting the depth limit is noted, but is not a budget failure
    return update
