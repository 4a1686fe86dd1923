"""Quarry's composition root and command line.

``app.py`` wires and nothing else: it reads the settings once, builds the parts (chat models,
memory, tools, the compiled graph) lazily on first use, and dispatches a subcommand. Each
subcommand lives in ``ui/cli/commands/<name>.py`` with ``HELP``, ``add_arguments(parser)`` and
``run(args, app) -> int``; the browser UI builds the same ``App`` through ``build_app``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from agents import __version__
from agents.errors import AgentError
from agents.settings import Settings, SettingsError, load_settings
from memory.errors import MemoryStoreError
from tools.errors import ToolError

if TYPE_CHECKING:
    from agents.llm import ModelPool
    from agents.run.runner import Runner, RunParts
    from memory.store import Memory
    from tools.registry import ToolRegistry
    from tools.search import SearchChain
    from tools.types import SearchResult
    from tools.web.fetch import Fetcher
    from ui.api import ResearchResult
    from ui.followup import Followup


# Subcommands, in the order `--help` lists them: module ui/cli/commands/<name>.py each.
COMMANDS: tuple[str, ...] = (
    "research", "eval", "doctor", "fetch", "tools", "runs", "ui", "memory", "index", "cache", "ask", "mcp",
)

USER_ERRORS: tuple[type[Exception], ...] = (AgentError, ToolError, MemoryStoreError, SettingsError)


@dataclass
class App:
    """The application's parts, built once from one settings object and on first use."""

    settings: Settings
    _parts: dict[str, Any] = field(default_factory=dict, repr=False)
    _borrowed: set[str] = field(default_factory=set, repr=False)  # parts another app built and closes

    def sharing(self, settings: Settings, *parts: str) -> App:
        """A new app over ``settings`` that reuses this app's ``parts`` (built here first), e.g. the loaded models.

        Each named part ("models", "embedder", "fetcher", "search", "registry") is built on this app if
        it was not yet, then lent: the new app never closes it. Everything else is built afresh.
        """
        builders = {"models": self.models, "embedder": self.embedder, "fetcher": self.fetcher,
                    "search": self.search, "registry": self.registry}
        lent = {name: builders[name]() for name in parts}
        return App(settings=settings, _parts=dict(lent), _borrowed=set(lent))

    def fetcher(self) -> Fetcher:
        """The shared web fetcher (built once): ``settings.fetch``, HTTP cache under the data directory."""
        if "fetcher" not in self._parts:
            from tools.web.fetch import Fetcher, FetchOptions

            options = FetchOptions.from_mapping(
                self.settings.fetch.model_dump(), cache_dir=self.settings.http_cache_dir
            )
            self._parts["fetcher"] = Fetcher(options)
        fetcher: Fetcher = self._parts["fetcher"]
        return fetcher

    def registry(self) -> ToolRegistry:
        """The tool registry (built once): built-ins, entry-point plugins, and MCP servers per session."""
        if "registry" not in self._parts:
            from tools.builtin import BuiltinTools
            from tools.compose import build_registry
            from tools.extract import extract_result
            from tools.mcp_client import McpServerOptions

            builtins = BuiltinTools(
                search=lambda query, k: self.search().search(query, k),
                fetch=lambda url: self.fetcher().fetch(url),
                extract=extract_result,
            )
            servers = {
                name: McpServerOptions(s.command, tuple(s.args), dict(s.env), s.timeout_s)
                for name, s in self.settings.mcp_servers.items()
            }
            self._parts["registry"] = build_registry(
                builtins=builtins.functions(),
                plugin_load=self.settings.plugins.load,
                mcp_servers=servers,
                tool_timeout_s=self.settings.plugins.tool_timeout_s,
                log_dir=self.settings.home / "logs",
            )
        registry: ToolRegistry = self._parts["registry"]
        return registry

    def search(self) -> SearchChain:
        """The search chain (built once): ``settings.search`` backends in order, keys from the environment."""
        if "search" not in self._parts:
            import os

            from tools.search import LocalBackend, SearchOptions, build_search

            s = self.settings.search
            options = SearchOptions.from_mapping(
                s.model_dump(),
                tavily_api_key=os.environ.get(s.tavily_key_env),
                brave_api_key=os.environ.get(s.brave_key_env),
            )
            local = LocalBackend(self._local_search) if "local" in s.backends else None
            self._parts["search"] = build_search(options, local)
        chain: SearchChain = self._parts["search"]
        return chain

    def memory(self, *, reindex: bool = False) -> Memory:
        """The shared memory store (built once): Chroma in the data directory, or the configured server.

        ``reindex=True`` first re-embeds the whole store with the configured embedding model.
        """
        if reindex and "memory" in self._parts:
            self._parts.pop("memory").close()
        if "memory" not in self._parts:
            from memory.store import Memory, MemoryOptions

            m = self.settings.memory
            self._parts["memory"] = (Memory.reindex if reindex else Memory.open)(
                None if m.chroma_host else self.settings.chroma_dir,
                host=m.chroma_host,
                port=m.chroma_port,
                embedder=self.embedder(),
                options=MemoryOptions(chunk_tokens=m.chunk_tokens, chunk_overlap=m.chunk_overlap),
            )
        memory: Memory = self._parts["memory"]
        return memory

    def embedder(self) -> Any:
        """The embedding function memory uses (built once; a GGUF is downloaded once into the models folder)."""
        if "embedder" not in self._parts:
            from agents.llm.hub import resolve_model
            from memory.embeddings import build_embedder

            m = self.settings.memory
            model = m.embedding_model
            if m.embedding_backend == "llama":  # download once into the models folder, like the chat model
                model = str(resolve_model(model, self.settings.models_dir, endpoint=self.settings.llm.hf_endpoint,
                                          setting="memory.embedding_model"))
            self._parts["embedder"] = build_embedder(
                m.embedding_backend,
                model,
                cache_dir=self.settings.models_dir,
                base_url=m.embedding_base_url,
                api_key_env=self.settings.llm.api_key_env,
                n_gpu_layers=self.settings.llm.n_gpu_layers,
                onnx_url=m.onnx_url,
                onnx_sha256=m.onnx_sha256,
            )
        return self._parts["embedder"]

    def runner(self) -> Runner:
        """The research runner (built once): runs and checkpoints in the data directory; parts on first run."""
        if "runner" not in self._parts:
            from agents.run.runner import Runner

            self._parts["runner"] = Runner(
                runs_dir=self.settings.runs_dir, checkpoints_path=self.settings.checkpoints_path, parts=self._run_parts
            )
        runner: Runner = self._parts["runner"]
        return runner

    def models(self) -> ModelPool:
        """The shared chat models, one per distinct model, each role's usage counted (built once)."""
        if "models" not in self._parts:
            from agents.llm import ModelPool

            self._parts["models"] = ModelPool.from_settings(self.settings)
        pool: ModelPool = self._parts["models"]
        return pool

    def _run_parts(self) -> RunParts:
        """What a research run uses: the role models, memory, fetcher, tools (``agents.run.runner.RunParts``)."""
        from agents.run.runner import RunParts
        from memory.store import Filters
        from tools.extract import extract_result

        meta = {"quarry_version": __version__, "settings": self.settings.model_dump(mode="json")}
        return RunParts(
            models=self.models(), memory=self.memory(), fetcher=self.fetcher(), registry=self.registry(),
            extract=extract_result, filters=Filters, freshness_days=self.settings.memory.freshness_days, meta=meta,
        )

    def _local_search(self, query: str, k: int) -> list[SearchResult]:
        """The user's own documents from memory, as search results (the ``local`` backend)."""
        from memory.store import Filters
        from tools.types import SearchResult

        memory = self.memory()
        hits = memory.search(query, k=k, filters=Filters(kind="local"))
        return [
            SearchResult(title=h.source.title, url=h.source.url, snippet=h.chunk.text[:300], rank=i, backend="local")
            for i, h in enumerate(hits, start=1)
        ]

    def close(self) -> None:
        """Release what the parts hold (model memory, clients, subprocesses); lent parts stay open."""
        for name, part in reversed(list(self._parts.items())):
            closer = getattr(part, "close", None)
            if callable(closer) and name not in self._borrowed:
                closer()
        self._parts.clear()
        self._borrowed.clear()


def build_app(settings: Settings | None = None, **overrides: Any) -> App:
    """Build the application from settings (read once here when not given)."""
    return App(settings=settings if settings is not None else load_settings(**overrides))


def research(question: str = "", **options: Any) -> ResearchResult:
    """Python API: research ``question`` and return its report (README, "Python API"; ``ui.api``)."""
    from ui.api import research_with

    return research_with(build_app, question, **options)


def ask(run_id: str, question: str, **options: Any) -> Followup:
    """Python API: a follow-up question on a finished run (README, "Follow-up questions"; ``ui.api.ask_with``)."""
    from ui.api import ask_with

    return ask_with(build_app, run_id, question, **options)


def _command(name: str) -> ModuleType:
    return importlib.import_module(f"ui.cli.commands.{name.replace('-', '_')}")


def build_parser() -> argparse.ArgumentParser:
    """The command line: one subparser per module in ``COMMANDS``."""
    parser = argparse.ArgumentParser(
        prog="quarry",
        description="Quarry: local-first deep research with verified citations.",
    )
    parser.add_argument("--version", action="version", version=f"quarry {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = _command(name)
        doc = (module.__doc__ or "").strip()
        cmd = sub.add_parser(name, help=module.HELP, description=doc or module.HELP)
        module.add_arguments(cmd)
        cmd.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None, app: App | None = None) -> int:
    """Parse the command line, build the app (unless given) and run one subcommand; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        app = app if app is not None else build_app()
        return int(args._module.run(args, app))
    except USER_ERRORS as err:
        print(f"quarry: {err}", file=sys.stderr)
        return 2 if isinstance(err, SettingsError) else 1
    except KeyboardInterrupt:
        print("quarry: interrupted.", file=sys.stderr)
        return 130
    finally:
        if app is not None:
            app.close()


if __name__ == "__main__":
    sys.exit(main())
