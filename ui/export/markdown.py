"""Render a report as Markdown: numbered citations ``[n]`` per source and a reference list.

Text from pages and models is neutralised for Markdown viewers: brackets in titles cannot open a
link, raw HTML tags are escaped, and only http(s) URLs become links (``common.safe_url``).
"""

from __future__ import annotations

import re

from agents.report import Reference, Report, Sentence
from ui.export.common import RunBundle, safe_url

_TAG = re.compile(r"<(?=[A-Za-z/!?])")
_LINK_CHARS = re.compile(r"([\[\]\\`*_])")


def inline(text: str) -> str:
    """Model or page text made safe inline: HTML tags escaped, line breaks folded."""
    return _TAG.sub("&lt;", " ".join(str(text).split()))


def literal(text: str) -> str:
    """Text shown literally (a title): Markdown link and emphasis characters escaped too."""
    return _LINK_CHARS.sub(r"\\\1", inline(text))


def cite_marks(sentence: Sentence) -> str:
    """``[1][3]``: one mark per distinct source the sentence cites, in order."""
    refs = sorted({c.ref for c in sentence.citations})
    return "".join(f"[{n}]" for n in refs)


def sentence_md(sentence: Sentence) -> str:
    """One sentence with its citation marks."""
    marks = cite_marks(sentence)
    return f"{inline(sentence.text)} {marks}".rstrip() if marks else inline(sentence.text)


def reference_md(ref: Reference) -> str:
    """One reference-list entry: title (linked when http/https), URL or file, pages, access date."""
    title = literal(ref.title or ref.url or ref.source_id)
    url = safe_url(ref.url)
    head = f"[{title}](<{url}>)" if url else f"{title} (`{inline(ref.url).replace('`', '')}`)"
    pages = f", p. {', '.join(str(p) for p in ref.pages)}" if ref.pages else ""
    accessed = f", accessed {ref.accessed}" if ref.accessed else ""
    return f"{ref.n}. {head}{pages}{accessed}"


def render_report(report: Report) -> str:
    """The report as Markdown."""
    out: list[str] = [f"# {inline(report.title or report.question)}", ""]
    if report.title and report.question and report.question != report.title:
        out += [f"*Question:* {inline(report.question)}", ""]
    if report.summary:
        out += [inline(report.summary), ""]
    if report.answer.sentences:
        out += ["## Answer", ""]
        if report.answer.text and report.answer.text != report.answer.sentences[0].text:
            out += [f"**{inline(report.answer.text)}**", ""]
        out += [" ".join(sentence_md(s) for s in report.answer.sentences), ""]
    for section in report.sections:
        out += [f"## {inline(section.title)}", ""]
        body = " ".join(sentence_md(s) for s in section.sentences)
        out += [body or "*Nothing in the sources read supports this section.*", ""]
    if report.contradictions:
        out += ["## Where the sources disagree", ""]
        for item in report.contradictions:
            objects = " / ".join(inline(o) for o in item.objects)
            out.append(f"- {inline(item.subject)} — {inline(item.relation)}: {objects}")
        out.append("")
    if report.notes:
        out += ["## Notes", ""] + [f"- {inline(n)}" for n in report.notes] + [""]
    v = report.verification
    out += [
        "## Verification",
        "",
        f"{v.checked} claims checked: {v.supported} supported, {v.changed} changed, {v.removed} removed.",
        "",
    ]
    if report.references:
        out += ["## References", ""] + [reference_md(r) for r in report.references] + [""]
    return "\n".join(out)


def render(bundle: RunBundle) -> str:
    """The bundle's report as Markdown (the graph and sources appear in HTML and PDF only)."""
    return render_report(bundle.report)
