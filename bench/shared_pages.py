"""Pairs of multi-hop questions that share supporting pages: the data of the shared-memory reuse eval (issue 24).

    python bench/shared_pages.py ../shared/data/multihop/musique-200.jsonl --out pairs.jsonl [--max-pairs 20]

A pair is two questions of the file whose supporting paragraphs share a title (MuSiQue builds many
questions over the same Wikipedia pages). Each question is used in at most one pair, pairs with more
shared pages first (ties in file order). ``--out`` gets the pairs' original lines, the two questions
of a pair one after the other, so ``quarry eval OUT --shared-memory`` researches each second question
with its partner's pages already in memory, and ``quarry eval OUT`` (a fresh memory per question) is
the baseline: fewer fetches (``pages_read`` minus reused) and less time are expected with sharing.
Prints ONE JSON object: the pairs (line numbers, ids, shared titles) and counts.
"""

from __future__ import annotations

import argparse
import json
import sys
from itertools import combinations
from pathlib import Path
from typing import Any


def supporting(obj: dict[str, Any]) -> set[str]:
    """The supporting page titles of a MuSiQue or HotpotQA line."""
    if "paragraphs" in obj:
        return {p["title"] for p in obj["paragraphs"] if p.get("is_supporting")}
    return {t for t, _ in obj.get("supporting_facts", [])}


def find_pairs(lines: list[str], max_pairs: int) -> list[dict[str, Any]]:
    """Disjoint pairs of questions sharing supporting titles, most shared first."""
    objs = [json.loads(line) for line in lines]
    gold = [supporting(o) for o in objs]
    candidates = sorted(
        ((len(gold[i] & gold[j]), i, j) for i, j in combinations(range(len(objs)), 2) if gold[i] & gold[j]),
        key=lambda c: (-c[0], c[1], c[2]),
    )
    used: set[int] = set()
    pairs = []
    for _n, i, j in candidates:
        if i in used or j in used:
            continue
        used |= {i, j}
        pairs.append({"lines": [i + 1, j + 1], "ids": [objs[i].get("id", objs[i].get("_id")),
                                                         objs[j].get("id", objs[j].get("_id"))],
                      "questions": [objs[i]["question"], objs[j]["question"]],
                      "shared": sorted(gold[i] & gold[j])})
        if len(pairs) >= max_pairs:
            break
    return pairs


def main(argv: list[str] | None = None) -> int:
    """Entry point: prints one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--out", type=Path, help="write the paired questions' lines here (a data set for eval)")
    parser.add_argument("--max-pairs", type=int, default=20)
    args = parser.parse_args(argv)
    lines = [line for line in args.file.read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs = find_pairs(lines, args.max_pairs)
    if args.out is not None:
        args.out.write_text("".join(lines[n - 1] + "\n" for p in pairs for n in p["lines"]), encoding="utf-8")
    gold = [supporting(json.loads(line)) for line in lines]
    sharing = sum(1 for i, j in combinations(range(len(lines)), 2) if gold[i] & gold[j])
    print(json.dumps({"data": str(args.file), "questions": len(lines), "sharing_pairs": sharing,
                      "pairs": pairs, "out": str(args.out) if args.out else None}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
