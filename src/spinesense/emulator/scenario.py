"""A scripted dropout run: a recording streamed through a SensorLink while the virtual sensor misbehaves.

Shared by the end-to-end test and ``benchmarks/ble_end_to_end.py`` so both exercise the same path.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from spinesense.emulator.sensor import VirtualSensor
from spinesense.models import FrameRecord
from spinesense.sensors import decode_records, reference
from spinesense.sources.ble_link import Backoff, LinkOptions, SensorLink
from spinesense.sources.replay import open_recording

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from spinesense.models import EventRecord, SampleBlock

    Record = FrameRecord | EventRecord

FAST_OPTIONS = LinkOptions(
    scan_timeout_s=0.5, connect_timeout_s=5.0, watchdog_s=2.0, backoff=Backoff(initial_s=0.05, jitter=0.0)
)
"""Quick retries: the virtual sensor is back as soon as it advertises."""


@dataclass
class _Received:
    """What the link has handed over so far, with a wake-up for whoever waits for a particular record."""

    records: list[Record] = field(default_factory=list)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def add(self, record: Record) -> None:
        """Keep ``record`` and wake the waiters."""
        async with self._arrived:
            self.records.append(record)
            self._arrived.notify_all()

    async def until(self, wanted: Callable[[Record], bool]) -> None:
        """Return once a record that is ``wanted`` has arrived (each record is looked at once)."""
        seen = 0
        async with self._arrived:
            while not any(wanted(r) for r in self.records[seen:]):
                seen = len(self.records)
                await self._arrived.wait()


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

    Faults are timed on the recording's clock (every ``fault_every_s * speed`` s of it) as the host
    received it, so they land at the same places in the recording however long the host took to connect
    and however far a busy host lags behind the sensor.
    """
    block = open_recording(path).block()
    async with VirtualSensor.running(block, speed=speed) as (sensor, backend):
        link = SensorLink(sensor.name, backend=backend, options=options)
        received = _Received()

        async def consume() -> None:
            async for record in link:  # kept one by one: the task is cancelled, not finished
                await received.add(record)

        loop = asyncio.get_running_loop()
        began = loop.time()
        consumer = asyncio.create_task(consume())
        try:
            faults = [sensor.disconnect] * disconnects
            if vanish_s > 0:
                faults.append(lambda: sensor.vanish(vanish_s))
            for k, fault in enumerate(faults, start=1):
                await _fault_due(sensor, received, k * fault_every_s * speed)
                await fault()
            await sensor.finished.wait()
            await _last_frame_in(received, sensor)
        finally:
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer
    return DropoutRun(received.records, sensor, link, loop.time() - began)


async def _fault_due(sensor: VirtualSensor, received: _Received, t_s: float) -> None:
    """Wait until the host has received the frame ``t_s`` s into the recording (or a later one).

    Timed on what the host received, not on what the sensor sent: frames still in flight when the link
    drops are lost, and on a busy host they would move the gap seconds earlier. Such a frame came after
    the last fault, so the link is up again: two faults never merge into one gap.
    """
    first_index = t_s * sensor.info.sample_rate_hz - reference.MAX_SAMPLES_PER_FRAME

    def due(record: Record) -> bool:
        return (
            isinstance(record, FrameRecord)
            and record.char == reference.DATA_UUID
            and reference.parse_frame(record.data).first_sample_index > first_index
        )

    await received.until(due)


async def _last_frame_in(received: _Received, sensor: VirtualSensor) -> None:
    """Wait until the link has handed over the sensor's last frame, unless the sensor lost it."""
    last_index = (len(sensor.frames) - 1) * reference.MAX_SAMPLES_PER_FRAME
    if sensor.lost_ranges and sensor.lost_ranges[-1][0] == last_index:
        return
    last = sensor.frames[-1]
    await received.until(lambda record: isinstance(record, FrameRecord) and record.data == last)
