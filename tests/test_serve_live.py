"""``spinesense serve`` on live sensors: several virtual sensors on one radio, reached through bleak, at once.

The sensors are bumble virtual reference sensors beside each other on one virtual radio; the command's
own paths (``--sensor RUNNER=NAME|ADDRESS``, and the scan that makes a runner of every reference sensor
found) reach them through bleak's ``backend=`` seam, publish to a real Mosquitto and save each run in the
real run store. Ctrl-C (a real SIGINT to this process) ends the serving, as it does for a person.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import signal
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from conftest import REPLAY_DATA
from spinesense import analyse
from spinesense.cli import build_parser
from spinesense.cli.commands import EXIT_INTERRUPTED
from spinesense.cli.commands._serve import serve_args
from spinesense.cli.logformat import JsonFormatter
from spinesense.logs import NOTICE_LOGGER, STATUS_LOGGER
from spinesense.testing import Emulated, Listener, Mosquitto, StartSensor
from test_serve import _strides

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
    from pathlib import Path

    from spinesense.sources.ble import BleakBackend

pytestmark = pytest.mark.slow  # end to end over the virtual radio: `scripts/test --quick` skips it

SHORT = REPLAY_DATA / "fukuchi" / "RBDS032.jsonl.gz"  # 40 s of running, 38 strides
LONG = REPLAY_DATA / "fukuchi" / "RBDS0041.jsonl.gz"  # 100 s of running, 123 strides
SPEED = 10.0
"""Paced as a live sensor is, ten times faster so the tests stay short."""
HANG_GUARD_S = 120.0


@pytest.fixture
def json_log(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Every log record of the test as the command's ``--log-format json`` writes it (one dict each)."""
    caplog.set_level(logging.INFO)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


@contextlib.asynccontextmanager
async def _on_one_radio(start: StartSensor, *sensors: tuple[Path, str, str]) -> AsyncIterator[list[Emulated]]:
    """Virtual sensors ``(recording, name, address)`` beside each other on one radio, streaming at SPEED."""
    async with contextlib.AsyncExitStack() as stack:
        started: list[Emulated] = []
        for recording, name, address in sensors:
            radio = started[0].radio if started else None
            sensor = start(recording, speed=SPEED, name=name, address=address, radio=radio)
            started.append(await stack.enter_async_context(sensor))
        yield started


def _totals(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each runner's closing status line (its totals), by runner."""
    return {r["runner"]: r for r in records if r["logger"] == STATUS_LOGGER and "strides" in r}


def _history(runner_id: str) -> list[dict[str, Any]]:
    """``spinesense history --runner ID --json``: the runner's stored runs (in the test's data dir)."""
    done = subprocess.run(
        [sys.executable, "-m", "spinesense", "history", "--runner", runner_id, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    runs: list[dict[str, Any]] = json.loads(done.stdout)["runs"]
    return runs


async def _serve_until(
    mosquitto: Mosquitto, backend: BleakBackend, flags: list[str], done: Coroutine[Any, Any, object]
) -> int:
    """``spinesense serve FLAGS`` on this loop until ``done`` has happened, then Ctrl-C; its exit code.

    ``done`` waits for strides on the broker, so the runners are serving and serve's signal handlers are
    in place when the SIGINT comes.
    """
    args = build_parser().parse_args(["serve", "--broker", f"mqtt://127.0.0.1:{mosquitto.port}", *flags])
    async with asyncio.timeout(HANG_GUARD_S):
        serving = asyncio.create_task(serve_args(args, backend))
        waiting = asyncio.ensure_future(done)
        await asyncio.wait([serving, waiting], return_when=asyncio.FIRST_COMPLETED)
        if not serving.done():
            os.kill(os.getpid(), signal.SIGINT)
        code = await serving
        if waiting.done():
            waiting.result()  # a wait that failed fails the test
        waiting.cancel()
        return code


async def test_sensor_flags_serve_two_live_sensors_to_the_broker_and_save_both_runs(
    virtual_sensor: StartSensor, mosquitto: Mosquitto, json_log: Callable[[], list[dict[str, Any]]]
) -> None:
    ana_name, ben_address = "SpineSense-A0A1", "E1:A0:5E:05:E0:B1"
    async with (
        _on_one_radio(
            virtual_sensor, (SHORT, ana_name, "E1:A0:5E:05:E0:A1"), (SHORT, "SpineSense-B0B1", ben_address)
        ) as (ana, _),
        Listener(mosquitto.settings, "spinesense/v1/#") as inbox,
    ):
        expected = len(analyse(SHORT).strides)
        played = inbox.wait_for(
            lambda m: min(_strides(m, "ana"), _strides(m, "ben")) >= expected, HANG_GUARD_S
        )
        flags = ["--sensor", f"ana={ana_name}", "--sensor", f"ben={ben_address}"]  # by name, by address
        code = await _serve_until(mosquitto, ana.backend, flags, played)
        assert code == EXIT_INTERRUPTED
        totals = _totals(json_log())
        got = await inbox.wait_for(lambda m: all(_strides(m, r) >= totals[r]["strides"] for r in totals))
    assert set(totals) == {"ana", "ben"}
    for runner_id in ("ana", "ben"):
        strides = totals[runner_id]["strides"]
        assert strides == expected  # the recording's strides, all of them, live
        assert _strides(got, runner_id) == strides  # every stride of each runner reached the broker
        [run] = _history(runner_id)  # and each run is in the store, under its own runner
        assert run["steps"] == 2 * strides
    records = json_log()
    notes = [r for r in records if r["logger"] == NOTICE_LOGGER]
    assert {r["runner"] for r in notes} == {"ana", "ben"}  # every notice names its runner
    assert all(r["runner"] in {"ana", "ben"} for r in records if r["logger"].startswith("spinesense.sources"))


async def test_scan_serves_every_sensor_found_and_one_vanishing_does_not_stop_the_other(
    virtual_sensor: StartSensor, mosquitto: Mosquitto, json_log: Callable[[], list[dict[str, Any]]]
) -> None:
    gone, stays = "SpineSense-Gone", "SpineSense-Stay"
    async with (
        _on_one_radio(
            virtual_sensor, (LONG, gone, "E1:A0:5E:05:E0:C1"), (SHORT, stays, "E1:A0:5E:05:E0:D1")
        ) as (first, _),
        Listener(mosquitto.settings, "spinesense/v1/#") as inbox,
    ):
        expected = len(analyse(SHORT).strides)

        async def vanish_then_play() -> None:
            """The first sensor leaves for good a few strides in (out of range, battery flat); the other
            plays its recording to the end."""
            await inbox.wait_for(lambda m: _strides(m, gone) >= 3)
            await first.sensor.stop()
            await inbox.wait_for(lambda m: _strides(m, stays) >= expected, HANG_GUARD_S)

        code = await _serve_until(mosquitto, first.backend, ["--scan-timeout", "2"], vanish_then_play())
        assert code == EXIT_INTERRUPTED
        records = json_log()
        totals = _totals(records)
        got = await inbox.wait_for(lambda m: all(_strides(m, r) >= totals[r]["strides"] for r in totals))
    assert set(totals) == {gone, stays}  # a runner per sensor found, named after it
    assert not first.sensor.finished.is_set()  # it did leave mid-run
    assert 3 <= totals[gone]["strides"] == _strides(got, gone)
    assert totals[stays]["strides"] == _strides(got, stays) == expected
    down = [r for r in records if r["message"].startswith("sensor link down")]
    assert down
    assert {r["runner"] for r in down} == {gone}
    assert [len(_history(r)) for r in (gone, stays)] == [1, 1]
