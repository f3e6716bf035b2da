"""A backlog is taken in one go (a loaded host catches up faster) and gives what frame by frame gives."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from spinesense.alerts import AlertConfig, AlertEngine
from spinesense.capture import CaptureWriter
from spinesense.config import Config
from spinesense.models import Alert, EventRecord, FrameRecord, Record, Stride
from spinesense.run import Notice, Run, analyse
from spinesense.sensors.reference import DATA_UUID, FLAG_ACC_CLIPPED
from spinesense.service import Service
from spinesense.sources import MOST_TOGETHER
from spinesense.sources.replay import open_recording, replay_batches
from spinesense.testing import Mosquitto, replay_data

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from spinesense.run import RunEvent

RECORDING = replay_data() / "fukuchi" / "RBDS0041.jsonl.gz"


def troubled_records() -> list[Record]:
    """RBDS0041's records with what a live stream meets: lost frames, clipped frames, a link drop."""
    records = list(open_recording(RECORDING).records())
    frames = [i for i, r in enumerate(records) if isinstance(r, FrameRecord) and r.char == DATA_UUID]
    out: list[Record] = []
    for i, record in enumerate(records):
        if frames[300] <= i < frames[310]:
            continue  # ten frames lost: a gap
        if i == frames[500]:
            out.append(EventRecord(record.t_ns, "disconnect", {"reason": "test"}))
            out.append(EventRecord(record.t_ns, "connect", {"sensor_name": "test"}))
        if i in (frames[400], frames[401], frames[650]) and isinstance(record, FrameRecord):
            data = bytearray(record.data)
            data[1] |= FLAG_ACC_CLIPPED  # the header's flags
            out.append(replace(record, data=bytes(data)))
        else:
            out.append(record)
    return out


def one_by_one(records: list[Record]) -> list[RunEvent]:
    """A live run's events, each record fed as it came."""
    run = Run(open_recording(RECORDING).decoder(), AlertEngine(AlertConfig.default()), rolling=True)
    events = [event for record in records for event in run.feed(record)]
    return events + run.finish()


def test_records_taken_together_give_the_events_of_one_by_one() -> None:
    records = troubled_records()
    expected = one_by_one(records)
    assert any(isinstance(e, Alert) for e in expected)  # the link drop raises one
    for seed in range(3):
        rng = random.Random(seed)  # noqa: S311 - block sizes, not secrets
        run = Run(open_recording(RECORDING).decoder(), AlertEngine(AlertConfig.default()), rolling=True)
        events: list[RunEvent] = []
        at = 0
        while at < len(records):
            size = rng.choice([1, 2, 3, 7, MOST_TOGETHER])
            events += run.feed_all(records[at : at + size])
            at += size
        events += run.finish()
        # The same events in the same order; only a notice (forward found, a re-alignment) may come before
        # a stride of its batch that frame by frame it followed: the pipeline tells notices per feed.
        assert [e for e in events if not isinstance(e, Notice)] == [
            e for e in expected if not isinstance(e, Notice)
        ]
        assert [e for e in events if isinstance(e, Notice)] == [e for e in expected if isinstance(e, Notice)]


def test_a_whole_file_marks_only_the_strides_a_clipped_frame_lies_in(tmp_path: Path) -> None:
    records = troubled_records()
    live = [e for e in one_by_one(records) if isinstance(e, Stride)]
    path = tmp_path / "troubled.jsonl"
    with CaptureWriter(path, open_recording(RECORDING).header) as writer:
        for record in records:
            writer.write(record)
    whole = analyse(path)  # its frames go through the pipeline 4096 samples at a time
    assert sum("clipped" in s.flags for s in live) >= 2  # the test bites
    assert [s.flags for s in whole.strides] == [s.flags for s in live]
    assert whole.strides == live


async def test_a_paced_replay_hands_a_backlog_on_together() -> None:
    recording = open_recording(RECORDING)
    batches: list[list[Record]] = []
    async for batch in replay_batches(recording, speed=20.0):
        batches.append(batch)
        if len(batches) == 20:
            time.sleep(0.5)  # a busy host: the loop does nothing else for half a second  # noqa: ASYNC251
        if len(batches) == 40:
            break
    sizes = [len(b) for b in batches]
    assert (
        max(sizes[:20]) <= 2
    )  # keeping up: each record as it is due (an info read may share a frame's time)
    # Half a second at 20 times real time is 10 s of frames (about 105): the backlog, MOST_TOGETHER at a time.
    assert sizes[20:23] == [MOST_TOGETHER] * 3
    assert max(sizes[24:]) <= 2  # caught up
    flat = [r for b in batches for r in b]
    assert flat == list(recording.records())[: len(flat)]


async def test_a_fast_replay_comes_in_full_batches() -> None:
    recording = open_recording(RECORDING)
    sizes = [len(batch) async for batch in replay_batches(recording, speed=None)]
    total = len(list(recording.records()))
    assert sizes[:-1] == [MOST_TOGETHER] * (len(sizes) - 1)
    assert sum(sizes) == total


class Bursts:
    """Stands for a live sensor whose frames queue up while the host is busy: records come in bursts."""

    def __init__(self, records: list[Record]) -> None:
        """Yield ``records``, pausing the loop's other work after every burst."""
        self.records = records

    async def start(self) -> dict[str, object]:
        """The recording's header."""
        return open_recording(RECORDING).header

    def __aiter__(self) -> AsyncIterator[Record]:
        """The records, a burst of 10 at a time."""
        return self._records()

    async def _records(self) -> AsyncIterator[Record]:
        for at, record in enumerate(self.records):
            yield record
            if at % 10 == 9:
                await asyncio.sleep(0)  # the consumer finds the burst queued


async def test_a_live_backlog_gives_the_strides_and_alerts_of_a_whole_file(mosquitto: Mosquitto) -> None:
    records = troubled_records()
    expected = one_by_one(records)
    config = Config(runner_id="burst", broker=mosquitto.settings, record=False)
    async with Service(Bursts(records), config) as service:
        result = await service.run()
    assert result.strides == [e for e in expected if isinstance(e, Stride)]
    assert result.alerts == [e for e in expected if isinstance(e, Alert)]
    assert len(result.gaps) == 1
    assert result.counts.disconnects == 1
