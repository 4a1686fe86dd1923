"""Benchmark content extraction: word-level F1 against trafilatura in the same run, on two data sets.

Usage: ``python bench/extract.py [--wcxb DIR] [--readability DIR] [--limit N] [--jobs J] [--seed S]``

``--wcxb`` is a WCXB-style set: ``html/NNNN.html.gz``, ``ground-truth/NNNN.json``
(``ground_truth.main_content``) and ``metadata.json`` (page type per file). ``--readability`` is the
Mozilla Readability test set: ``<name>/source.html.gz`` (the page) and ``<name>/expected.html.gz``
(the expected article as HTML, compared by its plain text; every page counts as an article). The
metric is WCXB's: lower-cased ``\\w+`` tokens, multiset overlap, precision/recall/F1 per page,
averaged over pages (overall and per page type). Both extractors get the same raw bytes in the same
worker, one after the other (alternating order), so their milliseconds per page compare fairly.
``--limit N`` takes a stratified sample of the WCXB set (every page type kept, proportional, at
least 25 each) for fast iteration. Prints ONE JSON object, with the machine it ran on.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import platform
import random
import re
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402
from lxml import etree  # noqa: E402
from lxml import html as lxml_html  # noqa: E402

from tools.errors import FetchError  # noqa: E402
from tools.extract import extract  # noqa: E402

_TOKEN = re.compile(r"\w+")
TARGET_F1 = {"wcxb": 0.83, "readability": 0.94}
MAX_TIME_RATIO = 1.2
_INLINE = {"a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i", "kbd", "mark", "q",
           "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var", "wbr"}


def score(predicted: str, gold: str) -> tuple[float, float, float]:
    """Word-level precision, recall and F1 (multiset overlap of lower-cased ``\\w+`` tokens)."""
    pred = Counter(_TOKEN.findall(predicted.lower()))
    ref = Counter(_TOKEN.findall(gold.lower()))
    if not pred and not ref:
        return 1.0, 1.0, 1.0
    overlap = sum((pred & ref).values())
    if not pred or not ref or not overlap:
        return 0.0, 0.0, 0.0
    precision = overlap / sum(pred.values())
    recall = overlap / sum(ref.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def html_text(markup: str) -> str:
    """Plain text of an HTML fragment: block elements end a word, inline ones do not."""
    if not markup.strip():
        return ""
    root = lxml_html.fragment_fromstring(markup, create_parent="div")
    parts: list[str] = []
    for event, el in etree.iterwalk(root, events=("start", "end")):
        if not isinstance(el.tag, str) or el.tag in ("script", "style"):
            if event == "end":
                parts.append(el.tail or "")
            continue
        block = el.tag not in _INLINE
        if event == "start":
            parts.append(("\n" if block else "") + (el.text or ""))
        else:
            parts.append(("\n" if block else "") + (el.tail or ""))
    return "".join(parts)


def _ours(html: bytes, url: str) -> str:
    try:
        return extract(html, url).text
    except FetchError:
        return ""


def _baseline(html: bytes, url: str) -> str:
    return trafilatura.extract(html, url=url) or ""


def _load(kind: str, dataset: str, page_id: str) -> tuple[bytes, str | None, str]:
    """The page's bytes, its reference text (None: nothing to score against) and its URL."""
    root = Path(dataset)
    if kind == "readability":
        html = gzip.decompress((root / page_id / "source.html.gz").read_bytes())
        expected = gzip.decompress((root / page_id / "expected.html.gz").read_bytes()).decode("utf-8", "replace")
        return html, html_text(expected), "http://fakehost/test/page.html"  # the URL Readability's tests use
    html = gzip.decompress((root / "html" / f"{page_id}.html.gz").read_bytes())
    truth = json.loads((root / "ground-truth" / f"{page_id}.json").read_text(encoding="utf-8"))
    return html, (truth.get("ground_truth") or {}).get("main_content"), truth.get("url") or ""


def run_page(args: tuple[str, str, str, int]) -> dict[str, Any]:
    """Score both extractors on one page (called in a worker process)."""
    logging.disable(logging.CRITICAL)
    kind, dataset, page_id, order = args
    html, gold, url = _load(kind, dataset, page_id)
    out: dict[str, Any] = {"set": kind, "id": page_id}
    if gold is None:  # no reference text to score against
        return {**out, "skipped": True}
    runs = [("ours", _ours), ("trafilatura", _baseline)]
    for name, fn in runs if order % 2 == 0 else runs[::-1]:
        started = time.perf_counter()
        text = fn(html, url)
        elapsed = time.perf_counter() - started
        p, r, f = score(text, gold)
        out[name] = {"p": p, "r": r, "f": f, "s": elapsed, "chars": len(text)}
    return out


def stratified(types: dict[str, str], limit: int | None, seed: int) -> list[str]:
    """All file ids, or a stratified sample of about ``limit`` ids (at least 25 per page type)."""
    ids = sorted(types)
    if not limit or limit >= len(ids):
        return ids
    by_type: dict[str, list[str]] = defaultdict(list)
    for file_id in ids:
        by_type[types[file_id]].append(file_id)
    rnd = random.Random(seed)
    chosen: list[str] = []
    for _, members in sorted(by_type.items()):
        k = max(25, round(limit * len(members) / len(ids)))
        chosen += rnd.sample(members, min(k, len(members)))
    return sorted(chosen)


def page_types(kind: str, dataset: Path) -> dict[str, str]:
    """Page id -> page type for one data set."""
    if kind == "readability":
        return {p.name: "article" for p in sorted(dataset.iterdir()) if (p / "source.html.gz").is_file()}
    meta = json.loads((dataset / "metadata.json").read_text(encoding="utf-8"))
    return {fid: info.get("page_type", "unknown") for fid, info in meta["files"].items()}


def _summary(rows: list[dict[str, Any]], name: str) -> dict[str, float]:
    n = len(rows)
    return {
        "f1": round(sum(r[name]["f"] for r in rows) / n, 4),
        "precision": round(sum(r[name]["p"] for r in rows) / n, 4),
        "recall": round(sum(r[name]["r"] for r in rows) / n, 4),
        "ms_per_page": round(1000 * sum(r[name]["s"] for r in rows) / n, 2),
    }


def _ratio(ours: dict[str, float], base: dict[str, float]) -> float:
    return round(ours["ms_per_page"] / base["ms_per_page"], 3) if base["ms_per_page"] else float("inf")


def report_set(kind: str, dataset: Path, types: dict[str, str], results: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON report of one data set: overall, per page type, worst pages and checks."""
    skipped = sorted(r["id"] for r in results if r.get("skipped"))
    rows = [r for r in results if not r.get("skipped")]
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_type[types[row["id"]]].append(row)
    per_type: dict[str, dict[str, Any]] = {
        t: {"pages": len(rs), "ours": _summary(rs, "ours"), "trafilatura": _summary(rs, "trafilatura")}
        for t, rs in sorted(by_type.items())
    }
    ours, base = _summary(rows, "ours"), _summary(rows, "trafilatura")
    losses = sorted(rows, key=lambda r: r["ours"]["f"] - r["trafilatura"]["f"])[:10]
    return {
        "dataset": str(dataset),
        "pages": len(rows),
        "skipped_without_reference": skipped,
        "overall": {"ours": ours, "trafilatura": base, "time_ratio": _ratio(ours, base)},
        "per_type": per_type,
        "largest_losses": [
            {"id": r["id"], "ours_f1": round(r["ours"]["f"], 3), "trafilatura_f1": round(r["trafilatura"]["f"], 3),
             "ours_chars": r["ours"]["chars"], "trafilatura_chars": r["trafilatura"]["chars"]}
            for r in losses if r["ours"]["f"] < r["trafilatura"]["f"]
        ],
        "checks": {
            f"f1_at_least_{TARGET_F1[kind]}": ours["f1"] >= TARGET_F1[kind],
            "f1_at_least_trafilatura": ours["f1"] >= base["f1"],
            "beats_trafilatura_on_every_type": all(v["ours"]["f1"] > v["trafilatura"]["f1"] for v in per_type.values()),
        },
    }


def main() -> int:
    """Run the benchmark and print one JSON object."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--wcxb", type=Path, default=None, help="a WCXB-style data set (e.g. its dev split)")
    parser.add_argument("--readability", type=Path, default=None, help="the Mozilla Readability test pages")
    parser.add_argument("--limit", type=int, default=None, help="stratified sample of about N WCXB pages")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pages", type=Path, default=None, help="also write every page's scores here (JSON lines)")
    args = parser.parse_args()
    sets = {k: d for k, d in (("wcxb", args.wcxb), ("readability", args.readability)) if d is not None}
    if not sets:
        parser.error("give --wcxb DIR, --readability DIR or both")
    types = {kind: page_types(kind, d) for kind, d in sets.items()}
    picked = {kind: stratified(t, args.limit if kind == "wcxb" else None, args.seed) for kind, t in types.items()}
    tasks = [(kind, str(sets[kind]), pid, i) for kind, ids in picked.items() for i, pid in enumerate(ids)]
    started = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(run_page, tasks, chunksize=4))
    else:
        results = [run_page(t) for t in tasks]
    wall = time.perf_counter() - started
    if args.pages is not None:
        args.pages.write_text("".join(json.dumps(r) + "\n" for r in results), encoding="utf-8")
    reports: dict[str, dict[str, Any]] = {
        kind: report_set(kind, sets[kind], types[kind], [r for r in results if r["set"] == kind]) for kind in sets
    }
    if "wcxb" in reports:
        full = len(picked["wcxb"]) == len(types["wcxb"])
        reports["wcxb"]["sample"] = "all" if full else f"stratified limit={args.limit} seed={args.seed}"
        reports["wcxb"]["published_dev_f1"] = {"trafilatura": 0.791, "best (rs-trafilatura)": 0.859}
    rows = [r for r in results if not r.get("skipped")]
    ours, base = _summary(rows, "ours"), _summary(rows, "trafilatura")
    report = {
        "benchmark": "extraction",
        "jobs": args.jobs,
        "wall_s": round(wall, 1),
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(), "python": sys.version.split()[0]},
        "versions": {"trafilatura": trafilatura.__version__},
        "sets": reports,
        "time": {"ours_ms_per_page": ours["ms_per_page"], "trafilatura_ms_per_page": base["ms_per_page"],
                 "ratio": _ratio(ours, base), f"at_most_{MAX_TIME_RATIO}": _ratio(ours, base) <= MAX_TIME_RATIO},
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
