"""The service on a live BLE session (blesession's scripted sensor behind bleak's backend seam)."""

from __future__ import annotations

import asyncio

from fixtures_blesession import Link, ScriptedSensor
from spinesense.alerts import AlertConfig, AlertEngine
from spinesense.sensors import make_decoder
from spinesense.service import Session
from spinesense.sources.ble import BleSession, SessionOptions


async def test_stop_ends_a_live_session_while_the_sensor_is_out_of_range() -> None:
    # One connection of 60 frames, then the sensor stops advertising: the session keeps scanning for it
    # and yields nothing. Ctrl-C/SIGTERM (stop) must still end the run instead of waiting for the sensor.
    sensor = ScriptedSensor([Link(frames=60)])
    source = BleSession(None, backend=sensor.backend(), options=SessionOptions(scan_timeout_s=30.0))
    session = Session(make_decoder("reference"), AlertEngine(AlertConfig.default()))
    run = asyncio.create_task(session.run(aiter(source)))

    async def dropout_heard() -> None:
        while session.report.samples < 60 * 19 or not session.engine.active():  # noqa: ASYNC110 - plain state
            await asyncio.sleep(0.05)

    await asyncio.wait_for(dropout_heard(), timeout=20)  # hang guard only
    assert [a.kind for a in session.engine.active()] == ["signal_lost"]  # the dropout was heard
    session.stop.set()
    report = await asyncio.wait_for(run, timeout=20)  # hang guard only; it ends at once
    assert report.frames == 61  # the 60 data frames and the info characteristic read on connect
    assert report.samples == 60 * 19
