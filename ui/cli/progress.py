"""Progress of a research run in the terminal, rendered from the fold in ``ui.progress``.

Four sinks render a ``ProgressState``: a live rich display (a terminal), a plain line-per-event log
(stdout is not a terminal), JSON lines (``--json``: one event object per line, nothing else on
stdout) and nothing (``--quiet``). Every sink is a callable taking one event, plus ``close()``.
Text from pages and models is shown as text only (rich markup is never interpreted in it).
"""

from __future__ import annotations

import json
import sys
from typing import Any, Literal, Protocol, TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ui.progress import PHASES, ProgressState, clock

Mode = Literal["auto", "rich", "plain", "json", "quiet"]


class Progress(Protocol):
    """A progress sink: called with each event, closed at the end."""

    def __call__(self, event: dict[str, Any]) -> None:
        """Show one event."""
        ...

    def close(self) -> None:
        """Finish the display."""
        ...


class QuietProgress:
    """Shows nothing (``--quiet``) but still folds events, for the final summary."""

    def __init__(self, state: ProgressState) -> None:
        self.state = state

    def __call__(self, event: dict[str, Any]) -> None:
        """Fold the event silently."""
        self.state.apply(event)

    def close(self) -> None:
        """Nothing to finish."""


class JsonProgress(QuietProgress):
    """One JSON object per line per event (``--json``)."""

    def __init__(self, state: ProgressState, stream: TextIO) -> None:
        super().__init__(state)
        self.stream = stream

    def __call__(self, event: dict[str, Any]) -> None:
        """Write the event as one JSON line."""
        self.state.apply(event)
        self.stream.write(json.dumps(event, default=str, ensure_ascii=False) + "\n")
        self.stream.flush()


class PlainProgress(QuietProgress):
    """A plain log, one ``[mm:ss] what happened`` line per event (stdout is not a terminal)."""

    def __init__(self, state: ProgressState, stream: TextIO) -> None:
        super().__init__(state)
        self.stream = stream

    def __call__(self, event: dict[str, Any]) -> None:
        """Write one line for the event."""
        line = self.state.apply(event)
        self.stream.write(f"[{clock(self.state.elapsed_s())}] {' '.join(line.split())}\n")
        self.stream.flush()


class LiveProgress(QuietProgress):
    """A live rich display: phases, sub-questions, pages, tokens, budget left, elapsed."""

    def __init__(self, state: ProgressState, console: Console) -> None:
        super().__init__(state)
        self.live = Live(get_renderable=self.render, console=console, refresh_per_second=4, transient=False)
        self.live.start()

    def __call__(self, event: dict[str, Any]) -> None:
        """Fold the event; the display refreshes itself."""
        self.state.apply(event)
        self.live.refresh()

    def close(self) -> None:
        """Stop the live display, leaving its last frame on screen."""
        self.live.stop()

    def render(self) -> RenderableType:
        """The current frame."""
        s = self.state
        phases = Text()
        for name in PHASES:
            style = "bold reverse" if name == s.phase else ("dim" if PHASES.index(name) > _index(s.phase) else "")
            phases.append(f" {name} ", style=style)
            phases.append(" ")
        table = Table(show_header=True, header_style="bold", expand=True, box=None)
        table.add_column("", width=2)
        table.add_column("sub-question", ratio=1, overflow="ellipsis", no_wrap=True)
        table.add_column("pages", justify="right")
        table.add_column("findings", justify="right")
        for sub in s.subs.values():
            mark = {"done": "✓", "searching": "…"}.get(sub.state, " ")
            table.add_row(mark, Text(sub.question or sub.id), str(sub.pages), str(sub.findings))
        left = s.budget_left()
        stats = Text(
            f"pages {s.pages_fetched} (failed {s.pages_failed}) · tokens {s.tokens:,} · facts {s.facts} · "
            f"left: {left['pages']} pages, {left['tokens']} tokens, {left['time']} · elapsed {clock(s.elapsed_s())}"
        )
        title = Text(f"Quarry {s.run_id}: ", style="bold").append(Text(s.question))
        return Group(title, phases, table, stats, Text(s.last, style="dim", overflow="ellipsis", no_wrap=True))


def _index(phase: str) -> int:
    return PHASES.index(phase) if phase in PHASES else -1


def make_progress(mode: Mode = "auto", *, stream: TextIO | None = None, state: ProgressState | None = None,
                  console: Console | None = None) -> QuietProgress:
    """The sink for ``mode``; ``auto`` is the live display on a terminal and the plain log otherwise."""
    out = stream if stream is not None else sys.stdout
    state = state if state is not None else ProgressState()
    if mode == "auto":
        mode = "rich" if out.isatty() else "plain"
    if mode == "json":
        return JsonProgress(state, out)
    if mode == "plain":
        return PlainProgress(state, out)
    if mode == "quiet":
        return QuietProgress(state)
    return LiveProgress(state, console if console is not None else Console(file=out))
