"""Helpers every export shares: safe links, run bundles read from a run folder, graph loading.

``safe_url`` is the one gate for links: only absolute ``http``/``https`` URLs become links in any
export, so a ``javascript:``, ``data:`` or ``file:`` URL from a page or a model stays inert text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import networkx as nx
from pydantic import ValidationError

from agents.report import Report
from ui.errors import ExportError

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_url(url: object) -> str | None:
    """The URL when it is an absolute http(s) URL with a host and no space or control character, else ``None``.

    The one rule for what may become a link, in every export and in the browser UI.
    """
    url = str(url or "").strip()
    if not url or _CONTROL.search(url) or any(ch.isspace() for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def clip(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: max(1, limit - 1)].rstrip() + "…"


@dataclass
class RunBundle:
    """Everything an export renders: the report plus the sources read and the knowledge graph."""

    report: Report
    sources: list[dict[str, Any]] = field(default_factory=list)
    graph: dict[str, Any] | None = None
    manifest: dict[str, Any] = field(default_factory=dict)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ExportError(f"Cannot read {path} ({exc}); re-run the publish step or resume the run.") from exc


def load_bundle(run_dir: Path) -> RunBundle:
    """Read a run folder (report.json, sources.json, graph.json, manifest.json) into a bundle."""
    report_path = run_dir / "report.json"
    if not report_path.is_file():
        raise ExportError(f"{run_dir} has no report.json yet; finish the run with `quarry runs resume`.")
    try:
        report = Report.model_validate(_read_json(report_path))
    except ValidationError as exc:
        raise ExportError(f"{report_path} is not a Quarry report ({exc.error_count()} errors).") from exc
    sources = _read_json(run_dir / "sources.json") if (run_dir / "sources.json").is_file() else []
    if isinstance(sources, dict):  # {"sources": [...]} or {id: {...}}
        sources = sources.get("sources", list(sources.values()))
    graph = _read_json(run_dir / "graph.json") if (run_dir / "graph.json").is_file() else None
    manifest = _read_json(run_dir / "manifest.json") if (run_dir / "manifest.json").is_file() else {}
    return RunBundle(report=report, sources=[s for s in sources if isinstance(s, dict)], graph=graph,
                     manifest=manifest if isinstance(manifest, dict) else {})


def graph_from_json(data: dict[str, Any] | None) -> nx.MultiDiGraph:
    """A graph from node-link JSON (``nodes`` plus ``edges`` or ``links``); empty when absent."""
    graph = nx.MultiDiGraph()
    if not data:
        return graph
    for node in data.get("nodes", []):
        if isinstance(node, dict) and "id" in node:
            graph.add_node(str(node["id"]), **{k: v for k, v in node.items() if k != "id"})
    for edge in data.get("edges", data.get("links", [])):
        if not isinstance(edge, dict) or "source" not in edge or "target" not in edge:
            continue
        attrs = {k: v for k, v in edge.items() if k not in ("source", "target", "key")}
        graph.add_edge(str(edge["source"]), str(edge["target"]), **attrs)
    return graph


def node_label(graph: nx.MultiDiGraph, node: str) -> str:
    """A node's display name: its ``name`` or ``label`` attribute, else its id."""
    attrs = graph.nodes[node]
    return str(attrs.get("name") or attrs.get("label") or node)


def edge_label(attrs: dict[str, Any]) -> str:
    """An edge's display name: its ``relation`` (or ``label``/``type``) attribute."""
    return str(attrs.get("relation") or attrs.get("label") or attrs.get("type") or "")


def source_url(source: dict[str, Any]) -> str:
    """The first URL (or file path) of a sources.json entry."""
    urls = source.get("urls")
    if isinstance(urls, list) and urls:
        return str(urls[0])
    return str(source.get("url") or source.get("path") or "")
