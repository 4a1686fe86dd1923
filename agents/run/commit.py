"""Group commit: concurrent writers hand their items to one batched write instead of queueing one by one.

Guarantees: at most one batch is being written at a time; every item submitted while a batch is
being written goes into the next batch (one call of the batch function for all of them); each
caller's ``submit`` returns only once ITS item has been written, with its own result; when a batch
fails, every caller in that batch gets that same exception and later batches are unaffected. The
batch function runs in a worker thread, so the event loop keeps serving fetches meanwhile.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Waiter(Generic[T, R]):
    item: T
    future: asyncio.Future[R]
    loop: asyncio.AbstractEventLoop


@dataclass
class CommitStats:
    """How many batches were written and how many items they held (for tests and benchmarks)."""

    batches: int = 0
    items: int = 0
    sizes: list[int] = field(default_factory=list)


class GroupCommit(Generic[T, R]):
    """Coalesces concurrent ``submit`` calls into calls of ``write_many(items) -> results`` (same order)."""

    def __init__(self, write_many: Callable[[list[T]], Sequence[R]]) -> None:
        self._write_many = write_many
        self._mutex = threading.Lock()
        self._pending: list[_Waiter[T, R]] = []
        self._writing = False
        self.stats = CommitStats()

    async def submit(self, item: T) -> R:
        """Write ``item`` in the next batch and return its result once it is written."""
        loop = asyncio.get_running_loop()
        waiter: _Waiter[T, R] = _Waiter(item, loop.create_future(), loop)
        with self._mutex:
            self._pending.append(waiter)
            lead = not self._writing
            self._writing = True
        if lead:  # nobody is writing: this caller starts the writer, which drains until nothing is pending
            loop.run_in_executor(None, self._drain)
        return await waiter.future

    def _drain(self) -> None:
        """Write batches until nothing is pending (runs in a worker thread)."""
        while True:
            with self._mutex:
                batch, self._pending = self._pending, []
                if not batch:
                    self._writing = False
                    return
            self.stats.batches += 1
            self.stats.items += len(batch)
            self.stats.sizes.append(len(batch))
            try:
                results = list(self._write_many([w.item for w in batch]))
                if len(results) != len(batch):
                    raise RuntimeError(f"a batch of {len(batch)} items returned {len(results)} results")
            except Exception as exc:  # noqa: BLE001  not swallowed: every caller of this batch receives it
                for w in batch:
                    _settle(w, None, exc)
                continue
            for w, result in zip(batch, results, strict=True):
                _settle(w, result, None)


def _settle(waiter: _Waiter[T, R], result: R | None, exc: BaseException | None) -> None:
    """Hand a result or an error to a waiting caller on its own event loop (if it still waits)."""

    def done() -> None:
        if waiter.future.done():  # the caller was cancelled; its item was written all the same
            return
        if exc is not None:
            waiter.future.set_exception(exc)
        else:
            waiter.future.set_result(cast("R", result))

    try:
        waiter.loop.call_soon_threadsafe(done)
    except RuntimeError:  # the caller's loop has closed: nobody is left to tell
        return
