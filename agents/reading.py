"""Reading for the search agents: fetch-or-reuse pages, store them in memory, show passages, keep findings.

Guarantees: a URL whose source memory already holds fresh (or a local document) is never fetched
again, so a resumed run refetches nothing it stored before it was killed (a step looks all its URLs
up in one read, and looks a URL up again under its lock when another reader of the run has taken
it since); pages are stored by group commit (``agents.run.commit``): one writer at a time, under the
run's memory lock, drains every page waiting to be stored into one batched ``add_sources`` call,
and each reader goes on only once its own page is stored (a failed batch fails each of its readers
with that batch's error), so parallel agents never interleave writes; passages shown to a model are
chunks that exist in memory, so every id a model can cite resolves to stored text. A source reused
from memory is recorded as read by this run too (``Memory.claim_sources``), and ``reuse_notes`` says in
the report how many sources came from memory.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from agents.context import Rt, RunContext, emit
from agents.run.commit import GroupCommit
from agents.state import FetchRecord, FindingRecord
from memory.options import NewSource
from tools.errors import ToolError
from tools.types import FetchResult, Link, SearchResult

PASSAGE_CHARS = 1200


def normalize_url(url: str) -> str:
    """A URL folded for deduplication: lower-case scheme and host, no fragment, no trailing slash."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def read_urls(fetches: list[FetchRecord]) -> list[str]:
    """The normalized URLs a run has read (fetched, or reused from memory), sorted."""
    return sorted({normalize_url(f["url"]) for f in fetches if f["status"] in ("fetched", "memory")})


def dump_output(output: Any) -> Any:
    """A tool's output as JSON-friendly data (for the run's memo)."""
    if isinstance(output, list):
        return {"results": [dataclasses.asdict(r) for r in output if isinstance(r, SearchResult)]}
    return {"text": str(output)}


def load_output(data: Any) -> Any:
    """The inverse of ``dump_output``."""
    if "results" in data:
        return [SearchResult(**r) for r in data["results"]]
    return str(data.get("text", ""))


def candidate_links(links: list[Link], *, seen: set[str], limit: int) -> list[Link]:
    """Links worth offering for a hop: http(s), not already read, distinct, at most ``limit``."""
    out: list[Link] = []
    keys = {normalize_url(u) for u in seen}
    for link in links:
        if urlsplit(link.url).scheme not in ("http", "https"):
            continue
        key = normalize_url(link.url)
        if key in keys:
            continue
        keys.add(key)
        out.append(link)
        if len(out) >= limit:
            break
    return out


@dataclass
class PagesRead:
    """What one reading step produced."""

    source_ids: list[str] = field(default_factory=list)
    records: list[FetchRecord] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    fetched: int = 0  # pages requested over the network (the page budget counts these)

    def merge(self, other: PagesRead) -> None:
        """Add another step's results to this one."""
        self.source_ids += [s for s in other.source_ids if s not in self.source_ids]
        self.records += other.records
        self.links += other.links
        self.fetched += other.fetched


def _record(
    url: str, status: str, *, source_id: str = "", result: FetchResult | None = None, error: str = ""
) -> FetchRecord:
    return FetchRecord(
        url=url,
        status=status,
        source_id=source_id,
        fetched_at=result.fetched_at if result else "",
        http_status=result.status if result else 0,
        content_hash="" if result is None else _sha256(result.body),
        error=error,
    )


def _sha256(body: bytes) -> str:
    import hashlib

    return hashlib.sha256(body).hexdigest()


def is_fresh(source: Any, days: float, now: float | None = None) -> bool:
    """Whether a stored source may be reused instead of fetched: a local document, or fetched within ``days``."""
    if getattr(source, "kind", "web") == "local":
        return True
    if getattr(source, "status", "ok") != "ok" or not source.fetched_at:
        return False
    try:
        fetched = datetime.fromisoformat(source.fetched_at.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return False
    return (now if now is not None else time.time()) - fetched <= days * 86400.0


def _reusable(ctx: RunContext, url: str) -> Any:
    source = ctx.memory.source_by_url(url)  # one lookup (``memory.is_fresh`` would look it up again)
    return _if_fresh(ctx, source)


def _if_fresh(ctx: RunContext, source: Any) -> Any:
    return source if source is not None and is_fresh(source, ctx.freshness_days) else None


def _write_sources(ctx: RunContext, items: list[NewSource]) -> list[tuple[Any, list[Any]]]:
    """One group commit: every pending page in one batched write, under the run's memory lock."""
    with ctx.memory_lock:
        return ctx.memory.add_sources(items)


def source_writer(ctx: RunContext) -> GroupCommit[NewSource, tuple[Any, list[Any]]]:
    """The run's group-commit writer of pages into memory (one per run context)."""
    writer: GroupCommit[NewSource, tuple[Any, list[Any]]] | None = ctx.writers.get("sources")
    if writer is None:
        writer = ctx.writers["sources"] = GroupCommit(lambda items: _write_sources(ctx, items))
    return writer


async def _store(ctx: RunContext, run_id: str, result: FetchResult) -> tuple[str, list[Link]]:
    document = await asyncio.to_thread(ctx.extract, result)  # extraction runs in parallel
    if not document.text.strip():
        raise ValueError("the page has no readable text")
    item = NewSource(
        result.url,
        document.title or result.url,
        document.text,
        run_id,
        result.fetched_at,
        tuple(document.pages),
        "web",
        {"final_url": result.final_url, "content_type": result.content_type},
    )
    source, _chunks = await source_writer(ctx).submit(item)  # returns once THIS page is stored
    return source.id, list(document.links)


async def _read_one(runtime: Rt, run_id: str, sub_id: str, url: str, hop: bool, known: Any) -> PagesRead:
    """Read one URL: reuse it from memory when fresh, else fetch, extract and store it.

    ``known`` is what memory held under ``url`` when this step began; it is looked up again only
    if another reader of this run has taken the URL since (it may have stored it meanwhile).
    """
    ctx = runtime.context
    out = PagesRead()
    shared = url in ctx.url_locks  # checked and locked with no await between: no reader slips in
    async with ctx.url_lock(url):  # a sibling agent reading the same URL finishes first; we reuse it
        source = await asyncio.to_thread(_reusable, ctx, url) if shared else _if_fresh(ctx, known)
        if source is not None:
            out.source_ids.append(source.id)
            out.records.append(_record(url, "memory", source_id=source.id))
            emit(runtime, run_id, "page", subquestion=sub_id, url=url, status="memory", hop=hop)
            return out
        (result,) = await ctx.fetcher.fetch_many([url])
        out.fetched = 1
        if not isinstance(result, FetchResult):
            status = "refused" if type(result).__name__ == "RefusedURLError" else "failed"
            out.records.append(_record(url, status, error=str(result)))
            emit(runtime, run_id, "page", subquestion=sub_id, url=url, status=status, error=str(result), hop=hop)
            return out
        try:
            source_id, links = await _store(ctx, run_id, result)
        except (ToolError, ValueError) as err:
            out.records.append(_record(url, "failed", result=result, error=str(err)))
            emit(runtime, run_id, "page", subquestion=sub_id, url=url, status="failed", error=str(err), hop=hop)
            return out
    out.source_ids.append(source_id)
    out.links = links
    out.records.append(_record(url, "fetched", source_id=source_id, result=result))
    emit(runtime, run_id, "page", subquestion=sub_id, url=url, status="fetched", source_id=source_id, hop=hop)
    return out


def _claim(ctx: RunContext, source_ids: list[str], run_id: str) -> None:
    """Record the run on the stored sources it reused, so its provenance (and ``memory forget --run``) lists them."""
    claim = getattr(ctx.memory, "claim_sources", None)  # ``memory.Memory`` has it; a bare port may not
    if callable(claim):
        with ctx.memory_lock:
            claim(source_ids, run_id)


async def read_pages(runtime: Rt, run_id: str, sub_id: str, urls: list[str], *, hop: bool = False) -> PagesRead:
    """Read ``urls`` concurrently (fresh copies in memory are reused, never fetched again)."""
    out = PagesRead()
    if not urls:
        return out
    known = await asyncio.to_thread(runtime.context.memory.sources_by_urls, urls)  # one read for the step
    for part in await asyncio.gather(*(_read_one(runtime, run_id, sub_id, u, hop, known.get(u)) for u in urls)):
        out.merge(part)
    reused = [r["source_id"] for r in out.records if r["status"] == "memory" and r["source_id"]]
    if reused:
        await asyncio.to_thread(_claim, runtime.context, reused, run_id)
    return out


def reuse_notes(fetches: list[FetchRecord]) -> list[str]:
    """The report's note on how many of the sources read came from memory (none when all were fetched)."""
    fetched = {f["source_id"] for f in fetches if f["status"] == "fetched" and f["source_id"]}
    reused = {f["source_id"] for f in fetches if f["status"] == "memory" and f["source_id"]} - fetched
    if not reused:
        return []
    total = len(fetched | reused)
    return [f"{len(reused)} of the {total} sources read came from memory (read by an earlier run within the "
            "freshness window), not fetched again."]


def cited_statement_schema(chunk_ids: list[str], text_chars: int) -> dict[str, Any]:
    """Schema of one statement citing 1–3 of ``chunk_ids`` (the passages shown), and nothing else.

    The enum is what makes an unfetched citation impossible: findings and report sentences both use it.
    """
    return {
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 3, "maxLength": text_chars},
            "chunk_ids": {"type": "array", "items": {"enum": chunk_ids}, "minItems": 1, "maxItems": 3},
        },
        "required": ["text", "chunk_ids"],
    }


def passage_dicts(hits: list[Any]) -> list[dict[str, str]]:
    """Hits as the prompts show them: id, source title, text (trimmed), and the source's id (not shown)."""
    return [{"id": h.chunk.id, "title": h.source.title, "text": h.chunk.text[:PASSAGE_CHARS],
             "source_id": h.chunk.source_id} for h in hits]


async def passages(ctx: RunContext, question: str, source_ids: list[str]) -> list[dict[str, str]]:
    """The passages of ``source_ids`` most relevant to ``question``."""
    if not source_ids:
        return []
    filters = ctx.filters(source_ids=list(source_ids))
    hits = await asyncio.to_thread(ctx.memory.search, question, ctx.limits.chunks_per_prompt, filters)
    return passage_dicts(hits)


def _add_findings(
    ctx: RunContext, run_id: str, question: str, found: list[tuple[str, list[str]]]
) -> list[FindingRecord]:
    with ctx.memory_lock:
        stored = ctx.memory.add_findings(run_id, question, found)  # one write for the sub-question's findings
    return [
        FindingRecord(id=finding.id, question=question, text=text, chunk_ids=list(ids))
        for finding, (text, ids) in zip(stored, found, strict=True)
    ]


async def record_findings(
    ctx: RunContext, run_id: str, question: str, found: list[tuple[str, list[str]]]
) -> list[FindingRecord]:
    """Store findings in memory (idempotent there) and return them as state records."""
    if not found:
        return []
    return await asyncio.to_thread(_add_findings, ctx, run_id, question, found)
