"""Fixture ``virtual_sensor``: the bumble virtual reference sensor streaming a real recording."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner

from conftest import REPLAY_DATA
from spinesense.emulator import VirtualSensor
from spinesense.sources.ble_discovery import BleakBackend
from spinesense.sources.replay import open_recording

RUN_RECORDING = REPLAY_DATA / "alcantara" / "shimmer_sacral_run.jsonl.gz"


@dataclass(frozen=True)
class Emulated:
    """A started virtual sensor (fault injection: its methods) and the bleak backend classes reaching it."""

    sensor: VirtualSensor
    backend: BleakBackend
    scanner: type[BaseBleakScanner]
    client: type[BaseBleakClient]


StartSensor = Callable[..., Coroutine[Any, Any, Emulated]]


@pytest.fixture
async def virtual_sensor() -> AsyncIterator[StartSensor]:
    """Start a virtual sensor on a recording (default: the Alcantara sacral run); yields an ``Emulated``.

    The backend goes to bleak's ``backend=``; the sensor's methods inject faults. Sensors are stopped
    at the end of the test.
    """
    async with contextlib.AsyncExitStack() as stack:

        async def start(path: Path = RUN_RECORDING, **kwargs: Any) -> Emulated:
            block = open_recording(path).block()
            sensor, backend = await stack.enter_async_context(VirtualSensor.running(block, **kwargs))
            assert backend.scanner is not None
            assert backend.client is not None
            return Emulated(sensor, backend, backend.scanner, backend.client)

        yield start
