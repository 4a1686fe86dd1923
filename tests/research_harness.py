"""Real parts for research-graph tests and the pipeline benchmark, wired like ``app.py`` wires them.

A temporary Chroma store with the deterministic ``HashingEmbedder``, the real fetcher (allowed onto
127.0.0.1), a real search chain whose SearXNG backend is the loopback fixture web, the real tool
registry with the built-in tools, and a ``ModelPool`` over whichever chat model the test gives
(scripted or llama.cpp). Only the chat model is swapped, at its seam.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from agents.llm import ChatModel, ModelPool
from agents.run.budget import Limits
from agents.run.runner import Runner, RunOptions, RunParts
from tools.builtin import BuiltinTools
from tools.compose import build_registry
from tools.extract import extract_result
from tools.search.base import SearchBackend
from tools.search.chain import SearchChain
from tools.search.searxng import SearxngBackend
from tools.web.fetch import Fetcher, FetchOptions


def open_memory(path: Path) -> Any:
    """A Chroma store in ``path`` with the deterministic test embedder."""
    from memory.embeddings import HashingEmbedder
    from memory.store import Memory

    return Memory.open(path, embedder=HashingEmbedder())


def build_parts(
    home: Path, search_url: str, model: ChatModel, *, memory: Any = None, backend: SearchBackend | None = None
) -> RunParts:
    """Parts over the fixture web at ``search_url`` (a SearXNG-compatible base URL), or over ``backend``."""
    from memory.store import Filters

    memory = memory if memory is not None else open_memory(home / "chroma")
    fetcher = Fetcher(FetchOptions(allow=("127.0.0.1",), use_cache=False, retries=0, deadline_s=20.0))
    chain = SearchChain([backend or SearxngBackend(search_url, timeout_s=5.0)])
    builtins = BuiltinTools(search=chain.search, fetch=fetcher.fetch, extract=extract_result)
    registry = build_registry(builtins=builtins.functions(), plugin_load=[])
    models = ModelPool.from_models({}, default=model)
    return RunParts(
        models=models,
        memory=memory,
        fetcher=fetcher,
        registry=registry,
        extract=extract_result,
        filters=Filters,
        meta={"quarry_version": "test"},
    )


def every_article(web: Any) -> SearchBackend:
    """A search backend (the ``local`` backend's shape) that answers any query with the fixture articles."""
    from tests.fixture_pages import ARTICLES, article_path
    from tools.search.local import LocalBackend
    from tools.types import SearchResult

    def search(query: str, k: int) -> list[SearchResult]:
        return [
            SearchResult(
                title=a.title, url=web.url(article_path(a.slug)), snippet=a.summary, rank=i + 1, backend="local"
            )
            for i, a in enumerate(ARTICLES[:k])
        ]

    return LocalBackend(search)


def build_runner(home: Path, parts: RunParts) -> Runner:
    """A runner keeping its runs and checkpoints under ``home``."""
    return Runner(runs_dir=home / "runs", checkpoints_path=home / "checkpoints.sqlite", parts=lambda: parts)


def small_options(**overrides: Any) -> RunOptions:
    """Budgets that keep a test run short: one round, a few pages per agent."""
    values: dict[str, Any] = {
        "breadth": 3,
        "depth": 0,
        "max_pages": 12,
        "max_hops": 0,
        "max_minutes": 5.0,
        "read_per_agent": 3,
    }
    review = bool(overrides.pop("review", False))
    values.update(overrides)
    return RunOptions(limits=Limits(**values), review=review)


def child_main(argv: list[str]) -> int:
    """Entry point of the subprocess the SIGKILL test starts: ``HOME SEARCH_URL QUESTION RUN_ID``."""
    from agents.llm.testing import ScriptedChatModel
    from tests.research_brain import Brain

    home, search_url, question, run_id = Path(argv[0]), argv[1], argv[2], argv[3]
    brain = Brain(subquestions=resume_subquestions())
    parts = build_parts(home, search_url, ScriptedChatModel(default=brain))
    runner = build_runner(home, parts)
    for _event in runner.stream(question, small_options(max_pages=20, read_per_agent=5), run_id=run_id):
        pass
    return 0


def resume_subquestions() -> list[dict[str, Any]]:
    """The plan of the SIGKILL test: three sub-questions with distinct queries."""
    return [
        {
            "question": "What is the band gap of perovskite absorbers?",
            "queries": ["perovskite band gap"],
            "section": "Materials",
        },
        {
            "question": "How stable are perovskite cells?",
            "queries": ["perovskite stability moisture"],
            "section": "Materials",
        },
        {
            "question": "How efficient are perovskite cells?",
            "queries": ["perovskite efficiency record"],
            "section": "Efficiency",
        },
    ]


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
