"""Scoring one research run against its question, and summarizing many; pure functions, no model.

Guarantees: answers are compared with SQuAD's normalization (lower case, punctuation and the
articles a/an/the dropped, whitespace collapsed) and SQuAD's exact match and token F1, the best over
the gold answer and its aliases. ``supports`` is an independent lexical check, not the verifier's:
a sentence is supported by its cited passages when at least 60% of its distinct content tokens
(SQuAD-normalized, stop words removed, suffixes folded) occur among the passages' tokens and every
number in the sentence occurs there too. ``unfetched`` counts the distinct reference URLs that no
read source (status fetched or memory) has, plus the citations whose quote is found nowhere: a quote
is found when 90% of its normalized tokens occur in the visible text of a read page or of its
reference's page (an empty quote has nothing to find). ``cited_precision`` is the share of the distinct
cited pages that are supporting; ``dup_sentences`` counts the pairs of report sentences sharing at least
70% of their content words; ``not_found`` is whether the report said the answer was not found (its
mean, the share of runs). ``score_run`` never raises on a run folder: a missing or
unreadable ``report.json`` gives a row with ``finished`` False, zero quality metrics and no
``citation_support``; the counts read from ``sources.json`` and ``manifest.json`` are kept.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from agents.editor import repeats
from agents.lexical import normalize, statement_words
from agents.reading import normalize_url
from ui.eval.dataset import Item
from ui.eval.foreign import foreign_sections
from ui.eval.web import EvalWeb
from ui.run_files import read_json

SUPPORT_SHARE = 0.6
QUOTE_SHARE = 0.9
READ_STATUSES = ("fetched", "memory")
METRICS = ("finished", "read_recall", "cited_recall", "answer_em", "answer_f1", "answer_in_report",
           "foreign_sections",  # sections or queries built from another question's pages (ui.eval.foreign)
           "citation_support", "unfetched", "report_words", "wall_s", "tokens", "pages_read",
           "pages_fetched",  # pages fetched from the web (pages_read less those reused from memory)
           "calls", "prompt_tokens", "completion_tokens", "model_s",  # the cost: cost_fields
           "cited_precision", "dup_sentences", "not_found")  # what is printed earns its place (issue 22)
# SQuAD's normalization and the words statements are compared by: one definition with the editor's (``agents.lexical``)
normalize_answer = normalize


def _golds(golds: str | Iterable[str]) -> list[str]:
    return [golds] if isinstance(golds, str) else [g for g in golds if isinstance(g, str)]


def exact_match(pred: str, golds: str | Iterable[str]) -> float:
    """1.0 when the normalized prediction equals a normalized gold answer, else 0.0."""
    norm = normalize_answer(pred)
    return float(any(norm == normalize_answer(g) for g in _golds(golds)))


def _f1_one(pred_tokens: list[str], gold_tokens: list[str]) -> float:
    common = 0
    remaining = list(gold_tokens)
    for token in pred_tokens:
        if token in remaining:
            remaining.remove(token)
            common += 1
    if common == 0:
        return 0.0
    precision, recall = common / len(pred_tokens), common / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def f1(pred: str, golds: str | Iterable[str]) -> float:
    """SQuAD token F1 of the prediction, the best over the gold answers (0.0 for an empty prediction)."""
    pred_tokens = normalize_answer(pred).split()
    if not pred_tokens:
        return 0.0
    return max((_f1_one(pred_tokens, normalize_answer(g).split()) for g in _golds(golds)), default=0.0)


def answer_in_text(text: str, golds: str | Iterable[str]) -> bool:
    """Whether a normalized gold answer occurs in the normalized text as whole tokens."""
    padded = f" {normalize_answer(text)} "
    return any(norm and f" {norm} " in padded for norm in (normalize_answer(g) for g in _golds(golds)))


def _tokens(text: str) -> list[str]:
    return normalize_answer(text).split()


def _content(text: str) -> set[str]:
    return statement_words(text)


def supports(sentence: str, passages: Sequence[str]) -> bool:
    """Whether the cited passages lexically support the sentence (60% of its content tokens, every number)."""
    wanted = _content(sentence)
    if not wanted:
        return False
    have: set[str] = set()
    for passage in passages:
        have |= _content(passage)
    numbers = {t for t in wanted if any(ch.isdigit() for ch in t)}
    if not numbers <= have:
        return False
    return len(wanted & have) / len(wanted) >= SUPPORT_SHARE


def _url_key(url: object) -> str:
    """``agents.reading.normalize_url``, for any value (an unparsable URL is its own key: scoring never raises)."""
    try:
        return normalize_url(str(url or ""))
    except ValueError:
        return str(url)


def _sentences(report: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The answer's sentences and the sections' sentences, each only the well-formed ones."""
    answer = report.get("answer") if isinstance(report.get("answer"), dict) else {}
    ans = [s for s in (answer or {}).get("sentences") or [] if isinstance(s, dict)]
    sec: list[dict[str, Any]] = []
    for section in report.get("sections") or []:
        if isinstance(section, dict):
            sec.extend(s for s in section.get("sentences") or [] if isinstance(s, dict))
    return ans, sec


def _citations(sentence: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in sentence.get("citations") or [] if isinstance(c, dict)]


def _sources(folder: Path) -> list[dict[str, Any]]:
    data = read_json(folder / "sources.json")
    if isinstance(data, dict):
        data = data.get("sources", list(data.values()))
    return [s for s in data or [] if isinstance(s, dict)] if isinstance(data, list) else []


def _source_url(source: dict[str, Any]) -> str:
    urls = source.get("urls")
    return str(urls[0]) if isinstance(urls, list) and urls else str(source.get("url") or "")


def _tokens_used(folder: Path) -> int:
    manifest = read_json(folder / "manifest.json")
    roles = manifest.get("tokens") if isinstance(manifest, dict) else None
    total = 0
    for usage in roles.values() if isinstance(roles, dict) else ():
        if isinstance(usage, dict):
            total += sum(int(usage.get(k) or 0) for k in ("prompt_tokens", "completion_tokens")
                         if isinstance(usage.get(k), int | float))
    return total


def _recall(supporting: Sequence[str], titles: set[str]) -> float:
    return round(len(set(supporting) & titles) / len(supporting), 4) if supporting else 0.0


class _QuoteFinder:
    """Whether a quote's normalized tokens (90% of them) occur in the visible text of a page."""

    def __init__(self, web: EvalWeb, read_titles: Iterable[str]) -> None:
        self.web = web
        self._cache: dict[str, set[str]] = {}
        self.read = list(dict.fromkeys(read_titles))

    def _page(self, title: str) -> set[str]:
        if title not in self._cache:
            self._cache[title] = set(_tokens(self.web.visible_text(title)))
        return self._cache[title]

    def found(self, quote: str, ref_title: str | None) -> bool:
        tokens = _tokens(quote)
        if not tokens:
            return True  # nothing quoted, nothing to find
        candidates = ([ref_title] if ref_title else []) + self.read
        return any(sum(t in self._page(title) for t in tokens) / len(tokens) >= QUOTE_SHARE
                   for title in candidates)


def cost_fields(folder: Path) -> dict[str, Any]:
    """A row's cost from the run's manifest: calls, tokens, model seconds, and per phase and role."""
    manifest = read_json(Path(folder) / "manifest.json")
    spent = manifest.get("cost") if isinstance(manifest, dict) else None
    if not isinstance(spent, dict):
        return {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "model_s": 0.0, "cost": {}}
    return {**{k: spent.get(k, 0) for k in ("calls", "prompt_tokens", "completion_tokens", "model_s")},
            "cost": {k: spent.get(k, {}) for k in ("phases", "roles")},
            "mode": (manifest.get("mode") or {}).get("name") if isinstance(manifest, dict) else None}


def dup_sentences(texts: Sequence[str]) -> int:
    """Pairs of sentences sharing at least ``DUPLICATE`` of their words (of each of the two): what the editor
    says once (``agents.editor.repeats``)."""
    words = [w for w in (_content(t) for t in texts) if w]
    return sum(1 for i, a in enumerate(words) for b in words[i + 1:] if repeats(a, b))


def cited_precision(cited_titles: Iterable[str], supporting: Sequence[str]) -> float | None:
    """Share of the distinct cited pages that are supporting pages (None when nothing is cited)."""
    cited = set(cited_titles)
    return round(len(cited & set(supporting)) / len(cited), 4) if cited else None


def _empty_row(item: Item, *, wall_s: float, tokens: int, pages_read: int, status: str) -> dict[str, Any]:
    return {"id": item.id, "question": item.question, "kind": item.kind, "hops": item.hops, "answer": item.answer,
            "predicted": "", "finished": False, "read_recall": 0.0, "cited_recall": 0.0, "answer_em": 0.0,
            "answer_f1": 0.0, "answer_in_report": False, "citation_support": None, "unfetched": 0,
            "report_words": 0, "wall_s": round(float(wall_s), 3), "tokens": tokens, "pages_read": pages_read,
            "status": status}


def score_run(folder: Path, item: Item, web: EvalWeb, *, exit_code: int, wall_s: float) -> dict[str, Any]:
    """One row of metrics for a research run's folder (see the module docstring); never raises."""
    folder = Path(folder)
    sources = _sources(folder)
    read = [s for s in sources if s.get("status") in READ_STATUSES and _source_url(s)]
    read_urls = {_url_key(_source_url(s)) for s in read}
    read_titles = [t for t in (web.title_for(_source_url(s)) for s in read) if t is not None]
    report = read_json(folder / "report.json")
    status = "no report" if not (folder / "report.json").is_file() else "unreadable report"
    row = _empty_row(item, wall_s=wall_s, tokens=_tokens_used(folder), pages_read=len(read_urls), status=status)
    row["pages_fetched"] = len({_url_key(_source_url(s)) for s in read if s.get("status") == "fetched"})
    row.update(cost_fields(folder))
    row["foreign_sections"] = foreign_sections(folder, item, web)  # built from another question's pages
    row.update({"cited_precision": None, "dup_sentences": 0, "not_found": False})
    if not isinstance(report, dict):
        return row
    golds = [item.answer, *item.aliases]
    ans, sec = _sentences(report)
    answer = report.get("answer") if isinstance(report.get("answer"), dict) else {}
    predicted = str((answer or {}).get("text") or " ".join(str(s.get("text") or "") for s in ans)).strip()
    texts = [str(s.get("text") or "") for s in ans + sec]
    refs = [r for r in report.get("references") or [] if isinstance(r, dict)]
    by_id = {str(s.get("source_id") or s.get("id") or ""): _source_url(s) for s in sources}
    ref_url = {r.get("n"): str(r.get("url") or by_id.get(str(r.get("source_id") or ""), "")) for r in refs}
    ref_urls = {_url_key(u) for u in ref_url.values() if u}
    finder = _QuoteFinder(web, read_titles)
    cited = [s for s in ans + sec if _citations(s)]
    supported = sum(supports(str(s.get("text") or ""), [str(c.get("quote") or "") for c in _citations(s)])
                    for s in cited)
    lost_quotes = sum(not finder.found(str(c.get("quote") or ""), web.title_for(ref_url.get(c.get("ref"), "")))
                      for s in cited for c in _citations(s))
    row.update({
        "predicted": predicted,
        "finished": exit_code in (0, 3),
        "read_recall": _recall(item.supporting, set(read_titles)),
        "cited_recall": _recall(item.supporting, {t for t in map(web.title_for, ref_url.values()) if t}),
        "answer_em": exact_match(predicted, golds),
        "answer_f1": round(f1(predicted, golds), 4),
        "answer_in_report": answer_in_text(" ".join([predicted, *texts]), golds),
        "citation_support": round(supported / len(cited), 4) if cited else None,
        "unfetched": len(ref_urls - read_urls) + lost_quotes,
        "report_words": sum(len(t.split()) for t in texts) if texts else len(predicted.split()),
        "status": str(report.get("status") or ""),
        "cited_precision": cited_precision({t for t in map(web.title_for, ref_url.values()) if t}, item.supporting),
        "dup_sentences": dup_sentences(texts),
        "not_found": bool((answer or {}).get("not_found")),
    })
    return row


def _means(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    means: dict[str, float | None] = {}
    for metric in METRICS:
        values = [float(r[metric]) for r in rows if isinstance(r.get(metric), int | float)]
        means[metric] = round(statistics.fmean(values), 4) if values else None
    walls = [float(r["wall_s"]) for r in rows if isinstance(r.get("wall_s"), int | float)]
    return {"n": len(rows), "means": means,
            "wall_s_median": round(statistics.median(walls), 4) if walls else None}


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Means of every metric over all rows, by question kind and by hops (None values skipped)."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    by_hops: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_kind.setdefault(str(row.get("kind")), []).append(row)
        by_hops.setdefault(str(row.get("hops")), []).append(row)
    return {**_means(rows),
            "by_kind": {k: _means(v) for k, v in sorted(by_kind.items())},
            "by_hops": {k: _means(v) for k, v in sorted(by_hops.items(), key=lambda kv: (len(kv[0]), kv[0]))}}
