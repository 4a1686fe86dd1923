"""Benchmark content extraction on WCXB-style data: word-level F1 against trafilatura in the same run.

Usage: ``python bench/extract.py DATASET_DIR [--limit N] [--jobs J] [--seed S]``

DATASET_DIR holds ``html/NNNN.html.gz``, ``ground-truth/NNNN.json`` (``ground_truth.main_content``)
and ``metadata.json`` (page type per file). The metric is the benchmark authors': lower-cased
``\\w+`` tokens, multiset overlap, precision/recall/F1 per page, averaged over pages (overall and
per page type). Both extractors get the same raw bytes in the same worker, one after the other
(alternating order), so their milliseconds per page compare fairly. ``--limit N`` takes a
stratified sample (every page type kept, proportional, at least 25 each) for fast iteration.
Prints ONE JSON object, with the machine it ran on.
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

from tools.errors import FetchError  # noqa: E402
from tools.extract import extract  # noqa: E402

_TOKEN = re.compile(r"\w+")
TARGET_F1 = 0.83
MAX_TIME_RATIO = 1.2


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


def _ours(html: bytes, url: str) -> str:
    try:
        return extract(html, url).text
    except FetchError:
        return ""


def _baseline(html: bytes, url: str) -> str:
    return trafilatura.extract(html, url=url) or ""


def run_page(args: tuple[str, str, int]) -> dict[str, Any]:
    """Score both extractors on one page (called in a worker process)."""
    logging.disable(logging.CRITICAL)
    dataset, file_id, order = args
    root = Path(dataset)
    html = gzip.decompress((root / "html" / f"{file_id}.html.gz").read_bytes())
    truth = json.loads((root / "ground-truth" / f"{file_id}.json").read_text(encoding="utf-8"))
    gold = (truth.get("ground_truth") or {}).get("main_content")
    out: dict[str, Any] = {"id": file_id}
    if gold is None:  # no reference text to score against
        return {**out, "skipped": True}
    url = truth.get("url") or ""
    runs = [("ours", _ours), ("trafilatura", _baseline)]
    for name, fn in runs if order % 2 == 0 else runs[::-1]:
        started = time.perf_counter()
        text = fn(html, url)
        elapsed = time.perf_counter() - started
        p, r, f = score(text, gold)
        out[name] = {"p": p, "r": r, "f": f, "s": elapsed}
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


def _summary(rows: list[dict[str, Any]], name: str) -> dict[str, float]:
    n = len(rows)
    return {
        "f1": round(sum(r[name]["f"] for r in rows) / n, 4),
        "precision": round(sum(r[name]["p"] for r in rows) / n, 4),
        "recall": round(sum(r[name]["r"] for r in rows) / n, 4),
        "ms_per_page": round(1000 * sum(r[name]["s"] for r in rows) / n, 2),
    }


def main() -> int:
    """Run the benchmark and print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="stratified sample of about N pages")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    meta = json.loads((args.dataset / "metadata.json").read_text(encoding="utf-8"))
    types = {fid: info.get("page_type", "unknown") for fid, info in meta["files"].items()}
    ids = stratified(types, args.limit, args.seed)
    tasks = [(str(args.dataset), fid, i) for i, fid in enumerate(ids)]
    started = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(run_page, tasks, chunksize=8))
    else:
        results = [run_page(t) for t in tasks]
    wall = time.perf_counter() - started
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
    ratio = ours["ms_per_page"] / base["ms_per_page"] if base["ms_per_page"] else float("inf")
    report = {
        "benchmark": "extraction-wcxb",
        "dataset": str(args.dataset),
        "pages": len(rows),
        "skipped_without_main_content": skipped,
        "sample": "all" if len(results) == len(types) else f"stratified limit={args.limit} seed={args.seed}",
        "jobs": args.jobs,
        "wall_s": round(wall, 1),
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(), "python": sys.version.split()[0]},
        "versions": {"trafilatura": trafilatura.__version__},
        "overall": {"ours": ours, "trafilatura": base, "time_ratio": round(ratio, 3)},
        "per_type": per_type,
        "checks": {
            f"f1_at_least_{TARGET_F1}": ours["f1"] >= TARGET_F1,
            "beats_trafilatura_on_every_type": all(
                v["ours"]["f1"] > v["trafilatura"]["f1"] for v in per_type.values()
            ),
            f"time_ratio_at_most_{MAX_TIME_RATIO}": ratio <= MAX_TIME_RATIO,
        },
        "published_dev_f1": {"trafilatura": 0.791, "best (rs-trafilatura)": 0.859},
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
