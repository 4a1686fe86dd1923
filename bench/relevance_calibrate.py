"""The relevance bar of ``memory.relevance``: its reference table and its calibration on multi-hop data.

    python bench/relevance_calibrate.py df DATA.jsonl [DATA.jsonl ...] [--out memory/word_df.tsv]
    python bench/relevance_calibrate.py calibrate MUSIQUE.jsonl [--negatives 200] [--seed 0]

``df`` counts, for every Snowball stem, how many distinct paragraphs (title and text) of the given
HotpotQA / MuSiQue files contain it, and writes the stems seen in at least ``--min-df`` paragraphs with
the paragraph count (``#paragraphs``) to the table ``memory.relevance`` reads.

``calibrate`` pairs each MuSiQue question with its supporting paragraphs (positives) and with up to
``--negatives`` paragraphs drawn from the other questions whose title is none of its own paragraphs'
(negatives: what an earlier, unrelated run leaves in memory). For each bar it prints how many
positives and negatives pass ``about`` and the bar, precision and recall, and picks the bar with the
best F0.5 (precision weighs more: a foreign passage in a plan costs more than a missed reuse).
Prints ONE JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from memory import relevance
from memory.retrieval import Tokenizer

BARS = [round(0.05 * i, 2) for i in range(0, 15)]


def paragraphs(path: Path) -> list[tuple[str, str, bool, int]]:
    """(title, text, supporting, question index) of every paragraph of a HotpotQA or MuSiQue file."""
    out = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        obj = json.loads(line)
        if "paragraphs" in obj:
            out += [(p["title"], p["paragraph_text"], bool(p.get("is_supporting")), i) for p in obj["paragraphs"]]
        else:
            gold = {t for t, _ in obj.get("supporting_facts", [])}
            out += [(t, " ".join(s), t in gold, i) for t, s in obj["context"]]
    return out


def write_df(files: list[Path], out: Path, min_df: int) -> dict[str, Any]:
    """Write the stem document-frequency table; returns its sizes."""
    tokenize = Tokenizer()
    docs = {(t, x[:80]): f"{t}\n{x}" for f in files for t, x, _, _ in paragraphs(f)}
    df: Counter[str] = Counter()
    for text in docs.values():
        df.update(set(tokenize(" ".join(relevance.folded_words(text)))))
    kept = sorted((s, n) for s, n in df.items() if n >= min_df)
    lines = [f"#paragraphs\t{len(docs)}", *(f"{s}\t{n}" for s, n in kept)]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"paragraphs": len(docs), "stems": len(df), "written": len(kept), "out": str(out)}


def questions(path: Path) -> list[dict[str, Any]]:
    """The MuSiQue questions of ``path``."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def judged(items: list[dict[str, Any]], negatives: int, seed: int) -> list[tuple[bool, bool, float]]:
    """(positive, about, score) for every (question, paragraph) pair drawn."""
    rng = random.Random(seed)
    pool = [(i, p["title"], p["paragraph_text"]) for i, obj in enumerate(items) for p in obj["paragraphs"]]
    out = []
    for i, obj in enumerate(items):
        terms = relevance.key_terms(obj["question"])
        own = {p["title"] for p in obj["paragraphs"]}
        pairs = [(True, f"{p['title']}\n{p['paragraph_text']}") for p in obj["paragraphs"] if p["is_supporting"]]
        others = [(False, f"{t}\n{x}") for j, t, x in pool if j != i and t not in own]
        pairs += rng.sample(others, min(negatives, len(others)))
        out += [(pos, relevance.about(terms, text), relevance.score(terms, text)) for pos, text in pairs]
    return out


def table(rows: list[tuple[bool, bool, float]]) -> list[dict[str, Any]]:
    """Precision, recall and F0.5 of ``about and score >= bar`` for every bar in ``BARS``."""
    n_pos = sum(1 for pos, _, _ in rows if pos)
    out = []
    for bar in BARS:
        tp = sum(1 for pos, ok, s in rows if pos and ok and s >= bar)
        fp = sum(1 for pos, ok, s in rows if not pos and ok and s >= bar)
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / n_pos if n_pos else 0.0
        f05 = 1.25 * precision * recall / (0.25 * precision + recall) if precision + recall else 0.0
        out.append({"bar": bar, "tp": tp, "fp": fp, "precision": round(precision, 4), "recall": round(recall, 4),
                    "f0.5": round(f05, 4)})
    return out


def calibrate(path: Path, negatives: int, seed: int) -> dict[str, Any]:
    """The calibration result (see the module docstring)."""
    items = questions(path)
    rows = judged(items, negatives, seed)
    bars = table(rows)
    best = max(bars, key=lambda r: (r["f0.5"], r["bar"]))
    n_neg = sum(1 for pos, _, _ in rows if not pos)
    return {
        "data": str(path), "questions": len(items), "positives": len(rows) - n_neg, "negatives": n_neg,
        "about_only": {"positives": sum(1 for p, ok, _ in rows if p and ok),
                       "negatives": sum(1 for p, ok, _ in rows if not p and ok)},
        "common_share": relevance.COMMON_SHARE, "bar_in_use": relevance.BAR, "best": best, "bars": bars,
    }


def main(argv: list[str] | None = None) -> int:
    """Entry point: prints one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    df = sub.add_parser("df")
    df.add_argument("files", nargs="+", type=Path)
    df.add_argument("--out", type=Path, default=relevance.DF_FILE)
    df.add_argument("--min-df", type=int, default=5)
    cal = sub.add_parser("calibrate")
    cal.add_argument("file", type=Path)
    cal.add_argument("--negatives", type=int, default=200)
    cal.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.action == "df":
        result = write_df(args.files, args.out, args.min_df)
    else:
        result = calibrate(args.file, args.negatives, args.seed)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
