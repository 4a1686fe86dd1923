"""Progress events from shared tools, routed to the run that caused them.

Guarantees: one ``Fetcher`` or ``SearchChain`` can serve many runs at once (the browser UI runs
several); an event goes to the part's own ``on_event`` sink, if any, and to the sink bound to the
current context with ``event_sink(...)`` (a ``ContextVar``, so each run's tasks see their own). A
sink that raises is the caller's bug and propagates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

EventSink = Callable[[dict[str, Any]], None]

_current: ContextVar[EventSink | None] = ContextVar("quarry_tool_event_sink", default=None)


@contextmanager
def event_sink(sink: EventSink | None) -> Iterator[None]:
    """Send tool events raised inside this block (and tasks it starts) to ``sink``."""
    token = _current.set(sink)
    try:
        yield
    finally:
        _current.reset(token)


def emit(own: EventSink | None, event: dict[str, Any]) -> None:
    """Deliver ``event`` to the part's own sink and to the context's sink (once if they are the same)."""
    if own is not None:
        own(event)
    bound = _current.get()
    if bound is not None and bound is not own:
        bound(event)
