"""Run an evaluation: every question of a data set researched over its loopback test web, then scored.

``run_eval(app, items, options, on_row)`` serves the items' pages with ``ui.eval.web.EvalWeb``, points
a copy of the app's settings at it (the ``searxng`` backend on that web, only its loopback host
allowed through the fetch guard, search rate limit off; nothing else changes and nothing is written
to the user's settings), and researches each question through the same ``ui.runner.execute`` as
the CLI. Each configuration — the configured model, and with ``baseline="floor"`` the same run
with no model at all (``llm.backend = "none"``) — keeps one loaded model (or none) for every
question; each question gets a data directory of its own under ``<out>/runs/<config>/<n>/`` (its
memory, checkpoints and run folder), so nothing from earlier runs or other questions leaks in,
unless ``shared_memory`` gives each configuration one memory for all its questions.

Every configuration runs in one mode (``--mode``, else ``budget.mode``, else the one that fits this
machine and the configured model: ``agents.run.modes``), chosen once, so the floor gets the same budgets
as the model. Rows are scored from the run folders (``ui.eval.score``) as each run ends, each with its
cost (model calls, tokens, per-phase and per-role time from the manifest's ``cost``) and each summary with
the mean cost; ``eval.json`` is rewritten after every question, so a killed or interrupted eval keeps
everything scored so far.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents.publish import write_json
from agents.run import cost as run_cost
from agents.run.modes import Choice, limits_for, resolve
from agents.settings import Settings
from ui.eval.dataset import Item
from ui.eval.score import score_run, summarize
from ui.eval.web import EvalWeb
from ui.runner import Budget, ResearchRequest, execute

if TYPE_CHECKING:
    from app import App

FLOOR = "floor"
EVAL_FORMATS = ("md", "json")


@dataclass(frozen=True)
class EvalOptions:
    """What one evaluation does: budgets per run, the baseline, where results go."""

    out: Path
    dataset: str = ""
    budget: Budget = field(default_factory=Budget)
    baseline: str | None = None  # "floor": also run every question without a model
    shared_memory: bool = False
    mode: str | None = None  # quick, standard, deep (None: budget.mode, else what fits the machine)


@dataclass
class ConfigRun:
    """One configuration under evaluation: its name, its app (one model for all questions), its rows."""

    name: str
    app: App
    rows: list[dict[str, Any]] = field(default_factory=list)
    per_question: bool = True  # a data directory per question (else one memory for all)
    choice: Choice | None = None  # the mode every run of the eval uses (chosen once, for the configured model)


def eval_settings(settings: Settings, web: EvalWeb, home: Path, *, no_model: bool = False) -> Settings:
    """``settings`` pointed at the test web and ``home``: searxng on it, only its host allowed; nothing else
    (no plugin or MCP server: their tools would reach past the test web and cost every agent a tool-choice call)."""
    search = settings.search.model_copy(
        update={"backends": ["searxng"], "searxng_url": web.base_url, "min_interval_s": 0.0}
    )
    fetch = settings.fetch.model_copy(update={"allow": [web.host_port.rsplit(":", 1)[0]]})
    plugins = settings.plugins.model_copy(update={"load": []})
    update: dict[str, Any] = {"home": home, "search": search, "fetch": fetch, "plugins": plugins, "mcp_servers": {}}
    if no_model:
        update["llm"] = settings.llm.model_copy(update={"backend": "none", "roles": {}})
    return settings.model_copy(update=update)


def config_label(settings: Settings) -> str:
    """How a configuration is named in tables: the model file's name, or the served model."""
    llm = settings.llm
    if llm.backend == "none":
        return FLOOR
    name = Path(llm.model).name if llm.backend == "llama" else llm.model
    return f"model: {name}"


def machine() -> dict[str, Any]:
    """The machine the eval ran on (benchmarks and evals say so)."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "load_avg_1m": round(load, 2) if load is not None else None}


def mean_row_cost(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The mean cost of the rows: calls, tokens, model seconds, per phase and per role."""
    return run_cost.mean_cost([{**r.get("cost", {}), **{k: r.get(k, 0) for k in
                                                          ("calls", "prompt_tokens", "completion_tokens", "model_s",
                                                           "wall_s")}} for r in rows])


def build_configs(app: App, web: EvalWeb, options: EvalOptions) -> list[ConfigRun]:
    """The configurations to run: the floor first (when asked), then the configured model, all in one mode."""
    configs: list[ConfigRun] = []
    choice = resolve(app.settings, options.mode)
    per_question = not options.shared_memory
    if options.baseline == FLOOR and app.settings.llm.backend != "none":
        floor = eval_settings(app.settings, web, options.out / "runs" / FLOOR, no_model=True)
        configs.append(ConfigRun(FLOOR, app.sharing(floor, "embedder"), per_question=per_question, choice=choice))
    own = eval_settings(app.settings, web, options.out / "runs" / _slug(config_label(app.settings)))
    configs.append(ConfigRun(config_label(app.settings), app.sharing(own, "models", "embedder"),
                             per_question=per_question, choice=choice))
    return configs


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name).strip("-")[:60] or "model"


@contextmanager
def question_app(config: ConfigRun, index: int) -> Iterator[App]:
    """The app one question runs in: a fresh data directory (memory, checkpoints, runs) unless memory is shared."""
    if not config.per_question:
        yield config.app
        return
    home = config.app.settings.home / f"{index:04d}"
    lent = ("models", "embedder") if config.name != FLOOR else ("embedder",)
    child = config.app.sharing(config.app.settings.model_copy(update={"home": home}), *lent)
    try:
        yield child
    finally:
        child.close()


def run_question(config: ConfigRun, item: Item, index: int, web: EvalWeb, options: EvalOptions) -> dict[str, Any]:
    """Research one question in one configuration and score its run folder."""
    with question_app(config, index) as app:
        limits = limits_for(app.settings, config.choice, mode=options.mode,
                            results_per_query=app.settings.search.results_per_query)
        request = ResearchRequest(question=item.question, formats=EVAL_FORMATS, budget=options.budget)
        started = time.monotonic()
        outcome = execute(app.runner(), request, lambda event: None, base=limits, settings=app.settings)
        wall = time.monotonic() - started
        row = score_run(outcome.folder, item, web, exit_code=outcome.exit_code, wall_s=wall)
    row.update(config=config.name, run_id=outcome.run_id, folder=str(outcome.folder), error=outcome.error or "")
    return row


def result_json(dataset: str, configs: Sequence[ConfigRun], settings: Settings, options: EvalOptions,
                started: float) -> dict[str, Any]:
    """The eval's result: per configuration its summary and rows, the machine and the settings that matter."""
    return {
        "dataset": dataset,
        "configs": {c.name: {"summary": {**summarize(c.rows), "cost": mean_row_cost(c.rows)}, "rows": c.rows}
                    for c in configs},
        "machine": machine(),
        "settings": {
            "llm": {"backend": settings.llm.backend, "model": settings.llm.model, "n_ctx": settings.llm.n_ctx},
            "embedding": {"backend": settings.memory.embedding_backend, "model": settings.memory.embedding_model},
            "budget": {k: v for k, v in vars(options.budget).items() if v is not None},
            "shared_memory": options.shared_memory,
            "mode": next(({"name": c.choice.mode, "max_minutes": c.choice.max_minutes, "reason": c.choice.reason}
                          for c in configs if c.choice is not None), None),
        },
        "wall_s": round(time.monotonic() - started, 1),
    }


def run_eval(
    app: App,
    items: Sequence[Item],
    options: EvalOptions,
    on_row: Callable[[int, dict[str, Any], dict[str, Any]], None] = lambda i, row, result: None,
) -> dict[str, Any]:
    """Evaluate every item in every configuration; returns (and keeps writing) the result JSON.

    ``on_row(i, row, result)`` is called after each scored run (for progress). ``eval.json`` in
    ``options.out`` is rewritten after every run; a ``KeyboardInterrupt`` propagates after that.
    """
    started = time.monotonic()
    options.out.mkdir(parents=True, exist_ok=True)
    with EvalWeb(items) as web:
        configs = build_configs(app, web, options)
        result: dict[str, Any] = {}
        try:
            for i, item in enumerate(items, start=1):
                for config in configs:
                    row = run_question(config, item, i, web, options)
                    config.rows.append(row)
                    result = result_json(options.dataset, configs, app.settings, options, started)
                    write_json(options.out / "eval.json", result)
                    on_row(i, row, result)
        finally:
            for config in configs:
                config.app.close()
        return result or result_json(options.dataset, configs, app.settings, options, started)

