"""The real app for CLI and API tests, with only its chat model scripted.

``ScriptedApp`` is ``app.App`` whose ``runner()`` is built from the research-graph test parts
(``tests.research_harness``: temporary Chroma store with the hashing embedder, real fetcher allowed
onto the loopback fixture web, real SearXNG-compatible search over it, real tool registry, real
LangGraph runner with the SQLite checkpointer) around a ``ScriptedChatModel`` answering from
``tests.research_brain.Brain``. Everything after the model seam is the product's own code.

Run as a script it is the child process of the Ctrl-C test:
``python -m tests.cli_harness SEARCH_URL -- research ...`` (settings from ``QUARRY_*``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import app as quarry
from agents.errors import LLMConnectionError
from agents.llm.testing import ScriptedChatModel
from agents.settings import Settings
from tests.research_brain import Brain
from tests.research_harness import build_parts, build_runner, resume_subquestions

HOSTILE_TITLE = 'Perovskite <script>alert("owned")</script> guide'
HOSTILE_PAGE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'>"
    "<title>Perovskite &lt;script&gt;alert(\"owned\")&lt;/script&gt; guide</title></head><body><article>"
    "<h1>Perovskite &lt;script&gt;alert(\"owned\")&lt;/script&gt; guide</h1>"
    "<p>Perovskite band gap tuning lets perovskite absorbers reach a band gap of 1.6 eV, which suits "
    "tandem solar cells made with silicon.</p>"
    "<p>Perovskite band gap values between 1.5 and 1.7 eV are typical for lead halide perovskite absorbers "
    "<img src=x onerror=alert(1)> in laboratory cells.</p>"
    "<script>document.title='pwned'</script></article></body></html>"
)


class FailingBrain(Brain):
    """The research brain, except that its server is unreachable for a question containing FAIL."""

    def __call__(self, messages: Any, schema: Any) -> Any:
        """Answer, or fail like a model server that went away."""
        if "FAIL" in messages[-1]["content"]:
            raise LLMConnectionError("The model server at http://127.0.0.1:9/v1 cannot be reached; start it.")
        return super().__call__(messages, schema)


@dataclass
class ScriptedApp(quarry.App):
    """``app.App`` whose runner uses the scripted brain over the fixture web at ``search_url``."""

    search_url: str = ""
    brain: Brain = field(default_factory=lambda: Brain(subquestions=resume_subquestions()))

    def runner(self) -> Any:
        """The real ``agents.run.runner.Runner`` over real parts; only the chat model is scripted."""
        if "runner" not in self._parts:
            home = self.settings.home
            parts = build_parts(home, self.search_url, ScriptedChatModel(default=self.brain))
            self._parts["runner"] = build_runner(home, parts)
        return self._parts["runner"]


def scripted_app(home: Path, search_url: str, brain: Brain | None = None) -> ScriptedApp:
    """A scripted app whose data directory is ``home``."""
    app = ScriptedApp(settings=Settings(home=home), search_url=search_url)
    if brain is not None:
        app.brain = brain
    return app


def real_app_env(model_url: str, web_url: str) -> dict[str, str]:
    """``QUARRY_*`` settings for the unmodified app: chat and embeddings from a scripted
    OpenAI-compatible server (``tests.scripted_openai``), search and pages from the fixture web."""
    return {
        "QUARRY_LLM__BACKEND": "openai", "QUARRY_LLM__BASE_URL": model_url, "QUARRY_LLM__MODEL": "scripted",
        "QUARRY_LLM__MAX_RETRIES": "0", "QUARRY_MEMORY__EMBEDDING_BACKEND": "openai",
        "QUARRY_MEMORY__EMBEDDING_BASE_URL": model_url, "QUARRY_MEMORY__EMBEDDING_MODEL": "hashing",
        "QUARRY_SEARCH__BACKENDS": '["searxng"]', "QUARRY_SEARCH__SEARXNG_URL": web_url,
        "QUARRY_SEARCH__MIN_INTERVAL_S": "0", "QUARRY_FETCH__ALLOW": '["127.0.0.1"]',
        "QUARRY_FETCH__USE_CACHE": "false", "QUARRY_FETCH__RETRIES": "0",
    }


def small_budget() -> list[str]:
    """CLI flags keeping a test run short."""
    return ["--depth", "0", "--breadth", "3", "--max-pages", "12", "--max-minutes", "5"]


def main(argv: list[str]) -> int:
    """Child entry point: ``SEARCH_URL -- ARGV...``; runs ``app.main`` on a scripted app."""
    search_url, rest = argv[0], argv[argv.index("--") + 1:]
    settings = quarry.build_app().settings
    return quarry.main(rest, app=ScriptedApp(settings=settings, search_url=search_url))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
