"""What scan, record, run and demo share: the live BLE session and Bluetooth trouble as one clear line."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from spinesense.capture import make_header
from spinesense.cli.commands._base import EXIT_UNAVAILABLE, CommandError
from spinesense.cli.commands._session import run_session
from spinesense.sensors import make_decoder
from spinesense.sources.ble import (
    BleakBackend,
    BleSession,
    BluetoothUnavailableError,
    FoundSensor,
    SensorFamily,
    SessionGaveUpError,
    SessionOptions,
    find_sensor,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from spinesense.config import Config
    from spinesense.models import Record

END_GRACE_S = 0.5
"""After a sensor's stream ends: time for the notifications still on their way."""


@contextlib.contextmanager
def bluetooth_errors() -> Iterator[None]:
    """Report a missing adapter/BlueZ/D-Bus or a session that gave up as a CommandError (exit code 3)."""
    try:
        yield
    except BluetoothUnavailableError as exc:
        raise CommandError(
            f"{exc}; check that an adapter is present and BlueZ is running", EXIT_UNAVAILABLE
        ) from None
    except SessionGaveUpError as exc:
        raise CommandError(str(exc), EXIT_UNAVAILABLE) from None


async def run_live(
    config: Config,
    target: str | None,
    *,
    options: SessionOptions,
    backend: BleakBackend | None = None,
    until: asyncio.Event | None = None,
    length_s: float | None = None,
    source: str = "spinesense run",
) -> int:
    """Find the sensor once (its protocol picks the decoder), then run a session on it, reconnecting.

    ``until``: set when the sensor's stream is over (the virtual sensor's end of recording); without
    it the session runs until Ctrl-C or SIGTERM.
    """
    found = await find_sensor(target, timeout=options.scan_timeout_s, backend=backend)
    if found is None or found.family is None:
        wanted = repr(target) if target else "supported sensor"
        raise CommandError(
            f"no {wanted} found in {options.scan_timeout_s:g} s (is it awake and near?)", EXIT_UNAVAILABLE
        )
    header = header_for(found, found.family, source, runner={"id": config.runner_id})
    session = BleSession(found.device.address, backend=backend, options=options)
    records = aiter(session) if until is None else _until(session, until)
    return await run_session(config, make_decoder(found.family.protocol), records, header, length_s)


def header_for(
    sensor: FoundSensor, family: SensorFamily, source: str, runner: dict[str, str] | None = None
) -> dict[str, Any]:
    """The capture header for a stream from ``sensor`` (which speaks ``family``'s protocol)."""
    return make_header(
        protocol=family.protocol,
        rate_hz=family.rate_hz,
        sensor_name=sensor.name,
        sensor_address=sensor.device.address,
        runner=runner,
        source=source,
    )


async def _until(session: BleSession, ended: asyncio.Event) -> AsyncIterator[Record]:
    """The session's records until ``ended`` is set and the last notifications have had time to arrive."""
    queue: asyncio.Queue[Record | None] = asyncio.Queue(session.options.queue_size)

    async def pump() -> None:
        async for record in session:
            await queue.put(record)

    async def end() -> None:
        await ended.wait()
        await asyncio.sleep(END_GRACE_S)
        await queue.put(None)

    tasks = [asyncio.create_task(pump()), asyncio.create_task(end())]
    try:
        while (record := await queue.get()) is not None:
            yield record
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
