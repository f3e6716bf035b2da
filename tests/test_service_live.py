"""The service on a live sensor link (the scripted sensor behind bleak's backend seam)."""

from __future__ import annotations

import asyncio

import pytest

from fixtures_blesession import Link, ScriptedSensor
from spinesense import Service
from spinesense.sources.ble import LinkGaveUpError, LinkOptions, SensorLink


async def test_stop_ends_a_live_run_while_the_sensor_is_out_of_range() -> None:
    # One connection of 60 frames, then the sensor stops advertising: the link keeps scanning for it
    # and yields nothing. Ctrl-C/SIGTERM (stop) must still end the run instead of waiting for the sensor.
    sensor = ScriptedSensor([Link(frames=60)])
    link = SensorLink(None, backend=sensor.backend(), options=LinkOptions(scan_timeout_s=30.0))
    async with Service(link, publish=False) as service:
        run = asyncio.create_task(service.run())

        async def dropout_heard() -> None:
            while not service.engine.active():  # noqa: ASYNC110 - plain state, no event to wait on
                await asyncio.sleep(0.05)

        await asyncio.wait_for(dropout_heard(), timeout=20)  # hang guard only
        assert [a.kind for a in service.engine.active()] == ["signal_lost"]  # the dropout was heard
        service.stop()
        result = await asyncio.wait_for(run, timeout=20)  # hang guard only; it ends at once
    assert result.counts.frames == 61  # the 60 data frames and the info characteristic read on connect
    assert result.counts.samples == 60 * 19
    assert sensor.scans_at_connect == [1]  # found by one scan before the first connect, not two


async def test_a_link_that_gives_up_ends_the_run_with_its_own_error() -> None:
    sensor = ScriptedSensor([Link(frames=5)])
    options = LinkOptions(scan_timeout_s=0.2, watchdog_s=0.3, max_attempts=1)
    async with Service(SensorLink(None, backend=sensor.backend(), options=options), publish=False) as service:
        with pytest.raises(LinkGaveUpError, match="gave up after 1 failed attempts"):
            await service.run()
