"""A zombie link on the virtual radio: the sensor stays connected but sends nothing (``stall``).

The session's watchdog must notice, force a reconnect, resubscribe, and report exactly the samples the
stall cost.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from conftest import REPLAY_DATA
from spinesense.emulator import VirtualSensor
from spinesense.models import EventRecord, FrameRecord
from spinesense.sensors import decode_records, reference
from spinesense.sources.ble import Backoff, LinkOptions, SensorLink
from spinesense.sources.replay import open_recording

pytestmark = pytest.mark.slow  # end to end: `scripts/test --quick` skips it

RECORDING = REPLAY_DATA / "skdh" / "example_2min.jsonl.gz"
WATCHDOG_S = 0.5


async def test_a_stalled_link_is_reset_by_the_watchdog_and_the_loss_reported() -> None:
    block = open_recording(RECORDING).block()
    options = LinkOptions(scan_timeout_s=1.0, watchdog_s=WATCHDOG_S, backoff=Backoff(initial_s=0.05))
    records: list[FrameRecord | EventRecord] = []
    async with VirtualSensor.running(block, speed=20.0) as (sensor, backend):
        link = SensorLink(sensor.name, backend=backend, options=options)

        streaming, last_sample_in = asyncio.Event(), asyncio.Event()
        watch = reference.ReferenceDecoder()

        async def consume() -> None:
            async for record in link:
                records.append(record)
                if len(records) > 20:
                    streaming.set()
                if isinstance(record, FrameRecord):
                    got = watch.feed(record.char, record.data, record.t_ns)
                    if got is not None and got.first_index + len(got) == len(block):
                        last_sample_in.set()

        consumer = asyncio.create_task(consume())
        async with asyncio.timeout(60):
            await streaming.wait()
            sensor.stall(3 * WATCHDOG_S)  # link up, nothing sent
            await last_sample_in.wait()  # the stream came back and ran to the end
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)

    assert link.counts.watchdog_resets >= 1
    assert link.counts.connects >= 2  # reconnected and resubscribed after the reset
    decoder = reference.ReferenceDecoder()
    blocks = list(decode_records(records, decoder))
    received = np.concatenate([b.first_index + np.arange(len(b)) for b in blocks])
    assert received.max() == len(block) - 1  # the stream came back and ran to the end
    missing = np.setdiff1d(np.arange(received.min(), received.max() + 1), received)
    lost_by_sensor = sum(n for _, n in sensor.lost_ranges)
    assert len(missing) >= lost_by_sensor > 0
    assert sum(g.missing for b in blocks for g in b.gaps) == len(missing) == decoder.lost_samples
