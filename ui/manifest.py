"""Complete a run's ``manifest.json`` so it is enough to audit or repeat the run.

``agents/publish.py`` writes what the graph knows (queries, every URL with time, status and content
hash, tokens per role, phases, limits, budget outcome). ``complete_manifest`` adds, without
overwriting anything already there: the Quarry version, the settings (secrets are never in
settings, only the *names* of their variables), each role's model with its file's size and
SHA-256, the search backends, and a ``budget_use`` table (used / limit per budget). Model hashes
are cached by (path, size, mtime) under the data directory, so a multi-GB GGUF is hashed once.
``cost`` is rewritten each time, from the run folder's ``events.jsonl`` (``agents.run.cost``): wall
time, model calls and tokens per phase and per role, summed over every session of a resumed run,
each session also listed; and ``mode`` says which preset the run used and why.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agents import __version__
from agents.llm.hub import cached_path
from agents.publish import write_json
from agents.run import cost as run_cost
from agents.settings import ROLES, Settings
from memory.ids import file_sha256 as hash_file

QUARRY_VERSION = __version__


def file_sha256(path: Path, cache_file: Path | None = None) -> str:
    """SHA-256 of a file, remembered in ``cache_file`` by path, size and modification time."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    cache: dict[str, str] = {}
    if cache_file is not None and cache_file.is_file():
        try:
            cache = json.loads(cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cache = {}
    if key in cache:
        return cache[key]
    cache[key] = hash_file(path)
    if cache_file is not None:
        write_json(cache_file, cache)
    return cache[key]


def model_record(settings: Settings, role: str) -> dict[str, Any]:
    """One role's backend and model; for a local GGUF also its path, size and SHA-256."""
    spec = settings.model_for(role)  # type: ignore[arg-type]
    record: dict[str, Any] = {"backend": spec.backend, "model": spec.model, "base_url": spec.base_url}
    if spec.backend == "llama" and spec.model:
        path = cached_path(spec.model, settings.models_dir)
        if path is not None:
            record.update(path=str(path), size=path.stat().st_size,
                          sha256=file_sha256(path, settings.cache_dir / "model-hashes.json"))
    return record


def budget_use(manifest: dict[str, Any]) -> dict[str, Any]:
    """Used and limit per budget, from what publish recorded."""
    limits = manifest.get("limits") or manifest.get("options", {}).get("limits") or {}
    tokens = manifest.get("tokens") or {}
    used_tokens = sum(int(u.get("prompt_tokens", 0)) + int(u.get("completion_tokens", 0))
                      for u in tokens.values() if isinstance(u, dict))
    minutes = float(manifest.get("session_elapsed_s") or sum((manifest.get("phases") or {}).values())) / 60
    return {
        "pages": {"used": manifest.get("pages_fetched", 0), "limit": limits.get("max_pages")},
        "tokens": {"used": used_tokens, "limit": limits.get("max_tokens")},
        "minutes": {"used": round(minutes, 2), "limit": limits.get("max_minutes")},
        "rounds": {"used": manifest.get("rounds", 0), "limit": limits.get("depth")},
        "hops": {"used": manifest.get("hops_used", 0), "limit": limits.get("max_hops")},
        "ran_out": manifest.get("budget_out", []),
    }


def cost_of(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """The run's cost over all its sessions, from ``events.jsonl`` (per-role ``tokens`` where no call was logged)."""
    usage = manifest.get("tokens")
    roles = {k: v for k, v in usage.items() if isinstance(v, dict)} if isinstance(usage, dict) else {}
    return run_cost.with_usage(run_cost.run_cost(run_cost.read_events(folder / "events.jsonl")), roles)


def mode_of(manifest: dict[str, Any]) -> dict[str, Any]:
    """The preset the run used and why (from its limits)."""
    limits = manifest.get("limits") or manifest.get("options", {}).get("limits") or {}
    return {"name": limits.get("mode") or None, "reason": limits.get("mode_reason") or ""}


def complete_manifest(folder: Path, settings: Settings, version: str) -> dict[str, Any]:
    """Add the version, settings, models with hashes, backends and budget use to ``manifest.json``."""
    path = folder / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    data.setdefault("quarry_version", version)
    data.setdefault("settings", settings.model_dump(mode="json"))
    data.setdefault("models", {role: model_record(settings, role) for role in ROLES})
    data.setdefault("search_backends", list(settings.search.backends))
    data["budget_use"] = budget_use(data)
    data["cost"] = cost_of(folder, data)
    data["mode"] = mode_of(data)
    write_json(path, data)
    return data
