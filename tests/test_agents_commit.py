"""Group commit (agents.run.commit): concurrent submits coalesce into few batched writes; each caller gets its own."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from agents.run.commit import GroupCommit
from memory.embeddings import HashingEmbedder
from memory.options import NewSource
from memory.store import Memory


class Gate:
    """A batch function that holds its first batch until released, recording every batch it saw."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.entered = threading.Event()
        self.release = threading.Event()

    def write(self, items: list[int]) -> list[str]:
        self.batches.append(list(items))
        if len(self.batches) == 1:
            self.entered.set()
            assert self.release.wait(10), "the test never released the first batch"
        if any(i < 0 for i in items):
            raise ValueError(f"negative item in {items}")
        return [f"stored {i}" for i in items]


async def _submit_while_first_batch_writes(gate: Gate, writer: GroupCommit[int, str], later: list[int]) -> list[object]:
    first = asyncio.ensure_future(writer.submit(0))
    await asyncio.to_thread(gate.entered.wait, 10)  # batch [0] is being written now
    rest = [asyncio.ensure_future(writer.submit(i)) for i in later]
    await asyncio.sleep(0.05)  # every later caller is queued behind the writing batch
    gate.release.set()
    return list(await asyncio.gather(first, *rest, return_exceptions=True))


def test_concurrent_callers_coalesce_and_each_gets_its_own_result() -> None:
    gate = Gate()
    writer = GroupCommit(gate.write)
    results = asyncio.run(_submit_while_first_batch_writes(gate, writer, list(range(1, 10))))
    assert results == [f"stored {i}" for i in range(10)]
    assert gate.batches == [[0], list(range(1, 10))]  # ten callers, two writes
    assert (writer.stats.batches, writer.stats.items, writer.stats.sizes) == (2, 10, [1, 9])


def test_an_error_reaches_every_caller_of_its_batch_and_only_them() -> None:
    gate = Gate()
    writer = GroupCommit(gate.write)

    async def scenario() -> tuple[list[object], str]:
        got = await _submit_while_first_batch_writes(gate, writer, [1, -2, 3])
        return got, await writer.submit(4)  # the writer recovers: the next batch is written

    results, after = asyncio.run(scenario())
    assert results[0] == "stored 0"
    errors = results[1:]
    assert all(isinstance(e, ValueError) for e in errors)
    assert errors[0] is errors[1] is errors[2]  # the very same error for each caller of the failed batch
    assert str(errors[0]) == "negative item in [1, -2, 3]"
    assert after == "stored 4" and gate.batches[-1] == [4]


def test_a_result_count_mismatch_is_an_error_not_a_wrong_answer() -> None:
    writer: GroupCommit[int, int] = GroupCommit(lambda items: items[:-1])

    async def scenario() -> list[object]:
        return list(await asyncio.gather(writer.submit(1), writer.submit(2), return_exceptions=True))

    results = asyncio.run(scenario())
    assert all(isinstance(r, RuntimeError) and "returned" in str(r) for r in results)


def test_a_cancelled_caller_does_not_break_the_others() -> None:
    gate = Gate()
    writer = GroupCommit(gate.write)

    async def scenario() -> list[object]:
        first = asyncio.ensure_future(writer.submit(0))
        await asyncio.to_thread(gate.entered.wait, 10)
        doomed, kept = asyncio.ensure_future(writer.submit(1)), asyncio.ensure_future(writer.submit(2))
        await asyncio.sleep(0.02)
        doomed.cancel()
        gate.release.set()
        return list(await asyncio.gather(first, doomed, kept, return_exceptions=True))

    results = asyncio.run(scenario())
    assert results[0] == "stored 0" and isinstance(results[1], asyncio.CancelledError) and results[2] == "stored 2"
    assert gate.batches == [[0], [1, 2]]  # the cancelled item was written all the same (writes are idempotent)


def test_pages_written_by_group_commit_are_in_memory_when_each_caller_resumes(tmp_path: Path) -> None:
    store = Memory.open(tmp_path / "chroma", embedder=HashingEmbedder())
    writer = GroupCommit(store.add_sources)
    texts = {
        f"https://site.example/{i}": f"Page {i} says the turbine number {i} spins at {i * 7} rpm." for i in range(8)
    }

    async def reader(url: str) -> tuple[str, list[str]]:
        source, chunks = await writer.submit(NewSource(url, url, texts[url], "run1"))
        stored = await asyncio.to_thread(store.get_chunks, [c.id for c in chunks])  # visible right away
        assert [c.text for c in stored] == [c.text for c in chunks]
        return source.urls[0], [c.text for c in chunks]

    async def scenario() -> list[tuple[str, list[str]]]:
        return list(await asyncio.gather(*(reader(u) for u in texts)))

    try:
        results = asyncio.run(scenario())
        assert [u for u, _ in results] == list(texts)  # each caller got its own page back
        assert all(texts[u] in " ".join(cs) for u, cs in results)
        assert writer.stats.items == 8 and writer.stats.batches < 8  # coalesced
        assert store.stats()["counts"]["sources"] == 8
    finally:
        store.close()


@pytest.mark.parametrize("n", [1, 3])
def test_sequential_submits_are_written_one_batch_each(n: int) -> None:
    seen: list[list[int]] = []

    def write(items: list[int]) -> list[int]:
        seen.append(list(items))
        return [i + 100 for i in items]

    writer = GroupCommit(write)

    async def scenario() -> list[int]:
        return [await writer.submit(i) for i in range(n)]

    assert asyncio.run(scenario()) == [100 + i for i in range(n)]
    assert seen == [[i] for i in range(n)]
