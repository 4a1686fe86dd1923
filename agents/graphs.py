"""Pure helpers over the run's knowledge-graph facts: entity resolution, contradictions, gaps, bridges.

No I/O here: the knowledge-graph agent hands in facts (dicts with subject, relation, object, chunk
ids and source ids) and gets back what the report still lacks, so each rule is tested on its own.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx

from agents.run.budget import Limits, budget_note

MIN_SECTION_FINDINGS = 2


def norm(name: str) -> str:
    """A name folded for comparison: case, punctuation, articles and spacing removed."""
    words = re.findall(r"\w+", name.casefold())
    return " ".join(w for w in words if w not in {"the", "a", "an"})


def _acronym(name: str) -> str:
    return "".join(w[0] for w in re.findall(r"\w+", name.casefold()) if w not in {"of", "and", "the", "for"})


def same_entity(name: str, entity: Any) -> bool:
    """Whether ``name`` denotes ``entity`` (same name, an alias, or the acronym of its name)."""
    key = norm(name)
    names = [entity.name, *getattr(entity, "aliases", ())]
    if any(norm(n) == key for n in names):
        return True
    compact = key.replace(" ", "")
    return len(compact) >= 2 and " " not in key and any(_acronym(n) == compact for n in names if " " in n.strip())


def resolve_entity(name: str, candidates: Sequence[Any]) -> Any:
    """The candidate (from ``memory.find_entities``) that ``name`` denotes, or None."""
    for entity in candidates:
        if same_entity(name, entity):
            return entity
    return None


def merge_facts(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Facts by id, later ones replacing earlier ones."""
    merged = {f["id"]: f for f in old}
    merged.update({f["id"]: f for f in new})
    return list(merged.values())


def find_contradictions(facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Same subject and relation, different objects, asserted by different sources."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for fact in facts:
        groups[(norm(fact["subject"]), norm(fact["relation"]))].append(fact)
    out = []
    for group in groups.values():
        objects: dict[str, dict[str, Any]] = {}
        for fact in group:
            objects.setdefault(norm(fact["object"]), fact)
        if len(objects) < 2:
            continue
        sources = {s for f in group for s in f["source_ids"]}
        if len(sources) < 2:
            continue
        first = group[0]
        out.append(
            {
                "subject": first["subject"],
                "relation": first["relation"],
                "objects": [f["object"] for f in objects.values()],
                "source_ids": sorted(sources),
                "chunk_ids": sorted({c for f in group for c in f["chunk_ids"]}),
            }
        )
    return out


def outline_gaps(
    plan: Mapping[str, Any], searches: Sequence[Mapping[str, Any]], findings: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Outline sections backed by fewer than ``MIN_SECTION_FINDINGS`` findings."""
    section_of = {s["question"]: s["section"] for s in [*plan["subquestions"], *searches]}
    counts: dict[str, int] = defaultdict(int)
    for finding in findings:
        counts[section_of.get(finding["question"], "")] += 1
    return [title for title in plan["outline"] if counts.get(title, 0) < MIN_SECTION_FINDINGS]


def bridges(facts: list[dict[str, Any]], limit: int = 3) -> list[str]:
    """Pairs of unconnected topic clusters, named by each cluster's best-connected entity."""
    graph = nx.Graph()
    for fact in facts:
        graph.add_edge(fact["subject"], fact["object"])
    components = sorted(nx.connected_components(graph), key=len, reverse=True)
    hubs = [max(c, key=lambda n: (graph.degree(n), n)) for c in components if len(c) > 1]
    return [f"{hubs[i]} and {hubs[i + 1]}" for i in range(min(len(hubs) - 1, limit))]


def analyse(
    plan: Mapping[str, Any],
    searches: Sequence[Mapping[str, Any]],
    findings: Sequence[Mapping[str, Any]],
    facts: list[dict[str, Any]],
) -> dict[str, Any]:
    """What the report still lacks: gaps, contradictions and bridges."""
    return {
        "gaps": outline_gaps(plan, searches, findings),
        "contradictions": find_contradictions(facts),
        "bridges": bridges(facts),
    }


def stop_notes(limits: Limits, exhausted: list[str], round_no: int) -> list[str]:
    """Report notes saying why the research stopped with open questions."""
    if exhausted:
        return [budget_note(name, limits) for name in exhausted]
    if round_no >= limits.depth:
        return [budget_note("rounds", limits)]
    return []


def graph_json(facts: list[dict[str, Any]], contradictions: list[dict[str, Any]]) -> dict[str, Any]:
    """The run's graph as JSON: nodes, edges with provenance, contradictions."""
    nodes: dict[str, dict[str, Any]] = {}
    for fact in facts:
        nodes.setdefault(fact["subject_id"], {"id": fact["subject_id"], "name": fact["subject"]})
        nodes.setdefault(fact["object_id"], {"id": fact["object_id"], "name": fact["object"]})
    edges = [
        {
            "id": f["id"],
            "source": f["subject_id"],
            "target": f["object_id"],
            "relation": f["relation"],
            "chunk_ids": f["chunk_ids"],
            "source_ids": f["source_ids"],
        }
        for f in facts
    ]
    return {"nodes": list(nodes.values()), "edges": edges, "contradictions": contradictions}
