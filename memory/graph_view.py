"""The knowledge graph as networkx: neighbourhoods, paths, communities, centrality, JSON and GraphML.

Guarantees: nodes are entity ids carrying name, type, aliases, description, source ids and run ids;
edges are relation ids (one edge per relation, keyed by its id) carrying the predicate and its
provenance (evidence chunk ids, source ids, run ids, first/last seen). An edge whose endpoint is not
a stored entity still appears, with a node named by its id. Every function is deterministic for
a given graph, and exports hold only JSON/GraphML-safe values (lists are joined for GraphML).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import networkx as nx

from memory.types import Entity, Relation


def build_graph(entities: Iterable[Entity], relations: Iterable[Relation]) -> nx.MultiDiGraph:
    """A directed multigraph of entities (nodes) and relations (edges keyed by relation id)."""
    g = nx.MultiDiGraph()
    for e in entities:
        g.add_node(
            e.id,
            name=e.name,
            type=e.type,
            aliases=list(e.aliases),
            description=e.description,
            source_ids=list(e.source_ids),
            run_ids=list(e.run_ids),
        )
    for r in relations:
        for end in (r.subject_id, r.object_id):
            if end not in g:
                g.add_node(end, name=end, type="thing", aliases=[], description="", source_ids=[], run_ids=[])
        g.add_edge(
            r.subject_id,
            r.object_id,
            key=r.id,
            relation=r.relation,
            evidence_chunk_ids=list(r.evidence_chunk_ids),
            source_ids=list(r.source_ids),
            run_ids=list(r.run_ids),
            first_seen=r.first_seen,
            last_seen=r.last_seen,
        )
    return g


def neighbourhood(g: nx.MultiDiGraph, node: str, radius: int = 1) -> nx.MultiDiGraph:
    """The subgraph within ``radius`` hops of ``node`` (edges in either direction)."""
    if node not in g:
        return nx.MultiDiGraph()
    near = nx.single_source_shortest_path_length(g.to_undirected(as_view=True), node, cutoff=radius)
    return g.subgraph(sorted(near)).copy()


def paths(g: nx.MultiDiGraph, source: str, target: str, *, max_hops: int = 4, limit: int = 5) -> list[list[str]]:
    """Up to ``limit`` shortest simple paths (node ids) between two entities, ignoring direction."""
    if source not in g or target not in g:
        return []
    undirected = nx.Graph(g.to_undirected(as_view=True))
    out: list[list[str]] = []
    try:
        for path in nx.shortest_simple_paths(undirected, source, target):
            if len(path) - 1 > max_hops or len(out) >= limit:
                break
            out.append(list(path))
    except nx.NetworkXNoPath:
        return []
    return out


def communities(g: nx.MultiDiGraph, *, seed: int = 0) -> list[list[str]]:
    """Communities (Louvain on the undirected graph, weighted by edge count), largest first."""
    if g.number_of_nodes() == 0:
        return []
    simple = nx.Graph()
    simple.add_nodes_from(g.nodes)
    for u, v in g.edges():
        if u != v:
            w = simple.get_edge_data(u, v, {}).get("weight", 0)
            simple.add_edge(u, v, weight=w + 1)
    found = nx.community.louvain_communities(simple, weight="weight", seed=seed)
    return sorted((sorted(c) for c in found), key=lambda c: (-len(c), c[0]))


def centrality(g: nx.MultiDiGraph, top: int | None = None) -> list[tuple[str, float]]:
    """Nodes by betweenness centrality on the undirected graph (bridges and hubs first; ties by degree)."""
    if g.number_of_nodes() == 0:
        return []
    simple = nx.Graph(g.to_undirected(as_view=True))
    sample = 500 if simple.number_of_nodes() > 2000 else None  # exact up to 2,000 nodes, sampled above
    scores = nx.betweenness_centrality(simple, k=sample, seed=0)
    ordered = sorted(scores.items(), key=lambda p: (-p[1], -simple.degree(p[0]), p[0]))
    return ordered[:top] if top else ordered


def bridges(g: nx.MultiDiGraph) -> list[str]:
    """Articulation points: entities whose removal disconnects part of the graph."""
    return sorted(nx.articulation_points(nx.Graph(g.to_undirected(as_view=True))))


def to_json(g: nx.MultiDiGraph) -> dict[str, Any]:
    """Node-link JSON: ``{"nodes": [...], "edges": [...]}`` with every attribute."""
    nodes = [{"id": n, **data} for n, data in sorted(g.nodes(data=True))]
    edges = [{"id": k, "source": u, "target": v, **data} for u, v, k, data in sorted(g.edges(keys=True, data=True))]
    return {"nodes": nodes, "edges": edges}


def write_json(g: nx.MultiDiGraph, path: str | Path) -> Path:
    """Write ``to_json(g)`` to ``path``."""
    target = Path(path)
    target.write_text(json.dumps(to_json(g), indent=2, ensure_ascii=False), encoding="utf-8")
    return target


def _flat(data: dict[str, Any]) -> dict[str, Any]:
    return {k: "|".join(v) if isinstance(v, Sequence) and not isinstance(v, str) else v for k, v in data.items()}


def write_graphml(g: nx.MultiDiGraph, path: str | Path) -> Path:
    """Write ``g`` as GraphML (list attributes joined with "|")."""
    flat = nx.MultiDiGraph()
    for n, data in g.nodes(data=True):
        flat.add_node(n, **_flat(data))
    for u, v, k, data in g.edges(keys=True, data=True):
        flat.add_edge(u, v, key=k, **_flat(data))
    target = Path(path)
    nx.write_graphml(flat, target)
    return target
