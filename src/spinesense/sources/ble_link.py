"""The link to a live BLE sensor, kept up for a whole run: connect, subscribe, stream, reconnect.

``SensorLink`` is a source: ``start()`` finds the sensor once (its protocol picks the service's decoder
and names the capture header), then iterating it yields the records a capture holds (``FrameRecord``
per notification or read, ``EventRecord`` for connect, disconnect, overflow ...), so the service and
the recorder treat live and replayed streams alike. It does not decode: the service's one decoder finds
the gaps. A plain notification callback stamps each value with the host receive time and hands it to
the event loop (``call_soon_threadsafe``) into a bounded queue; when the consumer falls behind, frames
beyond the bound are counted and reported in an ``overflow`` event, never dropped silently. The
disconnect callback queues a marker behind the frames already received, so nothing that came before a
disconnect is lost. After an unsolicited disconnect, a failed connect or a watchdog timeout (no frame
for a while although the link claims to be up: a zombie link), it waits with exponential backoff and
jitter, scans afresh, builds a new BleakClient for the fresh BLEDevice, resubscribes and resumes; it
gives up only after ``max_attempts`` consecutive failures, when given.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from bleak import BleakClient
from bleak.exc import BleakError

from spinesense.capture import make_header
from spinesense.models import Counts, EventRecord, FrameRecord, Record
from spinesense.sources.ble_discovery import (
    BleakBackend,
    SensorFamily,
    find_sensor,
    unavailable_from,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from bleak.backends.characteristic import BleakGATTCharacteristic

    from spinesense.sources.ble_discovery import FoundSensor

log = logging.getLogger(__name__)

_LOST: Final = object()
"""Queued by the disconnect callback behind every frame received before it."""


class LinkGaveUpError(RuntimeError):
    """The link stopped reconnecting after the allowed number of consecutive failed attempts."""


class SensorNotFoundError(RuntimeError):
    """No sensor matching the target answered the first scan."""


class _AttemptEndedError(Exception):
    """One connection ended or never came up; the message says why."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter: attempt k waits ``initial * factor^(k-1)`` (capped) +- jitter."""

    initial_s: float = 0.5
    factor: float = 2.0
    max_s: float = 30.0
    jitter: float = 0.25
    """Fraction of the delay drawn uniformly either way, so many hosts do not retry in step."""

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before attempt ``attempt`` (1 = the first retry)."""
        base = min(self.max_s, self.initial_s * self.factor ** max(0, attempt - 1))
        return base * (1.0 + self.jitter * (2.0 * rng.random() - 1.0))


@dataclass(frozen=True, slots=True)
class LinkOptions:
    """Tuning of a sensor link; the defaults suit a run."""

    scan_timeout_s: float = 10.0
    connect_timeout_s: float = 20.0
    connect_grace_s: float = 5.0
    """How much longer than ``connect_timeout_s`` a connect may hang before it is abandoned (a backend
    that does not keep its own timeout)."""
    watchdog_s: float | None = None
    """No frame for this long while connected forces a reconnect; None: 20 frame periods, at least 2 s."""
    max_attempts: int | None = None
    """Consecutive failed attempts before giving up; None: never give up."""
    backoff: Backoff = field(default_factory=Backoff)
    queue_size: int = 4096


class SensorLink:
    """Streams records from one sensor, reconnecting after dropouts (see the module docstring)."""

    def __init__(
        self,
        target: str | None,
        *,
        backend: BleakBackend | None = None,
        options: LinkOptions | None = None,
        source: str = "spinesense",
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        """Prepare a link to ``target`` (name, address or service UUID; None: any known sensor).

        ``source`` names what runs it in the capture header; ``rng``, ``sleep`` and ``clock_ns`` are
        injectable so tests can check the backoff schedule.
        """
        self.target = target
        self.backend = backend or BleakBackend()
        self.options = options or LinkOptions()
        self.source = source
        self.counts = Counts()
        self.sensor: FoundSensor | None = None
        """The sensor found by ``start()`` or the latest scan."""
        self._found_once: FoundSensor | None = None
        """Found by ``start()`` and not connected to yet: the first connection needs no second scan."""
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._sleep = sleep
        self._clock_ns = clock_ns
        self._queue: asyncio.Queue[FrameRecord | object] = asyncio.Queue()
        self._overflow_reported = 0
        self._lost_at: float | None = None

    async def start(self) -> dict[str, Any]:
        """Find the sensor (one scan) and return the capture header for its stream.

        Raises SensorNotFoundError when nothing matching the target speaks a protocol spinesense knows.
        """
        found = await find_sensor(self.target, timeout=self.options.scan_timeout_s, backend=self.backend)
        if found is None or found.family is None:
            wanted = repr(self.target) if self.target else "supported sensor"
            raise SensorNotFoundError(
                f"no {wanted} found in {self.options.scan_timeout_s:g} s (is it awake and near?)"
            )
        self.sensor = self._found_once = found
        self.target = found.device.address  # reconnect to this sensor, not to any other that matches
        return self.header()

    def header(self) -> dict[str, Any]:
        """The capture header for the stream of the sensor found (call after a scan found one)."""
        if self.sensor is None or self.sensor.family is None:
            raise RuntimeError("no sensor found yet: call start() first")
        return make_header(
            protocol=self.sensor.family.protocol,
            rate_hz=self.sensor.family.rate_hz,
            sensor_name=self.sensor.name,
            sensor_address=self.sensor.device.address,
            source=self.source,
        )

    def __aiter__(self) -> AsyncIterator[Record]:
        """Stream records until cancelled or until the link gives up."""
        return self._run()

    async def _run(self) -> AsyncIterator[Record]:
        """Connection after connection, with backoff in between."""
        failures = 0
        while True:
            frames_before = self.counts.frames
            try:
                async for record in self._connection():
                    yield record
            except _AttemptEndedError as exc:
                reason = str(exc)
            except (BleakError, TimeoutError, OSError) as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            for record in self._drain():
                yield record
            if self._lost_at is None:
                self._lost_at = time.monotonic()
            failures = 0 if self.counts.frames > frames_before else failures + 1
            yield self._event("disconnect", reason=reason, failures=failures)
            log.warning("sensor link down (%s)", reason)
            if self.options.max_attempts is not None and failures >= self.options.max_attempts:
                yield self._event("give_up", failures=failures)
                raise LinkGaveUpError(f"gave up after {failures} failed attempts; last: {reason}")
            delay = self.options.backoff.delay(max(1, failures), self._rng)
            yield self._event("reconnect_wait", delay_s=round(delay, 3), attempt=failures + 1)
            await self._sleep(delay)

    async def _connection(self) -> AsyncIterator[Record]:
        """One scan, connect, subscribe and stream; raises _AttemptEndedError when it ends."""
        options = self.options
        found, self._found_once = self._found_once, None
        if found is None:
            found = await find_sensor(self.target, timeout=options.scan_timeout_s, backend=self.backend)
        if found is None:
            wanted = self.target or "any supported sensor"
            raise _AttemptEndedError(f"no sensor matching {wanted!r} found in {options.scan_timeout_s:g} s")
        family = found.family
        if family is None:
            raise _AttemptEndedError(
                f"{found.name or found.device.address} speaks no protocol spinesense knows"
            )
        self.sensor = found
        # Unbounded on purpose: enqueue() caps frames at queue_size itself, so the _LOST marker always fits.
        queue: asyncio.Queue[FrameRecord | object] = asyncio.Queue()
        self._queue = queue
        loop = asyncio.get_running_loop()
        client = BleakClient(
            found.device,
            disconnected_callback=lambda _c: self._on_lost(loop, queue),
            timeout=options.connect_timeout_s,
            **self.backend.client_kwargs(),
        )
        try:
            try:
                async with asyncio.timeout(options.connect_timeout_s + options.connect_grace_s):
                    await client.connect()
            except FileNotFoundError as exc:
                raise unavailable_from(exc) from exc
            yield self._connected(found, family, client.mtu_size)
            for uuid in family.read_uuids:
                yield self._frame(uuid, bytes(await client.read_gatt_char(uuid)))
            for uuid in family.notify_uuids:
                await client.start_notify(uuid, self._callback(uuid, queue, loop))
            for char, data in family.start_writes:
                await client.write_gatt_char(char, data, response=True)
            async for record in self._pump(client, family):
                yield record
        finally:
            with contextlib.suppress(BleakError, TimeoutError, OSError):
                async with asyncio.timeout(5.0):
                    await client.disconnect()

    @staticmethod
    def _on_lost(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[FrameRecord | object]) -> None:
        """Disconnect callback: queue the marker behind every frame already received."""
        loop.call_soon_threadsafe(queue.put_nowait, _LOST)

    def _connected(self, found: FoundSensor, family: SensorFamily, mtu: int) -> EventRecord:
        """Count a connect, note the reconnect time, and describe it as an event."""
        self.counts.connects += 1
        fields: dict[str, Any] = {
            "address": found.device.address,
            "sensor_name": found.name,
            "protocol": family.protocol,
            "rssi": found.rssi,
            "mtu": mtu,
        }
        if self._lost_at is not None:
            took = time.monotonic() - self._lost_at
            self.counts.reconnect_s.append(took)
            fields["reconnect_s"] = round(took, 3)
            self._lost_at = None
        log.info("connected to %s (%s, %s)", found.name, found.device.address, family.protocol)
        return self._event("connect", **fields)

    def _callback(
        self, uuid: str, queue: asyncio.Queue[FrameRecord | object], loop: asyncio.AbstractEventLoop
    ) -> Callable[[BleakGATTCharacteristic, bytearray], None]:
        """A plain (not async) notification callback: stamp, then enqueue on the event loop."""
        limit = self.options.queue_size

        def enqueue(record: FrameRecord) -> None:
            if queue.qsize() >= limit:
                self.counts.dropped_frames += 1
                return
            queue.put_nowait(record)

        def on_notify(_char: BleakGATTCharacteristic, data: bytearray) -> None:
            loop.call_soon_threadsafe(enqueue, FrameRecord(self._clock_ns(), uuid, bytes(data)))

        return on_notify

    async def _pump(self, client: BleakClient, family: SensorFamily) -> AsyncIterator[Record]:
        """Yield queued frames until the link is lost or the watchdog fires."""
        watchdog_s = self.options.watchdog_s or max(2.0, 20 * family.frame_period_s)
        while True:
            try:
                async with asyncio.timeout(watchdog_s):
                    item = await self._queue.get()
            except TimeoutError:
                if not client.is_connected:
                    raise _AttemptEndedError("link lost") from None
                self.counts.watchdog_resets += 1
                raise _AttemptEndedError(
                    f"no data for {watchdog_s:g} s although the link is up: forcing a reconnect"
                ) from None
            if item is _LOST:
                self.counts.disconnects += 1
                raise _AttemptEndedError("sensor disconnected")
            if isinstance(item, FrameRecord):
                for record in self._received(item):
                    yield record

    def _drain(self) -> list[Record]:
        """Frames still queued after a connection ended (nothing received is lost)."""
        out: list[Record] = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if isinstance(item, FrameRecord):
                out.extend(self._received(item))
        return out

    def _received(self, frame: FrameRecord) -> list[Record]:
        """The frame, then an overflow event for frames dropped since the last one reported."""
        self.counts.frames += 1
        out: list[Record] = [frame]
        if self.counts.dropped_frames > self._overflow_reported:
            dropped = self.counts.dropped_frames - self._overflow_reported
            self._overflow_reported = self.counts.dropped_frames
            log.warning("consumer fell behind: %d frames not queued", dropped)
            out.append(self._event("overflow", dropped=dropped, total=self.counts.dropped_frames))
        return out

    def _frame(self, uuid: str, data: bytes) -> FrameRecord:
        """A characteristic read as a record (the decoder takes it like any frame; not counted as data)."""
        return FrameRecord(self._clock_ns(), uuid, data)

    def _event(self, event: str, /, **fields: Any) -> EventRecord:  # noqa: ANN401 - JSON values
        """An event stamped with the host clock, counted."""
        self.counts.events += 1
        return EventRecord(self._clock_ns(), event, fields)
