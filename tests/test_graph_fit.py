"""A 2,048-token-context GGUF over a local corpus of many pages completes every phase.

The regression: a random-weight model with a small context, researching a folder of a dozen
Markdown pages (``--search local --corpus DIR``), failed in the draft phase because the drafter's
prompt (a dozen passages and findings) held more tokens than the context. Every prompt a node
builds is now packed to fit (``agents.prompt_fit``), so the run completes: plan, search, graph,
draft, verify and publish, through the real llama.cpp backend, tokenizer and chat template.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.llm.llama import LlamaChatModel
from agents.llm.structured import Generation, Message
from memory.store import Filters
from tests.gguf_factory import write_tiny_gguf
from tests.research_harness import build_parts, build_runner, open_memory, small_options
from tools.search.local import LocalBackend
from tools.types import SearchResult
from ui.corpus import index_directory

N_CTX = 2048
MAX_TOKENS = 512
TOPICS = [
    "perovskite solar cells", "silicon wafers", "tandem cells", "thin film cadmium telluride",
    "solar inverters", "battery storage", "grid integration", "module recycling", "panel degradation",
    "concentrated solar power", "floating solar farms", "agrivoltaics", "solar tracking systems",
    "rooftop installations",
]  # fmt: skip
WORDS = [
    "efficiency", "stability", "cost", "lifetime", "voltage", "current", "layer", "absorber", "electrode",
    "interface", "moisture", "temperature", "record", "laboratory", "module", "market", "deployment",
    "research", "material", "process", "yield",
]  # fmt: skip


def write_corpus(folder: Path, pages: int = 14, words_per_page: int = 400) -> Path:
    """``pages`` Markdown pages of about ``words_per_page`` words each, one topic a page."""
    folder.mkdir(parents=True)
    rng = random.Random(7)
    for n, topic in enumerate(TOPICS[:pages]):
        paragraphs, count = [], 0
        while count < words_per_page:
            sentences = []
            for _ in range(5):
                a, b, c, d, e, f = rng.sample(WORDS, 6)
                share, year = rng.randint(10, 99), rng.randint(1990, 2024)
                sentences.append(f"The {topic} study reports {a} and {b} near {share} percent, with {c} {d} "
                                 f"shaping {e} {f} in {year}.")
            paragraphs.append(" ".join(sentences))
            count += sum(len(s.split()) for s in sentences)
        (folder / f"{n:02d}-{topic.replace(' ', '-')}.md").write_text(
            f"# {topic.title()}\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8"
        )
    return folder


class RecordingLlama(LlamaChatModel):
    """The real llama.cpp backend, remembering the prompt size of every call it was asked to make."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prompt_sizes: list[int] = []

    def _generate(self, messages: Sequence[Message], json_schema: dict[str, Any] | None, max_tokens: int) -> Generation:
        self.prompt_sizes.append(self.count_tokens(messages))
        return super()._generate(messages, json_schema, max_tokens)


def test_a_2048_context_gguf_over_a_corpus_of_many_pages_completes_every_phase(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    memory = open_memory(tmp_path / "chroma")
    indexed = index_directory(memory, corpus)
    assert len(indexed.added) == len(TOPICS)

    def local_search(query: str, k: int) -> list[SearchResult]:  # what app.py gives the ``local`` backend
        hits = memory.search(query, k=k, filters=Filters(kind="local"))
        return [
            SearchResult(title=h.source.title, url=h.source.url, snippet=h.chunk.text[:300], rank=i, backend="local")
            for i, h in enumerate(hits, start=1)
        ]

    gguf = write_tiny_gguf(tmp_path / "tiny-2k.gguf", n_ctx=N_CTX)
    model = RecordingLlama(
        str(gguf), models_dir=tmp_path / "models", n_ctx=N_CTX, max_tokens=MAX_TOKENS, n_gpu_layers=0
    )
    parts = build_parts(tmp_path, "http://127.0.0.1:9", model, memory=memory, backend=LocalBackend(local_search))
    runner = build_runner(tmp_path, parts)
    options = small_options(
        breadth=3, depth=1, max_pages=14, read_per_agent=4, max_tool_calls=1, text_chars=40, max_sections=2,
        max_items=2, kg_batches=1, max_minutes=8.0,
    )  # fmt: skip
    try:
        events = list(runner.stream("How do perovskite solar cells compare with silicon and tandem cells?", options))
    finally:
        runner.close()
        model.close()

    final = events[-1]
    assert final["type"] == "run_finished", final
    assert final["status"] in ("complete", "budget_exhausted"), final
    phases = {e["phase"] for e in events if e["type"] == "phase"}
    assert {"plan", "graph", "draft", "verify", "publish"} <= phases
    assert any(e["type"] == "search_started" for e in events)
    read = {e["url"] for e in events if e["type"] == "page" and e["status"] in ("memory", "fetched")}
    assert read, "no page of the corpus was read"  # one page alone holds more text than the prompt budget
    overflow = [e for e in events if "context holds" in str(e.get("error", "")) or e.get("prompt")]
    assert not overflow, [o.get("error") for o in overflow]  # no prompt overflowed, none too big to build
    assert model.prompt_sizes and max(model.prompt_sizes) <= N_CTX - MAX_TOKENS
    assert max(model.prompt_sizes) > (N_CTX - MAX_TOKENS) * 3 // 4  # more material than fits: packed to the brim
    folder = tmp_path / "runs" / final["run_id"]
    assert (folder / "report.md").read_text(encoding="utf-8").startswith("# ")
    assert (folder / "report.json").is_file()


def test_prompts_too_big_for_any_context_are_the_floor_with_an_event_never_a_crash(
    tmp_path: Path, fixture_web: Any
) -> None:
    from agents.llm.testing import ScriptedChatModel, stub_answer
    from tests.research_harness import every_article

    model = ScriptedChatModel(default=stub_answer, max_tokens=64, context_tokens=200)  # no fixed part fits
    parts = build_parts(tmp_path, fixture_web.base_url, model, backend=every_article(fixture_web))
    runner = build_runner(tmp_path, parts)
    try:
        events = list(runner.stream("How do perovskite solar cells work?", small_options(breadth=1, max_pages=3)))
    finally:
        runner.close()
    assert events[-1]["type"] == "run_finished" and events[-1]["status"] in ("complete", "budget_exhausted")
    unfit = {e["prompt"] for e in events if e["type"] == "model_error" and e.get("prompt")}
    assert {"planner", "searcher_findings"} <= unfit and {"drafter", "report"} & unfit  # no tool-choice call here
    assert not model.calls  # nothing that could not fit was sent
    assert any(e["type"] == "finding" for e in events)  # the floors did the work
    assert (tmp_path / "runs" / events[-1]["run_id"] / "report.md").is_file()
