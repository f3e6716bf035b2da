"""End to end over the virtual radio: a two-minute recording through BleSession with forced dropouts.

The sensor streams 30x faster than real time, drops the link three times and vanishes once; the live
samples must equal the recording's except exactly the samples the session reports lost.
"""

from __future__ import annotations

import asyncio

import numpy as np

from conftest import REPLAY_DATA
from spinesense.capture import EventRecord, FrameRecord
from spinesense.emulator.scenario import dropout_run
from spinesense.sensors import reference

RECORDING = REPLAY_DATA / "skdh" / "example_2min.jsonl.gz"
HANG_GUARD_S = 90.0


async def test_live_samples_equal_the_recording_apart_from_reported_losses() -> None:
    run = await asyncio.wait_for(dropout_run(RECORDING, speed=30.0), HANG_GUARD_S)
    sensor, session, records = run.sensor, run.session, run.records
    decoder = reference.ReferenceDecoder()
    decoded = [decoder.feed_record(r.char, r.data) for r in records if isinstance(r, FrameRecord)]
    blocks = [block for block in decoded if block is not None]
    received = np.concatenate([block.first_index + np.arange(len(block.t_s)) for block in blocks])
    total = len(sensor.block.t_s)
    lost = np.concatenate([np.arange(first, first + n) for first, n in sensor.stats.lost_ranges])

    assert sensor.stats.disconnects_forced == 4  # three disconnects and the vanish
    assert session.stats.connects >= 5  # the first connect and one after each fault
    # No sample arrives twice or out of thin air; every sample the sensor lost on the air is missing.
    assert len(np.unique(received)) == len(received)
    assert received.max() < total
    assert not np.isin(lost, received).any()
    # The session reports exactly the samples missing between the first and the last received: those the
    # sensor lost, plus notifications in flight when a link dropped (at most a few per link drop).
    missing = np.setdiff1d(np.arange(received.min(), received.max() + 1), received)
    in_flight = np.setdiff1d(missing, lost)
    assert len(missing) > 0
    assert len(in_flight) <= sensor.stats.disconnects_forced * 16 * reference.MAX_SAMPLES_PER_FRAME
    gaps = [r for r in records if isinstance(r, EventRecord) and r.event == "gap"]
    assert sum(int(g.fields["missing"]) for g in gaps) == len(missing)
    assert all(g.fields["exact"] for g in gaps)
    assert session.stats.lost_samples == len(missing)
    # Received samples are the recording's, up to quantisation.
    acc = np.vstack([block.acc_mps2 for block in blocks])
    np.testing.assert_allclose(
        acc, sensor.block.acc_mps2[received], rtol=0, atol=0.51 * sensor.info.acc_lsb_mps2
    )
