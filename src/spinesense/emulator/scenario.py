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
    """Stream ``path`` at ``speed``x; every ``fault_every_s`` drop the link, then vanish for ``vanish_s``.

    Faults are timed on the sensor's clock (every ``fault_every_s * speed`` s of the recording), so they
    land at the same places in the recording however long the host took to connect.
    """
    block = open_recording(path).block()
    async with VirtualSensor.running(block, speed=speed) as (sensor, backend):
        link = SensorLink(sensor.name, backend=backend, options=options)
        records: list[FrameRecord | EventRecord] = []

        async def consume() -> None:
            async for record in link:  # kept one by one: the task is cancelled, not finished
                records.append(record)  # noqa: PERF401

        loop = asyncio.get_running_loop()
        began = loop.time()
        consumer = asyncio.create_task(consume())
        try:
            faults = [sensor.disconnect] * disconnects
            if vanish_s > 0:
                faults.append(lambda: sensor.vanish(vanish_s))
            sent = 0
            for k, fault in enumerate(faults, start=1):
                await _fault_due(sensor, k * fault_every_s * speed, sent)
                sent = sensor.counts.frames
                await fault()
            await sensor.finished.wait()
            await _last_frame_in(records, sensor)
        finally:
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer
    return DropoutRun(records, sensor, link, loop.time() - began)


async def _fault_due(sensor: VirtualSensor, t_s: float, sent_before: int) -> None:
    """Wait until the sensor has sampled ``t_s`` s of its recording and sent a frame since the last fault.

    A fault while the link is still down from the last one would merge into it (one gap, not two).
    """
    frame_s = reference.MAX_SAMPLES_PER_FRAME / sensor.info.sample_rate_hz
    counts = sensor.counts
    while (counts.frames + counts.dropped_frames) * frame_s < t_s or counts.frames <= sent_before:  # noqa: ASYNC110
        await asyncio.sleep(frame_s / sensor.speed)


async def _last_frame_in(records: list[FrameRecord | EventRecord], sensor: VirtualSensor) -> None:
    """Wait until the link has handed over the sensor's last frame, unless the sensor lost it."""
    last_index = (len(sensor.frames) - 1) * reference.MAX_SAMPLES_PER_FRAME
    if sensor.lost_ranges and sensor.lost_ranges[-1][0] == last_index:
        return
    last = sensor.frames[-1]
    while not any(isinstance(r, FrameRecord) and r.data == last for r in records[-4:]):  # noqa: ASYNC110
        await asyncio.sleep(0.01)
