"""What a run cost: wall time, model calls and tokens per phase and per role, over every session.

A run's ``events.jsonl`` holds every session's events (a resumed run appends to it), each session
opening with ``run_started`` or ``run_resumed``. ``run_cost(events)`` folds them into one record:
per session, per phase and per role the wall time, the model calls and their prompt and completion
tokens, summed over the sessions, each session also listed. A model call is attributed to the phase
it falls in, by its ``model_call`` event's place in the stream (the phase the run was in when the
call ended), not by its role; calls before any phase count under ``start``. A phase runs from its
``phase`` event (``search_started`` opens ``search``) to the next one, the report, the session's end
event or, for a killed session, its last event. Everything here is a pure function over dicts, so
the manifest, the ``--json`` result line, the CLI's last line and the eval read the same numbers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

OPENERS = ("run_started", "run_resumed")
CLOSERS = ("report", "run_finished", "run_paused", "run_failed")
COUNTS = ("calls", "prompt_tokens", "completion_tokens")


def read_events(path: Path) -> list[dict[str, Any]]:
    """The events of ``events.jsonl`` (a missing file is none; a torn or foreign line is skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            out.append(event)
    return out


def split_sessions(events: Iterable[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    """The events cut into sessions, each starting at ``run_started`` or ``run_resumed``."""
    sessions: list[list[Mapping[str, Any]]] = []
    for event in events:
        if event.get("type") in OPENERS or not sessions:
            sessions.append([])
        sessions[-1].append(event)
    return sessions


def _tally() -> dict[str, Any]:
    return {"seconds": 0.0, "calls": 0, "prompt_tokens": 0, "completion_tokens": 0}


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _count_call(tally: dict[str, Any], event: Mapping[str, Any], *, seconds: bool) -> None:
    tally["calls"] += 1
    tally["prompt_tokens"] += int(_num(event.get("prompt_tokens")))
    tally["completion_tokens"] += int(_num(event.get("completion_tokens")))
    if seconds:
        tally["seconds"] += _num(event.get("seconds"))


def _phase_of(event: Mapping[str, Any], current: str | None) -> str | None:
    """The phase ``event`` opens (None: it opens none)."""
    if event.get("type") == "phase" and event.get("phase"):
        return str(event["phase"])
    if event.get("type") == "search_started" and current != "search":
        return "search"
    return None


def session_cost(events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One session's cost: kind, status, wall time, totals, and the per-phase and per-role tallies."""
    phases: dict[str, dict[str, Any]] = {}
    roles: dict[str, dict[str, Any]] = {}
    current: tuple[str, float] | None = None
    stamps = [_num(e.get("ts")) for e in events if _num(e.get("ts"))]
    skipped = 0

    def close(now: float) -> None:
        if current is not None:
            phases.setdefault(current[0], _tally())["seconds"] += max(0.0, now - current[1])

    for event in events:
        now, kind = _num(event.get("ts")), event.get("type")
        opened = _phase_of(event, current[0] if current else None)
        if opened is not None or kind in CLOSERS:
            close(now)
            current = (opened, now) if opened is not None else None
        elif kind == "model_call":
            _count_call(phases.setdefault(current[0] if current else "start", _tally()), event, seconds=False)
            _count_call(roles.setdefault(str(event.get("role") or "model"), _tally()), event, seconds=True)
        elif kind == "budget_skip":
            skipped += 1
    close(stamps[-1] if stamps else 0.0)
    first = events[0] if events else {}
    last = events[-1] if events else {}
    return {
        "kind": "resumed" if first.get("type") == "run_resumed" else "started",
        "status": str(last.get("status") or "interrupted") if last.get("type") in CLOSERS[1:] else "interrupted",
        "wall_s": round(stamps[-1] - stamps[0], 2) if stamps else 0.0,
        **_totals(roles.values()),
        "skipped_calls": skipped,
        "phases": _rounded(phases),
        "roles": _rounded(roles),
    }


def _totals(tallies: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    out = {key: 0 for key in COUNTS}
    model_s = 0.0
    for tally in tallies:
        for key in COUNTS:
            out[key] += int(_num(tally.get(key)))
        model_s += _num(tally.get("seconds"))
    return {**out, "model_s": round(model_s, 2)}


def _rounded(tallies: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: {**t, "seconds": round(_num(t.get("seconds")), 2)} for name, t in tallies.items()}


def merge(tallies: Iterable[Mapping[str, Mapping[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per-name tallies summed (names in first-seen order; a missing ``seconds`` counts as 0)."""
    out: dict[str, dict[str, Any]] = {}
    for by_name in tallies:
        for name, tally in by_name.items():
            into = out.setdefault(name, _tally())
            into["seconds"] = round(into["seconds"] + _num(tally.get("seconds")), 2)
            for key in COUNTS:
                into[key] += int(_num(tally.get(key)))
    return out


def run_cost(events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The whole run's cost: totals, phases and roles summed over its sessions, and each session listed."""
    sessions = [session_cost(s) for s in split_sessions(events)]
    roles = merge(s["roles"] for s in sessions)
    return {
        "wall_s": round(sum(s["wall_s"] for s in sessions), 2),
        **_totals(roles.values()),
        "skipped_calls": sum(s["skipped_calls"] for s in sessions),
        "phases": merge(s["phases"] for s in sessions),
        "roles": roles,
        "sessions": sessions,
    }


def with_usage(cost: dict[str, Any], usage: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """``cost`` with per-role ``usage`` (``RunContext.session_usage()``) where its events logged no model call.

    A run whose events carry no ``model_call`` (an older run) still shows its calls and tokens per
    role; ``seconds`` may be absent from ``usage``.
    """
    used = {role: u for role, u in usage.items() if _num(u.get("prompt_tokens")) + _num(u.get("completion_tokens"))}
    if cost.get("calls") or not used:  # a call that used no tokens (no model: declined) is no model call
        return cost
    roles = merge([used])
    return {**cost, **_totals(roles.values()), "roles": roles}


def tokens(cost: Mapping[str, Any]) -> int:
    """Prompt and completion tokens together."""
    return int(_num(cost.get("prompt_tokens")) + _num(cost.get("completion_tokens")))


def _short_tokens(n: int) -> str:
    if n < 1000:
        return str(n)
    return f"{n / 1000:.1f}k" if n < 10_000 else f"{n / 1000:.0f}k"


def duration(seconds: float) -> str:
    """``42 s``, ``3 m 40 s``, ``1 h 5 m``."""
    s = round(max(seconds, 0.0))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} m {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} m"


def summary_line(cost: Mapping[str, Any]) -> str:
    """One line for the CLI: ``14 model calls, 19k tokens, 3 m 40 s`` (and the sessions, when resumed)."""
    calls = int(_num(cost.get("calls")))
    line = (f"{calls} model call{'' if calls == 1 else 's'}, {_short_tokens(tokens(cost))} tokens, "
            f"{duration(_num(cost.get('wall_s')))}")
    sessions = len(cost.get("sessions") or ())
    return f"{line} over {sessions} sessions" if sessions > 1 else line


def brief(cost: Mapping[str, Any]) -> dict[str, Any]:
    """The cost without its session list (for the ``--json`` result line and eval rows)."""
    return {k: v for k, v in cost.items() if k != "sessions"} | {"sessions": len(cost.get("sessions") or ())}


def mean_cost(costs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Means over runs of the totals and of each phase's and role's tallies (a run without one counts 0)."""
    if not costs:
        return {}
    n = len(costs)

    def mean(tallies: Iterable[Mapping[str, Any]]) -> dict[str, float]:
        keys = ("seconds", *COUNTS)
        sums = merge([{"x": t} for t in tallies]).get("x", _tally())
        return {k: round(_num(sums.get(k)) / n, 2) for k in keys}

    totals = {k: round(sum(_num(c.get(k)) for c in costs) / n, 2) for k in ("wall_s", "model_s", *COUNTS)}
    kinds = ("phases", "roles")
    names = {kind: list(dict.fromkeys(name for c in costs for name in c.get(kind) or {})) for kind in kinds}
    return {**totals,
            **{kind: {name: mean((c.get(kind) or {}).get(name) or {} for c in costs) for name in names[kind]}
               for kind in kinds}}
