"""The asyncio work per record of the service's two ways to take a source's records, in isolation.

A live sensor's records go through a bounded queue from a producer task to a consumer task
(``Service._stream_queued``); a recording's are taken straight from it by one task
(``Service._stream_direct``). Here N sources are paced at a reference sensor's 10.5 notifications a
second, and the processing is a trivial function, so the figure is the mechanics alone: the process's CPU
per record. Rounds alternate the two; the ratio is the median of the rounds'.

Usage: .venv/bin/python benchmarks/stream_mechanics.py [--sources 300] [--seconds 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine
    from typing import Any

RATE_HZ = 10.5
"""Notifications a second of a reference sensor at 200 Hz (19 samples each)."""


async def paced(records: int) -> AsyncIterator[int]:
    """``records`` records, each due at its time from the start (as ``sources.replay`` paces them)."""
    start = time.monotonic()
    for k in range(records):
        delay = start + k / RATE_HZ - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        yield k


def process(record: int) -> int:
    """Stands for the run's processing (the decoder and the pipeline): nothing, to leave the mechanics."""
    return record + 1


async def queued(records: int) -> None:
    """A producer task puts every record into a bounded queue, a consumer task takes them."""
    queue: asyncio.Queue[int | None] = asyncio.Queue(4096)

    async def produce() -> None:
        try:
            async for record in paced(records):
                await queue.put(record)
        finally:
            await queue.put(None)

    async def consume() -> None:
        while (record := await queue.get()) is not None:
            process(record)

    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(produce())
        tasks.create_task(consume())


async def direct(records: int) -> None:
    """One task takes each record from the source and awaits its processing (``Service._take``)."""

    async def take(record: int) -> None:
        process(record)

    async def read() -> None:
        source = aiter(paced(records))
        while True:
            try:
                record = await anext(source)
            except StopAsyncIteration:
                return
            await take(record)

    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(read())


def cpu_per_record_us(way: Callable[[int], Coroutine[Any, Any, None]], sources: int, seconds: float) -> float:
    """The process's CPU per record (µs) with ``sources`` paced sources taken ``way`` for ``seconds``."""
    records = round(seconds * RATE_HZ)

    async def serve_all() -> None:
        await asyncio.gather(*(way(records) for _ in range(sources)))

    start = time.process_time()
    asyncio.run(serve_all())
    return 1e6 * (time.process_time() - start) / (sources * records)


def main() -> None:
    """Alternate the two ways for ``--rounds`` rounds; print each and the median ratio."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sources", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ratios = []
    for round_ in range(args.rounds):
        order = [("queued", queued), ("direct", direct)]
        figures = {}
        for name, way in order if round_ % 2 == 0 else order[::-1]:
            figures[name] = cpu_per_record_us(way, args.sources, args.seconds)
        ratios.append(figures["direct"] / figures["queued"])
        print(
            f"round {round_ + 1}: queued {figures['queued']:.1f} µs/record, direct {figures['direct']:.1f} "
            f"µs/record, direct/queued {ratios[-1]:.2f}",
            flush=True,
        )
    print(f"median direct/queued over {args.rounds} rounds: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
