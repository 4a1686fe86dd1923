"""How well ``rank_passages`` puts a multi-hop question's supporting pages first, on a shared data set.

    python bench/rank_passages.py DATASET.jsonl [DATASET.jsonl ...] [--n 200]

Each question's own pages (HotpotQA's ten, MuSiQue's twenty, read with ``ui.eval.dataset``) are ranked
for the question as the drafter ranks a run's passages (no chain, no bridges: what the floor knows before
it reads), in the data set's own order as the retrieval rank. Prints ONE JSON object: per data set and k,
the mean share of the supporting pages among the first k (``recall``) and the share of questions with all
of them there (``all``), and the machine. No model, no network.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.answer.evidence import rank_passages
from ui.eval.dataset import load_dataset

KS = (2, 4, 6, 8)


def measure(path: Path, n: int) -> dict[str, Any]:
    """Recall and all-found at each k over the first ``n`` questions of one data set."""
    items = load_dataset(path, n=n, skipped=[])
    recall = dict.fromkeys(KS, 0.0)
    found_all = dict.fromkeys(KS, 0)
    started = time.perf_counter()
    for item in items:
        passages = [{"id": page.title, "title": page.title, "text": page.text} for page in item.pages]
        order = [p["id"] for p in rank_passages(item.question, passages)]
        wanted = set(item.supporting)
        for k in KS:
            got = wanted & set(order[:k])
            recall[k] += len(got) / len(wanted)
            found_all[k] += got == wanted
    count = max(1, len(items))
    return {"questions": len(items), "seconds": round(time.perf_counter() - started, 3),
            "recall": {k: round(v / count, 3) for k, v in recall.items()},
            "all": {k: round(v / count, 3) for k, v in found_all.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+", type=Path)
    parser.add_argument("--n", type=int, default=200, help="questions per data set (default 200)")
    args = parser.parse_args()
    result = {path.name: measure(path, args.n) for path in args.datasets}
    result["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
