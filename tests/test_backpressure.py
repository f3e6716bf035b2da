"""Backpressure against a real Mosquitto: a replay waits for the publisher and sends every stride; a
live source never waits, and sheds (and counts) strides when the broker stalls (SIGSTOP, a real fault)."""

from __future__ import annotations

import asyncio
import json
import signal
from typing import TYPE_CHECKING

import pytest

from spinesense.config import Config
from spinesense.publish import publisher as publisher_module
from spinesense.service import Service
from spinesense.sources.replay import ReplaySource
from spinesense.testing import Listener, Mosquitto, loop_capture, replay_data

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from spinesense.models import Record

LOOPS = 4
"""The 11-minute demo four times over: more strides than the outbox's ring holds (2000) and those sent
before the stalled broker is noticed."""


def long_recording(tmp_path: Path) -> Path:
    """The demo capture looped into a run of about 45 minutes."""
    return loop_capture(replay_data() / "demo" / "fatigue_run.jsonl.gz", tmp_path / "long.jsonl.gz", LOOPS)


class LiveLike:
    """Stands for a live sensor (which cannot be made to stream half an hour in a test): a recording
    replayed as fast as possible, without ``live = False``, so the service treats it as live."""

    def __init__(self, replay: ReplaySource) -> None:
        """Wrap ``replay``."""
        self.replay = replay
        self.done = asyncio.Event()

    async def start(self) -> dict[str, object]:
        """The recording's header."""
        return await self.replay.start()

    def __aiter__(self) -> AsyncIterator[Record]:
        """Every record, then mark the source done."""
        return self._records()

    async def _records(self) -> AsyncIterator[Record]:
        async for record in self.replay:
            yield record
        self.done.set()


async def test_a_fast_replay_sends_every_stride(mosquitto: Mosquitto, tmp_path: Path) -> None:
    config = Config(runner_id="bp", broker=mosquitto.settings, record=False, data_dir=tmp_path / "data")
    # mosquitto_sub reads in its own process, so it keeps up; line-buffered, its SUBACK line is the signal.
    sub = await asyncio.create_subprocess_exec(
        "stdbuf", "-oL", "mosquitto_sub", "-d", "-v", "-p", str(mosquitto.port), "-h", "127.0.0.1",
        "-t", "spinesense/v1/bp/stride", "-t", "spinesense/v1/bp/status",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout = sub.stdout
    assert stdout is not None

    async def count_strides() -> int:
        """Strides seen until ``offline``, which comes last, after every stride."""
        strides = 0
        while (line := await stdout.readline()) != b"spinesense/v1/bp/status offline\n":
            if not line:
                raise AssertionError("mosquitto_sub ended before the publisher's offline")
            strides += line.startswith(b"spinesense/v1/bp/stride ")
        return strides

    try:
        async with asyncio.timeout(10):
            while b"SUBACK" not in await stdout.readline():
                pass
        counting = asyncio.create_task(count_strides())  # read all along, so the pipe never fills
        async with Service(ReplaySource(long_recording(tmp_path), speed=None), config) as service:
            result = await service.run()
        assert service.publisher is not None
        assert service.publisher.strides_shed == 0
        async with asyncio.timeout(60):
            strides = await counting
    finally:
        sub.kill()
        await sub.wait()
    assert len(result.strides) > 2000 * 1.2
    assert strides == len(result.strides)


async def test_a_live_source_sheds_counted_strides_when_the_broker_stalls(
    mosquitto: Mosquitto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The unacknowledged message ends the connection sooner than by default (5 s), so that the fast replay
    # gives more strides after the stall is noticed than the outbox's ring holds.
    monkeypatch.setattr(publisher_module, "ACK_TIMEOUT_S", 0.5)
    config = Config(runner_id="lv", broker=mosquitto.settings, record=False, data_dir=tmp_path / "data")
    source = LiveLike(ReplaySource(long_recording(tmp_path), speed=None))
    assert mosquitto.process is not None
    async with (
        Listener(mosquitto.settings, "spinesense/v1/lv/status") as status,
        Service(source, config) as service,
    ):
        publisher = service.publisher
        assert publisher is not None
        await status.wait_for(lambda messages: any(m.payload == b"online" for m in messages))
        mosquitto.process.send_signal(signal.SIGSTOP)  # the broker stalls: no PUBACK comes
        try:
            result = await service.run()  # returns: the source was never held back
            assert source.done.is_set()
            shed = publisher.strides_shed
            assert shed > 0
            # Sent: into the connection until a reliable message went unacknowledged for ACK_TIMEOUT_S,
            # which ended it. None lost uncounted.
            assert shed + publisher.outbox.strides_waiting + publisher.strides_sent == len(result.strides)
        finally:
            mosquitto.process.send_signal(signal.SIGCONT)
    async with Listener(mosquitto.settings, "spinesense/v1/lv/session") as session:
        ended = json.loads((await session.next())[0].payload)
    assert ended["state"] == "ended"
    assert ended["strides_shed"] == shed
