"""Render an evaluation's results as one self-contained, script-free HTML page (``eval.html``).

Guarantees: every string from the dataset, a model, the settings or the machine description is
HTML-escaped (Jinja2 autoescaping, the charts included, which are inline SVG built in the template);
the page links nowhere and carries the same Content-Security-Policy as ``report.html`` (no scripts,
no external loads), so a hostile question or answer can neither run nor phone home. It shows a table
of means per configuration, one bar chart per metric (one labelled bar per configuration), means by
question kind and hops, and a per-question table of each configuration's answer, EM, F1 and read
recall.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, StrictUndefined
from markupsafe import Markup

from ui.eval.score import METRICS

SHARE_METRICS = frozenset({"finished", "read_recall", "cited_recall", "answer_em", "answer_f1",
                           "answer_in_report", "citation_support", "cited_precision", "not_found"})
GROUP_METRICS = ("finished", "read_recall", "cited_recall", "answer_f1", "answer_in_report", "citation_support")
BAR_W, BAR_GAP, CHART_H, LABEL_W = 56, 18, 120, 150
# The Content-Security-Policy of report.html: no scripts, no external loads, inline styles only.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
COLOURS = ("#1f5fa8", "#b35c00", "#2e7d32", "#7b1fa2", "#c62828", "#00838f")

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Quarry eval: {{ dataset }}</title>
<style>
html { font-family: "DejaVu Sans", Helvetica, sans-serif; color: #1f2328; line-height: 1.45; }
body { max-width: 72rem; margin: 2rem auto; padding: 0 1.25rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; }
th, td { border: 1px solid #d8dee4; padding: .25rem .5rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; } figcaption { font-size: .85rem; color: #5b6570; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; font-size: .85rem; }
dt { font-weight: bold; } dd { margin: 0; word-break: break-word; }
</style>
</head>
<body>
<h1>Quarry eval: {{ dataset }}</h1>
<p>{{ configs|length }} configuration(s);
{% for c in configs %}{{ c.name }}: {{ c.n }} question(s){% if not loop.last %}; {% endif %}{% endfor %}.</p>

<h2>Means</h2>
<table class="means">
<thead><tr><th>metric</th>{% for c in configs %}<th>{{ c.name }}</th>{% endfor %}</tr></thead>
<tbody>
{% for m in metrics %}<tr><th>{{ m }}</th>{% for c in configs %}<td class="num">{{ c.shown[m] }}</td>{% endfor %}</tr>
{% endfor %}<tr><th>wall_s_median</th>{% for c in configs %}<td class="num">{{ c.median }}</td>{% endfor %}</tr>
</tbody>
</table>

<h2>Charts</h2>
<div class="charts">
{% for chart in charts %}<figure>
<svg xmlns="http://www.w3.org/2000/svg" width="{{ chart.width }}" height="{{ chart.height }}"
 role="img" aria-label="{{ chart.metric }}">
<line x1="0" y1="{{ chart.base }}" x2="{{ chart.width }}" y2="{{ chart.base }}" stroke="#5b6570"/>
{% for bar in chart.bars %}<rect x="{{ bar.x }}" y="{{ bar.y }}" width="{{ bar.w }}" height="{{ bar.h }}"
 fill="{{ bar.colour }}"><title>{{ bar.name }}: {{ bar.label }}</title></rect>
<text x="{{ bar.cx }}" y="{{ bar.y - 4 }}" text-anchor="middle" font-size="11">{{ bar.label }}</text>
<text x="{{ bar.cx }}" y="{{ chart.base + 14 }}" text-anchor="middle" font-size="10">{{ bar.short }}</text>
{% endfor %}</svg>
<figcaption>{{ chart.metric }}{% if chart.share %} (0 to 1){% endif %}</figcaption>
</figure>
{% endfor %}</div>

<h2>By question kind and hops</h2>
<table class="groups">
<thead><tr><th>configuration</th><th>group</th><th>n</th>
{% for m in group_metrics %}<th>{{ m }}</th>{% endfor %}</tr></thead>
<tbody>
{% for g in groups %}<tr><td>{{ g.config }}</td><td>{{ g.group }}</td><td class="num">{{ g.n }}</td>
{% for v in g.numbers %}<td class="num">{{ v }}</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table>

<h2>Questions</h2>
<table class="questions">
<thead><tr><th>#</th><th>question</th><th>kind</th><th>gold</th>
{% for c in configs %}<th>{{ c.name }}: answer</th><th>EM</th><th>F1</th><th>read</th>{% endfor %}</tr></thead>
<tbody>
{% for q in questions %}<tr><td class="num">{{ loop.index }}</td><td>{{ q.question }}</td><td>{{ q.kind }}</td>
<td>{{ q.gold }}</td>{% for cell in q.cells %}<td>{{ cell.predicted }}</td><td class="num">{{ cell.em }}</td>
<td class="num">{{ cell.f1 }}</td><td class="num">{{ cell.read }}</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table>

<h2>Settings and machine</h2>
<dl>
{% for k, v in details %}<dt>{{ k }}</dt><dd>{{ v }}</dd>
{% endfor %}</dl>
</body>
</html>
"""
_ENV = Environment(autoescape=True, undefined=StrictUndefined)
_PAGE = _ENV.from_string(_TEMPLATE)


def fmt(value: Any, metric: str = "") -> str:
    """A metric value as table text: "—" for none, three decimals for shares, one for the rest."""
    if value is None or (isinstance(value, str) and not value):
        return "—"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return f"{value:.3f}" if metric in SHARE_METRICS else f"{value:.1f}".removesuffix(".0")
    return str(value)


def _short(name: str, limit: int = 12) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _chart(metric: str, configs: list[dict[str, Any]]) -> dict[str, Any]:
    values = [c["means"].get(metric) for c in configs]
    numbers = [float(v) for v in values if isinstance(v, int | float)]
    top = 1.0 if metric in SHARE_METRICS else max([*numbers, 0.0]) or 1.0
    base = CHART_H + 20
    bars = []
    for i, (config, value) in enumerate(zip(configs, values, strict=True)):
        height = round(CHART_H * max(0.0, float(value)) / top, 1) if isinstance(value, int | float) else 0.0
        x = BAR_GAP + i * (BAR_W + BAR_GAP)
        bars.append({"x": x, "y": round(base - height, 1), "w": BAR_W, "h": height, "cx": x + BAR_W / 2,
                     "colour": COLOURS[i % len(COLOURS)], "name": config["name"], "short": _short(config["name"]),
                     "label": fmt(value, metric)})
    width = max(LABEL_W, BAR_GAP + len(configs) * (BAR_W + BAR_GAP))
    return {"metric": metric, "share": metric in SHARE_METRICS, "bars": bars, "width": width,
            "height": base + 20, "base": base}


def _groups(configs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for config in configs:
        summary = config["summary"]
        for label, key in (("kind", "by_kind"), ("hops", "by_hops")):
            for group, stats in (summary.get(key) or {}).items():
                means = stats.get("means") or {}
                out.append({"config": config["name"], "group": f"{label} {group}", "n": stats.get("n", 0),
                            "numbers": [fmt(means.get(m), m) for m in GROUP_METRICS]})
    return out


def _questions(configs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order: dict[str, dict[str, Any]] = {}
    for config in configs:
        for row in config["rows"]:
            order.setdefault(str(row.get("id")), row)
    questions = []
    for qid, first in order.items():
        cells = []
        for config in configs:
            row = config["by_id"].get(qid) or {}
            cells.append({"predicted": str(row.get("predicted") or "—") if row else "—",
                          "em": fmt(row.get("answer_em"), "answer_em"), "f1": fmt(row.get("answer_f1"), "answer_f1"),
                          "read": fmt(row.get("read_recall"), "read_recall")})
        questions.append({"question": str(first.get("question") or ""), "kind": str(first.get("kind") or ""),
                          "gold": str(first.get("answer") or ""), "cells": cells})
    return questions


def _details(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = []
    for section in ("settings", "machine"):
        data = result.get(section)
        for key, value in (data.items() if isinstance(data, Mapping) else ()):
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
            out.append((f"{section}.{key}", shown))
    return out


def render_eval_html(result: dict[str, Any]) -> str:
    """The evaluation result (dataset, configs with summary and rows, machine, settings) as HTML."""
    configs = []
    for name, config in (result.get("configs") or {}).items():
        summary = config.get("summary") or {}
        rows = [r for r in config.get("rows") or [] if isinstance(r, Mapping)]
        means = summary.get("means") or {}
        configs.append({"name": str(name), "summary": summary, "rows": rows, "means": means,
                        "n": summary.get("n", len(rows)), "shown": {m: fmt(means.get(m), m) for m in METRICS},
                        "median": fmt(summary.get("wall_s_median")),
                        "by_id": {str(r.get("id")): r for r in rows}})
    return _PAGE.render(
        csp=Markup(CSP),  # a constant of ours, kept literal
        dataset=str(result.get("dataset") or "dataset"),
        configs=configs,
        metrics=METRICS,
        charts=[_chart(m, configs) for m in METRICS],
        group_metrics=GROUP_METRICS,
        groups=_groups(configs),
        questions=_questions(configs),
        details=_details(result),
    )
