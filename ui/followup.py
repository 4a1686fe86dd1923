"""Follow-up questions on a finished run: one code path for ``quarry ask``, the Python API, MCP and the browser.

``ask_followup(app, run_id, question)`` answers from the run's own memory and graph first: passages of
the sources the run (and its earlier follow-ups) read, retrieved for the follow-up, plus the passages
behind graph facts naming the follow-up's words. The model answers from those passages in one call
(prompt ``followup``); every sentence it writes is kept only when the verifier's lexical screen finds
it supported by the passages it cites, and the floor's best-matching sentences (quoted, cited) stand
beside it, so a run without a model answers too. When the kept sentences do not cover the follow-up's
own words (``HOLDS``), memory does not hold the answer: a short research round on the follow-up runs
in quick mode within its own budget, through the same ``ui.runner.execute`` as any run, as run
``<run_id>-ask<N>``; the sources it reads join the run's scope for later follow-ups.

Guarantees: bad input (an unknown or unfinished run, an empty or over-long question) raises a
``ui.errors`` error with one sentence before anything is read or written; each answered exchange is
appended as one JSON line to ``runs/<run_id>/followups.jsonl``; ``report.md`` is never touched.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import prompts
from agents.drafter import answer_schema
from agents.errors import AgentError, RunError
from agents.floors import best_sentences, rank_supported
from agents.lexical import content_words, share_held
from agents.run.budget import Limits
from agents.verifier import answer_text, screen
from ui import run_files
from ui.errors import BadInputError, RunNotFoundError
from ui.preflight import check_question
from ui.runner import ResearchRequest, execute

if TYPE_CHECKING:
    from agents.report import Report

Event = dict[str, Any]
FOLLOWUPS = "followups.jsonl"
PASSAGES = 8  # passages shown to the model: memory hits first, then the graph's
HOLDS = 0.6  # share of the follow-up's own content words the kept sentences must contain
ANSWER_TOKENS = 512
# Question words are not what an answer repeats ("when did it last air" is answered by "it aired in 2019").
QUESTION_WORDS = frozenset({"what", "when", "where", "who", "whom", "whose", "which", "why", "how", "many",
                            "much", "long", "tell", "know", "and", "please"})


@dataclass
class Followup:
    """One answered follow-up: the answer, its cited sentences and sources, and where it came from."""

    run_id: str
    question: str
    answer: str
    sentences: list[dict[str, Any]] = field(default_factory=list)  # {"text", "chunk_ids", "refs"}
    references: list[dict[str, Any]] = field(default_factory=list)  # {"n", "title", "url", "source_id"}
    origin: str = "memory"  # "memory" | "research" | "none"
    research_run: str | None = None
    source_ids: list[str] = field(default_factory=list)  # sources this exchange added to the run's scope
    asked: str = ""

    def to_json(self) -> dict[str, Any]:
        """The JSON line kept in ``followups.jsonl``."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Followup:
        """Inverse of ``to_json`` (unknown keys ignored)."""
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    def markdown(self) -> str:
        """The exchange as plain Markdown (question, answer, cited sentences, sources)."""
        lines = [f"**Q:** {self.question}", "", f"**A:** {self.answer}"]
        for s in self.sentences:
            lines.append(f"- {s['text']} " + "".join(f"[{n}]" for n in s.get("refs", [])))
        if self.references:
            lines += ["", "Sources:"] + [f"[{r['n']}] {r['title']} — {r['url']}" for r in self.references]
        where = {"memory": "from the run's memory", "research": f"from a research round (run {self.research_run})",
                 "none": "not found"}.get(self.origin, self.origin)
        return "\n".join([*lines, "", f"({where})"])


# -- input and the run folder -------------------------------------------------------------------------


def check_followup(question: object) -> str:
    """The follow-up on one line; ``BadInputError`` when it is empty, not text or too long."""
    if not isinstance(question, str) or not " ".join(question.split()):
        raise BadInputError("The follow-up question is empty; give a question about the report.")
    check_question(question)
    return " ".join(question.split())


def finished_run(runs_dir: Path, run_id: object) -> tuple[Path, Report]:
    """The folder and report of a finished run; ``RunNotFoundError``/``BadInputError`` with one sentence."""
    if not isinstance(run_id, str) or not run_files.RUN_ID.match(run_id):
        raise BadInputError(f"{run_id!r} is not a run id; list runs with `quarry runs`.")
    folder = runs_dir / run_id
    if not folder.is_dir():
        raise RunNotFoundError(f"There is no run {run_id!r}; list runs with `quarry runs`.")
    report = run_files.load_report(runs_dir, run_id)
    if report is None:
        raise BadInputError(f"Run {run_id} has no report yet; finish it with `quarry runs resume {run_id}` first.")
    return folder, report


def load_followups(folder: Path) -> list[Followup]:
    """The exchanges kept in ``followups.jsonl``, oldest first (unreadable lines skipped)."""
    try:
        lines = (folder / FOLLOWUPS).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict):
            out.append(Followup.from_json(data))
    return out


def append_followup(folder: Path, exchange: Followup) -> None:
    """Append one exchange to ``followups.jsonl``."""
    with (folder / FOLLOWUPS).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(exchange.to_json(), ensure_ascii=False) + "\n")


def run_scope(folder: Path) -> list[str]:
    """The source ids the run read (``sources.json``) and those its follow-ups' research rounds added."""
    data = run_files.read_json(folder / "sources.json")
    data = data.get("sources", []) if isinstance(data, dict) else data
    ids = [str(s["source_id"]) for s in data or [] if isinstance(s, dict) and s.get("source_id")
           and s.get("status") in ("fetched", "memory")]
    ids += [sid for f in load_followups(folder) for sid in f.source_ids]
    return list(dict.fromkeys(ids))


# -- pure helpers ------------------------------------------------------------------------------------


def own_words(question: str) -> set[str]:
    """The follow-up's content words, question words left out."""
    return content_words(question) - QUESTION_WORDS


def coverage(question: str, sentences: Sequence[str]) -> float:
    """Share of the follow-up's own words that the sentences contain together (0..1; 0 for no words)."""
    return share_held(own_words(question), sentences)


def graph_chunk_ids(graph: dict[str, Any] | None, question: str, limit: int) -> list[str]:
    """Chunk ids behind the graph's facts whose subject or object names a word of the follow-up."""
    if not graph:
        return []
    wanted = own_words(question)
    names = {n.get("id"): str(n.get("name", "")) for n in graph.get("nodes", []) if isinstance(n, dict)}
    out: list[str] = []
    for edge in graph.get("edges", []):
        if not isinstance(edge, dict):
            continue
        said = f"{names.get(edge.get('source'), '')} {names.get(edge.get('target'), '')}"
        if content_words(said) & wanted:
            out += [str(i) for i in edge.get("chunk_ids", [])]
    return list(dict.fromkeys(out))[:limit]


def verified(question: str, said: Sequence[dict[str, Any]], texts: dict[str, str]) -> list[dict[str, Any]]:
    """The model's sentences the verifier's lexical screen finds supported by the passages they cite."""
    kept = []
    for sentence in said:
        ids = [i for i in sentence.get("chunk_ids", []) if i in texts]
        cited = [texts[i] for i in ids]
        others = [t for i, t in texts.items() if i not in ids]
        if screen(str(sentence.get("text", "")), cited, others, question) == "supported":
            kept.append({"text": " ".join(str(sentence["text"]).split()), "chunk_ids": ids})
    return kept


def with_refs(sentences: list[dict[str, Any]], sources: dict[str, dict[str, str]]
              ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Sentences numbered by source (``refs``), and the numbered references (``sources``: chunk id -> source)."""
    numbers: dict[str, int] = {}
    refs: list[dict[str, Any]] = []
    out = []
    for sentence in sentences:
        ns = []
        for cid in sentence["chunk_ids"]:
            src = sources.get(cid)
            if src is None:
                continue
            if src["source_id"] not in numbers:
                numbers[src["source_id"]] = len(numbers) + 1
                refs.append({"n": numbers[src["source_id"]], **src})
            ns.append(numbers[src["source_id"]])
        out.append({**sentence, "refs": sorted(set(ns))})
    return out, refs


# -- answering from memory ----------------------------------------------------------------------------


@dataclass
class Passages:
    """Passages for a follow-up: id -> text, id -> source (title, url, source id), in rank order."""

    texts: dict[str, str] = field(default_factory=dict)
    sources: dict[str, dict[str, str]] = field(default_factory=dict)

    def rows(self) -> list[dict[str, str]]:
        """What the prompt and the floor read: id, text, title."""
        return [{"id": i, "text": t, "title": self.sources[i]["title"]} for i, t in self.texts.items()]


def gather(memory: Any, question: str, original: str, scope: list[str], graph: dict[str, Any] | None) -> Passages:
    """The run's passages for the follow-up: memory hits within ``scope``, then the graph's facts' passages."""
    from memory.store import Filters

    found = Passages()
    if not scope:
        return found
    for hit in memory.search(f"{question} {original}", k=PASSAGES, filters=Filters(source_ids=scope)):
        found.texts[hit.chunk.id] = hit.chunk.text
        found.sources[hit.chunk.id] = {"title": hit.source.title, "url": hit.source.url, "source_id": hit.source.id}
    extra = [i for i in graph_chunk_ids(graph, question, PASSAGES) if i not in found.texts]
    chunks = memory.get_chunks(extra[: max(0, PASSAGES - len(found.texts) + 2)]) if extra else []
    by_id = {s.id: s for s in memory.get_sources(list({c.source_id for c in chunks}))} if chunks else {}
    for chunk in chunks:
        if chunk.source_id in scope and chunk.source_id in by_id:
            src = by_id[chunk.source_id]
            found.texts[chunk.id] = chunk.text
            found.sources[chunk.id] = {"title": src.title, "url": src.url, "source_id": src.id}
    return found


def model_answer(model: Any, question: str, original: str, found: Passages, language: str) -> dict[str, Any]:
    """The model's answer from the passages (``{}`` when it declines, fails or no prompt fits)."""
    rows = found.rows()
    while True:
        messages = prompts.render("followup", question=question, original=original, chunks=rows, language=language)
        if not rows or model.count_tokens(messages) + model.answer_tokens(ANSWER_TOKENS) <= model.context_tokens:
            break
        rows = rows[:-1]  # the lowest-ranked passage leaves first
    if not rows:
        return {}
    try:
        answer = model.complete(messages, schema=answer_schema([r["id"] for r in rows]), max_tokens=ANSWER_TOKENS)
    except AgentError:  # declined (no model), unreachable, or no valid answer: the floor answers alone
        return {}
    return dict(answer) if isinstance(answer, dict) else {}


def from_memory(models: Any, memory: Any, run_id: str, question: str, report: Report, scope: list[str],
                graph: dict[str, Any] | None) -> tuple[Followup, bool]:
    """The answer the run's memory gives, and whether it holds the answer (``HOLDS``)."""
    found = gather(memory, question, report.question, scope, graph)
    said = model_answer(models.for_role("drafter"), question, report.question, found, report.language)
    kept = verified(question, said.get("sentences", []), found.texts)
    floor = [{"text": t, "chunk_ids": ids} for t, ids in best_sentences(question, found.rows(), limit=3)]
    sentences = rank_supported(question, [*kept, *floor], found.texts, 3)  # about the follow-up first
    holds = coverage(question, [s["text"] for s in sentences]) >= HOLDS
    text = sentences[0]["text"] if sentences else ""
    if kept and sentences:
        said_text = answer_text(question, str(said.get("answer", "")), kept, found.texts)
        text = said_text if said_text not in {s["text"] for s in kept} else text
    numbered, refs = with_refs(sentences, found.sources)
    exchange = Followup(run_id=run_id, question=question, answer=text, sentences=numbered, references=refs)
    return exchange, holds and bool(text)


# -- a research round ----------------------------------------------------------------------------------


def quick_limits(settings: Any, max_minutes: float | None) -> Limits:
    """The quick mode's limits (``agents.run.modes``) under ``settings``, with the round's own time budget."""
    from agents.run.modes import limits_for

    return limits_for(settings, mode="quick", max_minutes=max_minutes,
                      results_per_query=settings.search.results_per_query)


PRONOUNS = frozenset({"it", "its", "they", "them", "their", "he", "him", "his", "she", "her", "this", "that",
                      "these", "those", "there"})


def research_question(question: str, original: str) -> str:
    """What the round researches: the follow-up, with the report's question beside it when it refers back
    to it ("when did it last air?") and names nothing of it."""
    words = set(re.findall(r"\w+", question.casefold()))
    if not words & PRONOUNS or own_words(question) & content_words(original):
        return question
    return f"{question} (context: {original})"[:3000]


def research_round(app: Any, run_id: str, question: str, report: Report, on_event: Callable[[Event], None],
                   max_minutes: float | None) -> Followup:
    """Research the follow-up as run ``<run_id>-ask<N>`` (quick mode) and answer from its verified report."""
    child = f"{run_id[:100]}-ask{len(load_followups(app.settings.runs_dir / run_id)) + 1}"
    request = ResearchRequest(question=research_question(question, report.question), run_id=child,
                              formats=("md", "json"))
    limits = quick_limits(app.settings, max_minutes)
    outcome = execute(app.runner(), request, on_event, base=limits, settings=app.settings)
    if outcome.status == "interrupted":
        raise KeyboardInterrupt(outcome.error)
    if outcome.report is None or outcome.exit_code not in (0, 3):
        raise RunError(outcome.error or f"The research round {child} failed; ask again to retry it.", run_id=child)
    return from_child(run_id, question, outcome.report, child, run_scope(outcome.folder))


def from_child(run_id: str, question: str, child: Report, child_id: str, scope: list[str]) -> Followup:
    """The follow-up's answer from its research round's report (sentences and sources as that run verified them)."""
    refs = {r.n: r for r in child.references}
    sentences: list[dict[str, Any]] = []
    references: list[dict[str, Any]] = []
    numbers: dict[str, int] = {}
    for s in child.answer.sentences:
        ns = []
        for cite in s.citations:
            ref = refs.get(cite.ref)
            if ref is None:
                continue
            if ref.source_id not in numbers:
                numbers[ref.source_id] = len(numbers) + 1
                references.append({"n": numbers[ref.source_id], "title": ref.title, "url": ref.url,
                                   "source_id": ref.source_id})
            ns.append(numbers[ref.source_id])
        sentences.append({"text": s.text, "chunk_ids": [c.chunk_id for c in s.citations], "refs": sorted(set(ns))})
    text = child.answer.text or (sentences[0]["text"] if sentences else "")
    return Followup(run_id=run_id, question=question, answer=text, sentences=sentences, references=references,
                    origin="research" if text else "none", research_run=child_id, source_ids=scope)


# -- the one entry point -------------------------------------------------------------------------------

NOT_FOUND = "Neither the run's memory nor a short research round found the answer."


def ask_followup(app: Any, run_id: object, question: object, *, on_event: Callable[[Event], None] | None = None,
                 max_minutes: float | None = None, research: bool = True) -> Followup:
    """Answer a follow-up on run ``run_id`` (memory first, then a research round); see the module docstring."""
    folder, report = finished_run(app.settings.runs_dir, run_id)
    text = check_followup(question)
    if max_minutes is not None and not max_minutes > 0:
        raise BadInputError("The follow-up's time budget must be a positive number of minutes.")
    rid = folder.name
    graph = run_files.load_graph(app.settings.runs_dir, rid)
    exchange, holds = from_memory(app.models(), app.memory(), rid, text, report, run_scope(folder), graph)
    if not holds and research:
        exchange = research_round(app, rid, text, report, on_event or (lambda event: None), max_minutes)
    elif not holds:
        exchange = replace(exchange, origin="none")
    if not exchange.answer:
        exchange = replace(exchange, answer=NOT_FOUND, origin="none")
    exchange = replace(exchange, asked=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    append_followup(folder, exchange)
    return exchange
