"""The finished report as data: what the drafter and verifier produce and every export renders.

A ``Report`` is written to ``runs/<run_id>/report.json`` and rendered to Markdown, HTML and PDF by
``ui/``. Citations are chunk ids; ``references`` numbers the *sources* those chunks belong to, so
the Markdown shows ``[n]`` per source while ``report.json`` keeps the exact passage cited.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SentenceStatus = Literal["supported", "recited", "rewritten", "unverified"]
RunStatus = Literal["complete", "budget_exhausted", "nothing_found", "failed", "running", "paused"]


class Citation(BaseModel):
    """One cited passage: the chunk, the reference number of its source, and the quoted text."""

    chunk_id: str
    ref: int  # 1-based number in ``Report.references``
    quote: str  # the chunk text (or the part of it that supports the sentence)
    page: int | None = None


class Sentence(BaseModel):
    """A sentence of the report and the passages it rests on."""

    text: str
    citations: list[Citation] = Field(default_factory=list)
    status: SentenceStatus = "supported"


class Answer(BaseModel):
    """The direct answer that opens the report: a short text and the one to three cited sentences it rests on.

    ``text`` is a short span (a name, a date, a number, yes/no) and ``sentences`` the chain of cited
    sentences linking it to the question's own names (``agents.answer``). ``not_found``: no chain held,
    so no answer is given (``text`` empty) rather than a guess. Reports written before the chain may
    carry a sentence as ``text``.
    """

    text: str = ""
    sentences: list[Sentence] = Field(default_factory=list)
    not_found: bool = False


class Section(BaseModel):
    """One section of the outline, drafted and verified."""

    title: str
    sentences: list[Sentence] = Field(default_factory=list)


class Reference(BaseModel):
    """A numbered entry of the reference list: one source."""

    n: int
    source_id: str
    title: str
    url: str  # URL, or file path for local documents
    kind: Literal["web", "local"] = "web"
    pages: list[int] = Field(default_factory=list)
    accessed: str  # ISO 8601 date


class Verification(BaseModel):
    """The verifier's summary, printed at the end of the report."""

    checked: int = 0
    supported: int = 0
    changed: int = 0
    removed: int = 0


class Contradiction(BaseModel):
    """The same subject and relation with different objects, from different sources."""

    subject: str
    relation: str
    objects: list[str]
    source_ids: list[str] = Field(default_factory=list)


class Report(BaseModel):
    """A research run's report."""

    run_id: str
    question: str
    title: str
    language: str = "en"
    status: RunStatus = "complete"
    summary: str = ""  # kept for reports written before the short answer; new runs leave it empty
    answer: Answer = Field(default_factory=Answer)
    sections: list[Section] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    verification: Verification = Field(default_factory=Verification)
    contradictions: list[Contradiction] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)  # e.g. "The page budget ran out after 40 pages."
    created_at: str = ""
