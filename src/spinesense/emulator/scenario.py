"""A scripted dropout run: a recording streamed through a SensorLink while the virtual sensor misbehaves.

Shared by the end-to-end test and ``benchmarks/ble_end_to_end.py`` so both exercise the same path.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spinesense.emulator.sensor import VirtualSensor
from spinesense.models import FrameRecord
from spinesense.sensors import decode_records, reference
from spinesense.sources.ble_link import Backoff, LinkOptions, SensorLink
from spinesense.sources.replay import open_recording

if TYPE_CHECKING:
    from pathlib import Path

    from spinesense.models import EventRecord, SampleBlock

FAST_OPTIONS = LinkOptions(
    scan_timeout_s=0.5, connect_timeout_s=5.0, watchdog_s=2.0, backoff=Backoff(initial_s=0.05, jitter=0.0)
)
"""Quick retries: the virtual sensor is back as soon as it advertises."""


@dataclass
class DropoutRun:
    """What came out of the link, and the sensor and link that produced it."""

    records: list[FrameRecord | EventRecord]
    sensor: VirtualSensor
    link: SensorLink
    wall_s: float

    def blocks(self) -> list[SampleBlock]:
        """The records decoded as the service decodes them (one reference decoder); gaps on the blocks."""
        return list(decode_records(self.records, reference.ReferenceDecoder()))


async def dropout_run(
    path: Path,
    *,
    speed: float,
    disconnects: int = 3,
    vanish_s: float = 0.8,
    fault_every_s: float = 0.6,
    options: LinkOptions = FAST_OPTIONS,
) -> DropoutRun:
    """Stream ``path`` at ``speed``x while the sensor misbehaves, faults timed from the first samples.

    Every ``fault_every_s`` the sensor drops the link (``disconnects`` times), then vanishes for ``vanish_s``.
    """
    block = open_recording(path).block()
    async with VirtualSensor.running(block, speed=speed) as (sensor, backend):
        link = SensorLink(sensor.name, backend=backend, options=options)
        records: list[FrameRecord | EventRecord] = []
        streaming = asyncio.Event()

        async def consume() -> None:
            async for record in link:  # kept one by one: the task is cancelled, not finished
                records.append(record)
                if isinstance(record, FrameRecord) and record.char == reference.DATA_UUID:
                    streaming.set()

        loop = asyncio.get_running_loop()
        began = loop.time()
        consumer = asyncio.create_task(consume())
        try:
            await streaming.wait()  # the faults are timed from the first samples, however long the scan took
            for _ in range(disconnects):
                await asyncio.sleep(fault_every_s)
                await sensor.disconnect()
            if vanish_s > 0:
                await asyncio.sleep(fault_every_s)
                await sensor.vanish(vanish_s)
            await sensor.finished.wait()
            await asyncio.sleep(0.3)  # the last notifications are on their way
        finally:
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer
    return DropoutRun(records, sensor, link, loop.time() - began)
