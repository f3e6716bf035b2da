"""A source's raw stream into a capture file, with no processing (``spinesense record``).

The capture holds every notification and read byte for byte with its host receive time, plus the
link's events (connect, disconnect, overflow), so the run replays exactly; the file is closed cleanly
(a gzip trailer for ``.gz``) however the recording ends.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from spinesense.capture import CaptureWriter
from spinesense.models import Counts, FrameRecord
from spinesense.sensors import make_decoder

if TYPE_CHECKING:
    from pathlib import Path

    from spinesense.sources import Source


async def record_to(
    path: Path, source: Source, stop: asyncio.Event, *, duration_s: float | None = None
) -> Counts:
    """Ready the source (a sensor link finds its sensor), then write its records to ``path``.

    Until ``stop`` is set, ``duration_s`` passes or the source ends. The frames are decoded too (one
    decoder, for the count of samples lost); nothing is written when the source cannot start.
    """
    header = await source.start()
    decoder = make_decoder(header["protocol"])
    counts = Counts()

    async def consume(writer: CaptureWriter) -> None:
        async for record in source:
            writer.write(record)
            if isinstance(record, FrameRecord):
                counts.frames += 1
                decoder.feed(record.char, record.data, record.t_ns)
            else:
                counts.events += 1
                counts.connects += record.event == "connect"

    with CaptureWriter(path, header) as writer:
        task = asyncio.create_task(consume(writer))
        stopper = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({task, stopper}, timeout=duration_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pending in (task, stopper):
                pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stopper
            with contextlib.suppress(asyncio.CancelledError):
                await task
    counts.lost_samples = decoder.lost_samples
    return counts
