"""The graph view: neighbourhoods, paths, communities, centrality, JSON and GraphML exports."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx

from memory import graph_view as gv
from memory.types import Entity, Relation


def _graph() -> nx.MultiDiGraph:
    names = ["Curie", "Radium", "Polonium", "Sorbonne", "Paris", "Einstein", "Relativity", "Princeton"]
    entities = [Entity(id=n.lower(), name=n, type="thing", aliases=(n[:3],), run_ids=("r1",)) for n in names]
    triples = [
        ("curie", "discovered", "radium"),
        ("curie", "discovered", "polonium"),
        ("radium", "related to", "polonium"),
        ("curie", "worked at", "sorbonne"),
        ("sorbonne", "located in", "paris"),
        ("einstein", "visited", "paris"),
        ("einstein", "developed", "relativity"),
        ("einstein", "worked at", "princeton"),
        ("relativity", "studied at", "princeton"),
        ("curie", "discovered", "radium"),
    ]
    relations = [
        Relation(id=f"rel{i}", subject_id=s, relation=r, object_id=o, evidence_chunk_ids=(f"c{i}",), run_ids=("r1",))
        for i, (s, r, o) in enumerate(triples)
    ]
    relations.append(Relation(id="dangling", subject_id="paris", relation="twinned with", object_id="ent_rome"))
    return gv.build_graph(entities, relations)


def test_build_keeps_parallel_edges_and_dangling_ends() -> None:
    g = _graph()
    assert g.number_of_edges("curie", "radium") == 2
    assert g.nodes["ent_rome"]["name"] == "ent_rome"
    assert g.edges["curie", "radium", "rel0"]["evidence_chunk_ids"] == ["c0"]


def test_neighbourhood_and_paths() -> None:
    g = _graph()
    assert set(gv.neighbourhood(g, "sorbonne", 1).nodes) == {"sorbonne", "curie", "paris"}
    assert gv.neighbourhood(g, "nobody").number_of_nodes() == 0
    assert gv.paths(g, "radium", "princeton", max_hops=5)[0] == [
        "radium",
        "curie",
        "sorbonne",
        "paris",
        "einstein",
        "princeton",
    ]
    assert gv.paths(g, "radium", "princeton", max_hops=2) == []
    assert gv.paths(g, "radium", "nowhere") == []


def test_communities_centrality_and_bridges() -> None:
    g = _graph()
    groups = gv.communities(g)
    assert sum(len(c) for c in groups) == g.number_of_nodes()
    assert any({"curie", "radium", "polonium"} <= set(c) for c in groups)
    assert any({"einstein", "relativity", "princeton"} <= set(c) for c in groups)
    top = [n for n, _ in gv.centrality(g, top=3)]
    assert "curie" in top or "paris" in top
    assert {"paris", "sorbonne"} <= set(gv.bridges(g))
    assert gv.communities(nx.MultiDiGraph()) == [] and gv.centrality(nx.MultiDiGraph()) == []


def test_json_and_graphml_exports(tmp_path: Path) -> None:
    g = _graph()
    data = json.loads(gv.write_json(g, tmp_path / "g.json").read_text())
    assert len(data["nodes"]) == 9 and len(data["edges"]) == 11
    assert {"id", "source", "target", "relation", "run_ids"} <= set(data["edges"][0])
    back = nx.read_graphml(gv.write_graphml(g, tmp_path / "g.graphml"), force_multigraph=True)
    assert back.number_of_edges() == 11 and back.nodes["curie"]["aliases"] == "Cur"
