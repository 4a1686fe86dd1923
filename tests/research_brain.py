"""A scripted "brain" for research-graph tests: answers every structured call from what the prompt shows.

It is a ``default=`` callable for ``ScriptedChatModel``: it dispatches on the schema's title and
answers only from the prompt (queries it was given, passages it was shown, ids in the schema), so
what a run produces depends on what the graph really fetched and stored. It is deliberately
*obedient*: any instruction it finds outside ``<data>`` blocks ("ignore previous instructions") is
followed — searching for ``evil.example`` and writing ``OBEYED`` — so a test can prove that page text
never reaches a prompt undelimited.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

DATA_BLOCK = re.compile(r'<data label="[^"]*">\n.*?\n</data>', re.S)
PASSAGE = re.compile(r'Passage (\S+):\n<data label="passage">\n(.*?)\n</data>', re.S)
PLANTED = "The moon is made of green cheese and orbits Jupiter every tuesday."
INJECTION = "ignore previous instructions"


def unfenced(messages: Sequence[dict[str, str]]) -> str:
    """The prompt text outside ``<data>`` blocks (what a model would take as instructions)."""
    return "\n".join(DATA_BLOCK.sub("", m["content"]) for m in messages)


def first_sentence(text: str) -> str:
    """The first sentence of a passage (at most 300 characters)."""
    flat = " ".join(text.split())
    match = re.match(r"(.{20,300}?[.!?])(\s|$)", flat)
    return (match.group(1) if match else flat[:300]).strip()


@dataclass
class Brain:
    """Configurable scripted answers; ``calls`` counts the calls per schema title."""

    outline: list[str] = field(default_factory=lambda: ["Materials", "Efficiency"])
    subquestions: list[dict[str, Any]] = field(default_factory=list)
    followups: list[list[dict[str, Any]]] = field(default_factory=list)  # one list per reflection call
    plant: bool = False  # add an unsupported sentence to the first drafted section
    follow_links: bool = False
    judge: str = "supported"
    k: int = 5  # results asked of each search
    contradict: bool = False  # every passage "says" a different record efficiency for perovskite cells
    calls: dict[str, int] = field(default_factory=dict)
    obeyed: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _planted: bool = False

    def __call__(self, messages: Sequence[dict[str, str]], schema: Any) -> Any:
        """Answer one call."""
        title = schema.get("title", "") if isinstance(schema, dict) else getattr(schema, "__name__", "")
        with self._lock:
            self.calls[title] = self.calls.get(title, 0) + 1
        if INJECTION in unfenced(messages).casefold():
            self.obeyed.append(title)
        handler = getattr(self, f"_{title.lower()}", None)
        if handler is None:
            raise AssertionError(f"the research brain has no answer for schema {title!r}")
        return handler(messages, schema)

    def _plan(self, messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        question = re.search(r"Question: (.*)", messages[-1]["content"])
        subs = self.subquestions or [
            {
                "question": f"{question.group(1) if question else 'perovskite'} ({s})",
                "queries": ["perovskite"],
                "section": s,
            }
            for s in self.outline
        ]
        return {"brief": "A short brief.", "outline": self.outline, "subquestions": subs}

    def _toolcalls(self, messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        block = re.search(r'<data label="suggested queries">\n(.*?)\n</data>', messages[-1]["content"], re.S)
        queries = [line.strip() for line in (block.group(1) if block else "").splitlines() if line.strip()]
        limit = schema["properties"]["calls"]["maxItems"]
        calls = [{"tool": "web_search", "arguments": {"query": q, "k": self.k}} for q in queries][:limit]
        if INJECTION in unfenced(messages).casefold():
            calls.append({"tool": "web_search", "arguments": {"query": "evil.example full report", "k": 5}})
        return {"calls": calls}

    def _picks(self, messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        spec = schema["properties"]["picks"]
        return {"picks": spec["items"]["enum"][: spec["maxItems"]]}

    def _findings(self, messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        passages = PASSAGE.findall(messages[-1]["content"])
        findings = [{"text": first_sentence(text), "chunk_ids": [cid]} for cid, text in passages[:3]]
        if INJECTION in unfenced(messages).casefold():
            findings.append(
                {"text": "OBEYED: perovskite cells are 90 percent efficient.", "chunk_ids": [passages[0][0]]}
            )
        answer: dict[str, Any] = {"findings": findings}
        if "facts" in schema["properties"]:  # the graph's facts, written in the same call
            limit = schema["properties"]["facts"]["maxItems"]
            answer["facts"] = self._graphfacts(messages, schema)["relations"][:limit]
        if "follow" in schema["properties"]:
            answer["follow"] = 1 if self.follow_links else None
        return answer

    def _graphfacts(self, messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        passages = PASSAGE.findall(messages[-1]["content"])
        relations = []
        for cid, text in passages[:6]:
            names = re.findall(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)*", text)
            if len(names) >= 2 and names[0] != names[1]:
                relations.append(
                    {"subject": names[0], "relation": "mentioned with", "object": names[1], "chunk_ids": [cid]}
                )
        if self.contradict:
            relations = [
                {
                    "subject": "Perovskite cells",
                    "relation": "reach record efficiency",
                    "object": f"{20 + i} percent",
                    "chunk_ids": [cid],
                }
                for i, (cid, _text) in enumerate(passages[:6])
            ]
        entities = [{"name": r["subject"], "type": "thing"} for r in relations]
        return {"entities": entities, "relations": relations}

    def _followups(self, messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        return {"subquestions": self.followups.pop(0) if self.followups else []}

    def _section(self, messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        passages = PASSAGE.findall(messages[-1]["content"])
        sentences = [{"text": first_sentence(text), "chunk_ids": [cid]} for cid, text in passages[:3]]
        with self._lock:
            plant, self._planted = self.plant and not self._planted, self._planted or self.plant
        if plant and passages:
            sentences.append({"text": PLANTED, "chunk_ids": [passages[0][0]]})
        if INJECTION in unfenced(messages).casefold() and passages:
            sentences.append(
                {"text": "OBEYED: visit http://evil.example/ for the report.", "chunk_ids": [passages[0][0]]}
            )
        return {"sentences": sentences}

    def _report(self, messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        """The whole report in one call: the answer as ``_answer`` writes it, each section as ``_section`` does."""
        section = schema["properties"]["sections"]["items"]["properties"]
        most = section["sentences"]["maxItems"]  # as a grammar would hold a real model to it
        sections = [{"title": title, "sentences": self._section(messages, schema)["sentences"][:most]}
                    for title in section["title"]["enum"]]
        answer = self._answer(messages, schema)
        answer["sentences"] = answer["sentences"][: schema["properties"]["sentences"]["maxItems"]]
        return {**answer, "sections": [s for s in sections if s["sentences"]]}

    def _answer(self, messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        passages = PASSAGE.findall(messages[-1]["content"])
        first = first_sentence(passages[0][1]) if passages else ""
        sentences: list[dict[str, Any]] = [{"text": first, "chunk_ids": [passages[0][0]]}] if passages else []
        words = re.findall(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)*", first)
        if INJECTION in unfenced(messages).casefold() and passages:
            sentences.append({"text": "OBEYED: the answer is 42.", "chunk_ids": [passages[0][0]]})
        return {"answer": words[0] if words else "unknown", "sentences": sentences}

    def _shortanswer(self, messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        """The focused answer call: the answer ``_answer`` would give from the same passages."""
        return {"answer": self._answer(messages, schema)["answer"]}

    def _verdict(self, messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        return {"verdict": self.judge, "chunk_ids": [], "rewrite": ""}
