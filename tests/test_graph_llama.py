"""The research graph through the real llama.cpp backend on a tiny random-weight GGUF.

The model writes nonsense, but every answer is grammar-constrained to its schema, so the run must
finish within its budgets, every id the drafter cites must be a chunk of a page the run fetched, and
whatever survives verification must resolve too. Answers are kept short (``text_chars``) so the test
stays quick on a CPU.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agents.llm.llama import LlamaChatModel
from tests.gguf_factory import write_tiny_gguf
from tests.research_harness import build_parts, build_runner, every_article, small_options


def test_random_weight_model_finishes_within_budget_and_cites_only_fetched_chunks(
    tmp_path: Path, fixture_web: Any
) -> None:
    gguf = write_tiny_gguf(tmp_path / "tiny-32k.gguf", n_ctx=32768)
    model = LlamaChatModel(str(gguf), models_dir=tmp_path / "models", n_ctx=32768, max_tokens=768, n_gpu_layers=0)
    # The model's queries are nonsense, so the search backend answers every query with the fixture
    # articles; fetching, extraction, memory and citation are all real.
    parts = build_parts(tmp_path, fixture_web.base_url, model, backend=every_article(fixture_web))
    runner = build_runner(tmp_path, parts)
    options = small_options(
        breadth=1,
        max_pages=2,
        read_per_agent=2,
        max_tool_calls=1,
        text_chars=24,
        max_sections=1,
        max_items=1,
        kg_batches=1,
        max_minutes=5.0,
    )
    try:
        events = list(runner.stream("How do perovskite solar cells work?", options))
    finally:
        runner.close()
        model.close()
    assert events[-1]["type"] == "run_finished", events[-1]
    fetched = [e for e in events if e["type"] == "page" and e["status"] == "fetched"]
    assert 1 <= len(fetched) <= 2  # within the page budget
    memory = parts.memory
    own_chunks = {c.id for e in fetched for c in memory.chunks_of(e["source_id"])}
    drafted = [i for e in events if e["type"] == "section_drafted" for i in e["chunk_ids"]]
    found = [i for e in events if e["type"] == "finding" for i in e["chunk_ids"]]
    assert drafted, "the drafter cited nothing"  # the schema makes it cite at least one given passage
    assert set(drafted) | set(found) <= own_chunks
    report = json.loads((tmp_path / "runs" / events[-1]["run_id"] / "report.json").read_text())
    cited = [c["chunk_id"] for s in report["sections"] for sent in s["sentences"] for c in sent["citations"]]
    assert set(cited) <= own_chunks
    assert report["verification"]["checked"] >= len(cited)
    manifest = json.loads((tmp_path / "runs" / events[-1]["run_id"] / "manifest.json").read_text())
    assert manifest["pages_fetched"] <= 2
