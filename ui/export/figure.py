"""Lay out the knowledge graph and draw it as a self-contained SVG (no scripts, no external refs).

The layout is networkx's spring layout with a fixed seed, so one graph always gives one picture.
Large graphs are cut to the ``max_nodes`` best-connected entities to stay legible. Every label is
XML-escaped here; the SVG holds only ``line``, ``polygon``, ``circle``, ``rect`` and ``text``.
"""

from __future__ import annotations

import math
from html import escape

import networkx as nx

from ui.export.common import clip, edge_label, node_label

WIDTH, HEIGHT, MARGIN = 860, 560, 70
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#edc948", "#9c755f")


def pick_nodes(graph: nx.MultiDiGraph, max_nodes: int) -> list[str]:
    """The ``max_nodes`` nodes with the most connections (ties broken by id, so stable)."""
    ranked = sorted(graph.nodes, key=lambda n: (-graph.degree(n), str(n)))
    return ranked[:max_nodes]


def layout(graph: nx.MultiDiGraph) -> dict[str, tuple[float, float]]:
    """Node positions in SVG pixels: each connected component in its own cell of a grid (largest
    first), laid out by a seeded spring layout scaled to fill the cell, so small islands stay legible."""
    comps = sorted((sorted(c) for c in nx.connected_components(nx.Graph(graph))), key=lambda c: (-len(c), c[0]))
    if len(comps) > 1 and len(comps[0]) >= 0.6 * graph.number_of_nodes():
        main, rest = comps[0], [n for c in comps[1:] for n in c]
        cells = [(main, (0.0, 0.0, 1.0, 0.78)), (rest, (0.0, 0.78, 1.0, 1.0))]
    else:
        cols = math.ceil(math.sqrt(len(comps)))
        rows = math.ceil(len(comps) / cols)
        cells = [(c, ((i % cols) / cols, (i // cols) / rows, (i % cols + 1) / cols, (i // cols + 1) / rows))
                 for i, c in enumerate(comps)]
    pos: dict[str, tuple[float, float]] = {}
    for nodes, box in cells:
        pos.update(_place(graph.subgraph(nodes), box))
    return pos


def _place(sub: nx.MultiDiGraph, box: tuple[float, float, float, float]) -> dict[str, tuple[float, float]]:
    """Spring-lay ``sub`` into the fractional ``box`` (x0, y0, x1, y1) of the drawing area."""
    x0, y0, x1, y1 = box
    left, top = MARGIN + x0 * (WIDTH - 2 * MARGIN), MARGIN + y0 * (HEIGHT - 2 * MARGIN)
    width, height = (x1 - x0) * (WIDTH - 2 * MARGIN), (y1 - y0) * (HEIGHT - 2 * MARGIN)
    if sub.number_of_nodes() == 1:
        return {next(iter(sub.nodes)): (left + width / 2, top + height / 2)}
    k = 1.6 / math.sqrt(sub.number_of_nodes())
    raw = nx.spring_layout(nx.Graph(sub), seed=7, k=k, iterations=120)
    xs = [float(p[0]) for p in raw.values()]
    ys = [float(p[1]) for p in raw.values()]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    pad_x, pad_y = min(40.0, width / 6), min(18.0, height / 6)
    return {
        node: (left + pad_x + (float(p[0]) - min(xs)) / span_x * (width - 2 * pad_x),
               top + pad_y + (float(p[1]) - min(ys)) / span_y * (height - 2 * pad_y))
        for node, p in raw.items()
    }


def _type_colours(graph: nx.MultiDiGraph) -> dict[str, str]:
    types = sorted({str(graph.nodes[n].get("type") or "entity") for n in graph.nodes})
    return {t: PALETTE[i % len(PALETTE)] for i, t in enumerate(types)}


def _arrow(x1: float, y1: float, x2: float, y2: float, radius: float) -> tuple[str, str]:
    """The edge line (stopping at the target's rim) and its arrowhead polygon."""
    dx, dy = x2 - x1, y2 - y1
    dist = math.hypot(dx, dy) or 1.0
    ux, uy = dx / dist, dy / dist
    tx, ty = x2 - ux * radius, y2 - uy * radius
    bx, by = tx - ux * 9, ty - uy * 9
    left = (bx - uy * 4.5, by + ux * 4.5)
    right = (bx + uy * 4.5, by - ux * 4.5)
    line = f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{bx:.1f}" y2="{by:.1f}" class="kg-edge"/>'
    head = (
        f'<polygon points="{tx:.1f},{ty:.1f} {left[0]:.1f},{left[1]:.1f} {right[0]:.1f},{right[1]:.1f}" '
        'class="kg-head"/>'
    )
    return line, head


def _edges_svg(sub: nx.MultiDiGraph, pos: dict[str, tuple[float, float]], radius: float) -> list[str]:
    out: list[str] = []
    label_edges = sub.number_of_edges() <= 40
    for u, v, attrs in sub.edges(data=True):
        if u == v:
            continue
        (x1, y1), (x2, y2) = pos[u], pos[v]
        line, head = _arrow(x1, y1, x2, y2, radius)
        out += [line, head]
        label = edge_label(attrs)
        if label_edges and label:
            mx, my = (x1 + x2) / 2, (y1 + y2) / 2
            out.append(
                f'<text x="{mx:.1f}" y="{my - 3:.1f}" class="kg-rel">{escape(clip(label, 24))}</text>'
            )
    return out


def _legend_svg(colours: dict[str, str]) -> list[str]:
    out: list[str] = []
    for i, (kind, colour) in enumerate(colours.items()):
        y = 18 + i * 18
        out.append(f'<rect x="12" y="{y - 9}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="30" y="{y + 1}" class="kg-legend">{escape(clip(kind, 20))}</text>')
    return out


def render_svg(graph: nx.MultiDiGraph, *, max_nodes: int = 40) -> str:
    """The graph as an ``<svg>`` element string; empty string for an empty graph."""
    if graph.number_of_nodes() == 0:
        return ""
    sub = graph.subgraph(pick_nodes(graph, max_nodes)).copy()
    pos = layout(sub)
    colours = _type_colours(sub)
    radius = 9.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" class="kg" '
        f'aria-label="Knowledge graph: {sub.number_of_nodes()} entities, {sub.number_of_edges()} relations">',
        "<style>.kg-edge{stroke:#9aa3ad;stroke-width:1.2}.kg-head{fill:#9aa3ad}"
        ".kg-rel{font:9px sans-serif;fill:#5b6570;text-anchor:middle}"
        ".kg-label{font:11px sans-serif;fill:#1f2328;text-anchor:middle}"
        ".kg-legend{font:11px sans-serif;fill:#1f2328}</style>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    parts += _edges_svg(sub, pos, radius)
    for node in sub.nodes:
        x, y = pos[node]
        colour = colours[str(sub.nodes[node].get("type") or "entity")]
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{colour}" stroke="#ffffff"/>')
        label = escape(clip(node_label(sub, node), 28))
        parts.append(f'<text x="{x:.1f}" y="{y + radius + 12:.1f}" class="kg-label">{label}</text>')
    parts += _legend_svg(colours)
    parts.append("</svg>")
    return "\n".join(parts)
