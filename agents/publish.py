"""Publish: the verified sections become a ``Report`` and the run folder is written.

Guarantees: every citation in the report is a chunk that memory returns (a cited id that does not
resolve is dropped, never printed); references number *sources* in order of first citation; the
run folder holds ``report.md``, ``report.json``, ``sources.json`` (every source read, cited or not),
``graph.json`` and ``manifest.json``; files are written atomically (temp file, then rename).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

from agents import graphs
from agents.answer import NOT_FOUND
from agents.context import Rt, RunContext, emit
from agents.drafter import NOTHING_FOUND, run_source_ids
from agents.lexical import fold
from agents.reading import reuse_notes
from agents.report import Answer, Citation, Contradiction, Reference, Report, Section, Sentence, Verification
from agents.run.budget import refusal_note
from agents.state import ResearchState


def number_references(
    sections: list[dict[str, Any]], chunks: dict[str, Any], sources: dict[str, Any]
) -> tuple[list[Section], list[Reference]]:
    """Sections with numbered citations, and the reference list (one entry per cited source)."""
    refs: dict[str, Reference] = {}
    out: list[Section] = []
    said: set[str] = set()
    for section in sections:
        sentences = []
        for sent in section["sentences"]:
            key = fold(sent["text"])
            if key in said:  # the same sentence drafted for two sections is kept once
                continue
            said.add(key)
            citations = []
            for chunk_id in sent["chunk_ids"]:
                chunk = chunks.get(chunk_id)
                source = sources.get(chunk.source_id) if chunk is not None else None
                if chunk is None or source is None:
                    continue
                ref = refs.get(source.id)
                if ref is None:
                    ref = refs[source.id] = _reference(len(refs) + 1, source)
                if chunk.page and chunk.page not in ref.pages:
                    ref.pages.append(chunk.page)
                citations.append(Citation(chunk_id=chunk_id, ref=ref.n, quote=chunk.text, page=chunk.page))
            if citations:
                sentences.append(
                    Sentence(text=sent["text"], citations=citations, status=sent.get("status", "supported"))
                )
        if sentences:
            out.append(Section(title=section["title"], sentences=sentences))
    return out, list(refs.values())


def _reference(n: int, source: Any) -> Reference:
    kind: Literal["web", "local"] = "local" if getattr(source, "kind", "web") == "local" else "web"
    accessed = (source.fetched_at or "")[:10] or time.strftime("%Y-%m-%d", time.gmtime())
    return Reference(
        n=n, source_id=source.id, title=source.title or source.url, url=source.url, kind=kind, accessed=accessed
    )


def run_status(state: ResearchState, budget_out: list[str], sections: list[Section]) -> str:
    """complete, budget_exhausted or nothing_found."""
    if budget_out:
        return "budget_exhausted"
    if not run_source_ids(state.get("fetches", [])) or not sections:
        return "nothing_found"
    return "complete"


def render_markdown(report: Report) -> str:
    """The report as Markdown with ``[n]`` citations per source and a reference list."""
    lines = [f"# {report.title}", "", f"*Question:* {report.question}", ""]
    for note in report.notes:
        lines += [f"> {note}", ""]
    if report.answer.sentences:
        lines += ["## Answer", ""]
        if report.answer.text != report.answer.sentences[0].text:
            lines += [f"**{report.answer.text}**", ""]
    elif report.answer.not_found:
        lines += ["## Answer", "", NOT_FOUND, ""]
    shown = [Section(title="", sentences=report.answer.sentences)] if report.answer.sentences else []
    for section in [*shown, *report.sections]:
        lines += [f"## {section.title}", ""] if section.title else []
        para = []
        for sent in section.sentences:
            marks = "".join(f"[{n}]" for n in dict.fromkeys(c.ref for c in sent.citations))
            para.append(f"{sent.text} {marks}".strip())
        lines += [" ".join(para), ""]
    if report.contradictions:
        lines += ["## Where sources disagree", ""]
        for c in report.contradictions:
            lines.append(f"- {c.subject} — {c.relation}: {' / '.join(c.objects)}")
        lines.append("")
    if report.references:
        lines += ["## References", ""]
        for ref in report.references:
            pages = f", p. {', '.join(map(str, ref.pages))}" if ref.pages else ""
            lines.append(f"{ref.n}. {ref.title} — {ref.url}{pages} (accessed {ref.accessed})")
        lines.append("")
    v = report.verification
    lines += [
        "## Verification",
        "",
        f"Claims checked: {v.checked}; supported: {v.supported}; changed: {v.changed}; removed: {v.removed}.",
        "",
    ]
    return "\n".join(lines)


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically."""
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str))


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically (a crash never leaves half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


ANSWER = "\x00answer"  # the short answer travels through number_references as a section of this title


def build_report(ctx: RunContext, state: ResearchState) -> Report:
    """Assemble the ``Report`` from the verified answer and sections, resolving every citation through memory."""
    short = state.get("answer") or {}
    sections = [{"title": ANSWER, "sentences": short.get("sentences", [])}, *state.get("sections", [])]
    ids = list(dict.fromkeys(i for s in sections for sent in s["sentences"] for i in sent["chunk_ids"]))
    chunks = {c.id: c for c in ctx.memory.get_chunks(ids)} if ids else {}
    sources = {s.id: s for s in ctx.memory.get_sources(sorted({c.source_id for c in chunks.values()}))}
    numbered, references = number_references(sections, chunks, {k: v for k, v in sources.items() if v is not None})
    answer = Answer(not_found=bool(short.get("not_found")))
    if numbered and numbered[0].title == ANSWER:
        answer = Answer(text=str(short.get("text", "")) or numbered[0].sentences[0].text,
                        sentences=numbered.pop(0).sentences)
    now_out = ctx.exhausted(state.get("pages_fetched", 0), share=1.0)
    budget_out = list(dict.fromkeys([*state.get("budget_out", []), *now_out, *ctx.refused]))
    status = run_status(state, budget_out, numbered or ([Section(title="Answer", sentences=answer.sentences)]
                                                         if answer.sentences else []))
    notes = list(state.get("notes", []))
    notes += [refusal_note(name, ctx.limits, n) for name, n in ctx.refused.items()]  # calls the budget gate refused
    notes += reuse_notes(state.get("fetches", []))  # how many sources came from memory (issue 24)
    if not run_source_ids(state.get("fetches", [])) and NOTHING_FOUND not in notes:
        notes.insert(0, NOTHING_FOUND)
    return Report(
        run_id=state["run_id"],
        question=state["question"],
        title=state["question"],
        language=ctx.language,
        status=status,  # type: ignore[arg-type]
        answer=answer,
        sections=numbered,
        references=references,
        verification=Verification(**state.get("verification", {})),
        contradictions=[
            Contradiction(**{k: c[k] for k in ("subject", "relation", "objects", "source_ids")})
            for c in state.get("contradictions", [])
        ],
        notes=notes,
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )


def sources_json(ctx: RunContext, state: ResearchState, report: Report) -> list[dict[str, Any]]:
    """Every source the run read or tried to read, with its reference number when cited."""
    refs = {r.source_id: r.n for r in report.references}
    ids = {rec["source_id"] for rec in state.get("fetches", []) if rec["source_id"]}
    titles = {s.id: s.title for s in ctx.memory.get_sources(sorted(ids))}
    return [
        {**rec, "title": titles.get(rec["source_id"], ""), "ref": refs.get(rec["source_id"])}
        for rec in state.get("fetches", [])
    ]


def manifest(ctx: RunContext, state: ResearchState, report: Report, meta: dict[str, Any]) -> dict[str, Any]:
    """What a reader needs to audit or repeat the run."""
    usage = ctx.session_usage()  # this run's session only: the model pool may be shared with other runs
    return {
        **meta,
        "run_id": state["run_id"],
        "question": state["question"],
        "status": report.status,
        "limits": vars(ctx.limits),
        "plan": state["plan"],
        "tool_calls": state.get("tool_calls", []),
        "queries": state.get("queries", []),
        "fetches": [
            {k: f[k] for k in ("url", "status", "fetched_at", "http_status", "content_hash")}
            for f in state.get("fetches", [])
        ],
        "pages_fetched": state.get("pages_fetched", 0),
        "hops_used": state.get("hops_used", 0),
        "rounds": state.get("round", 0),
        "tokens": usage,
        "budget_out": state.get("budget_out", []),
        "verification": report.verification.model_dump(),
    }


def write_folder(ctx: RunContext, state: ResearchState, report: Report, folder: Path, meta: dict[str, Any]) -> None:
    """Write the run folder's files."""
    write_text(folder / "report.md", render_markdown(report))
    write_json(folder / "report.json", report.model_dump())
    write_json(folder / "sources.json", sources_json(ctx, state, report))
    write_json(folder / "graph.json", graphs.graph_json(state.get("facts", []), state.get("contradictions", [])))
    write_json(folder / "manifest.json", manifest(ctx, state, report, meta))


async def publish_report(state: ResearchState, runtime: Rt) -> dict[str, Any]:
    """Node: build the report and write the run folder."""
    ctx, run_id = runtime.context, state["run_id"]
    emit(runtime, run_id, "phase", phase="publish")
    report = await asyncio.to_thread(build_report, ctx, state)
    if ctx.run_dir is not None:
        await asyncio.to_thread(write_folder, ctx, state, report, ctx.run_dir, ctx.meta)
    emit(
        runtime,
        run_id,
        "report",
        status=report.status,
        sections=len(report.sections),
        references=len(report.references),
        folder=str(ctx.run_dir or ""),
    )
    return {"report": report.model_dump()}
