"""A virtual reference sensor on bumble: advertises, serves the reference GATT layout and streams a recording.

It behaves like the firmware in ``firmware_notes/reference-protocol.md``: it starts sampling when the
host subscribes to the data characteristic (or writes START), keeps sampling while the link is down (those
frames are lost, as on the real sensor), answers control point commands with indications, and can be told
to drop frames, stall (link up, no data), disconnect, or vanish (stop advertising) and return.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import time
from typing import TYPE_CHECKING

from bumble.core import UUID, AdvertisingData
from bumble.gatt import Characteristic, CharacteristicValue, Service

from spinesense.emulator.bleak_backend import backend_for
from spinesense.emulator.radio import Radio
from spinesense.models import Counts
from spinesense.sensors import reference

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from bumble.device import Connection, Device

    from spinesense.emulator.radio import DeviceFactory
    from spinesense.models import SampleBlock
    from spinesense.sources.ble_discovery import BleakBackend

log = logging.getLogger(__name__)

ADVERTISING_INTERVAL_MS: float = 50.0
"""Fast advertising (a sensor looking for its host), so scans find it within a fraction of a second."""
_TIME_SYNC = struct.Struct("<Q")
_TIME_SYNC_RESULT = struct.Struct("<II")


class VirtualSensor:
    """A reference-protocol sensor on a bumble ``Radio`` that streams one recording's samples."""

    def __init__(
        self,
        device_for: DeviceFactory,
        block: SampleBlock,
        *,
        name: str = "SpineSense-E1A0",
        address: str = "E1:A0:5E:05:E0:01",
        speed: float = 1.0,
    ) -> None:
        """Encode ``block`` as reference frames; ``speed`` plays it that many times faster than real time."""
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.info = reference.SensorInfo(sample_rate_hz=block.rate_hz, has_gyro=block.gyr_radps is not None)
        self.frames = reference.encode_samples(block.acc_mps2, block.gyr_radps, self.info)
        self.block = block
        self.name = name
        self.address = address
        self.speed = speed
        self.counts = Counts()
        """Frames sent, frames dropped (sampled while no host listened: link down, stalled, dropped on
        command) and their samples, connects, and disconnects the sensor forced."""
        self.lost_ranges: list[tuple[int, int]] = []
        """(first_sample_index, n_samples) of every lost frame, in order."""
        self.device: Device = device_for(name, address)
        self._connection: Connection | None = None
        self._subscribed = False
        self._drop = 0
        self._stall_until = 0.0
        self._cursor = 0
        self._stream: asyncio.Task[None] | None = None
        self.finished = asyncio.Event()
        self._data = Characteristic(
            reference.DATA_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b""
        )
        self._info = Characteristic(
            reference.INFO_UUID, Characteristic.Properties.READ, Characteristic.READABLE, self.info.to_bytes()
        )
        self._control: Characteristic[bytes] = Characteristic(
            reference.CONTROL_UUID,
            Characteristic.Properties.WRITE | Characteristic.Properties.INDICATE,
            Characteristic.WRITEABLE,
            CharacteristicValue(write=self._on_control),
        )
        self.device.add_service(Service(reference.SERVICE_UUID, [self._data, self._info, self._control]))
        self.device.on("connection", self._on_connection)
        self.device.on("characteristic_subscription", self._on_subscription)

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls, block: SampleBlock, *, radio: Radio | None = None, **kwargs: str | float
    ) -> AsyncIterator[tuple[VirtualSensor, BleakBackend]]:
        """A sensor advertising on ``radio`` (None: a fresh one) and its bleak backend; stopped at exit.

        The backend reaches every sensor on the radio, so several sensors can be served at once.
        """
        radio = radio or Radio()
        await radio.central()  # the host's adapter is up before anything scans, as on a real machine
        sensor = cls(radio.device, block, **kwargs)  # type: ignore[arg-type]
        await sensor.start()
        try:
            yield sensor, backend_for(radio)
        finally:
            await sensor.stop()

    @property
    def connected(self) -> bool:
        """Whether a host is connected now."""
        return self._connection is not None

    async def start(self) -> None:
        """Power on and advertise name and service UUID."""
        await self.device.power_on()
        await self.advertise()

    async def advertise(self) -> None:
        """Advertise (connectable) with the local name and the reference service UUID."""
        data = AdvertisingData(
            [
                (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
                (
                    AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                    bytes(UUID(reference.SERVICE_UUID)),
                ),
            ]
        )
        await self.device.start_advertising(
            advertising_data=bytes(data),
            auto_restart=True,
            advertising_interval_min=ADVERTISING_INTERVAL_MS,
            advertising_interval_max=ADVERTISING_INTERVAL_MS,
        )

    async def stop(self) -> None:
        """Stop streaming and advertising and drop any connection."""
        if self._stream is not None:
            self._stream.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stream
        await self.device.stop_advertising()
        await self.disconnect()

    # Fault injection -------------------------------------------------------------------------------------

    def drop_frames(self, count: int) -> None:
        """Lose the next ``count`` frames on the air (sampled, never delivered)."""
        self._drop += count

    def stall(self, seconds: float) -> None:
        """Keep the link up but deliver nothing for ``seconds`` (frames sampled meanwhile are lost)."""
        self._stall_until = time.monotonic() + seconds

    async def disconnect(self) -> None:
        """Drop the link from the sensor side; it keeps sampling and advertising (auto restart)."""
        connection = self._connection
        if connection is not None:
            self.counts.disconnects += 1
            with contextlib.suppress(Exception):
                await connection.disconnect()

    async def vanish(self, seconds: float) -> None:
        """Disappear: stop advertising and drop the link for ``seconds``, then advertise again."""
        await self.device.stop_advertising()
        await self.disconnect()
        await asyncio.sleep(seconds)
        await self.advertise()

    # Link and GATT callbacks -----------------------------------------------------------------------------

    def _on_connection(self, connection: Connection) -> None:
        """A host connected: remember it and forget it again when it goes."""
        self._connection = connection
        self._subscribed = False
        self.counts.connects += 1

        def gone(_reason: int) -> None:
            if self._connection is connection:
                self._connection = None
                self._subscribed = False

        connection.on("disconnection", gone)

    def _on_subscription(
        self, connection: Connection, characteristic: Characteristic[bytes], notify: bool, _indicate: bool
    ) -> None:
        """Notifications on data enabled: start sampling if not running (firmware notes §6)."""
        if characteristic is self._data and connection is self._connection:
            self._subscribed = notify
            if notify:
                self._start_stream()

    def _start_stream(self) -> None:
        """Start the sampling loop once; later subscriptions join the running stream."""
        if self._stream is None:
            self._stream = asyncio.create_task(self._run())

    async def _on_control(self, connection: Connection, value: bytes) -> None:
        """Run one control point command and indicate ``0x80, opcode, status, [result]``."""
        opcode = value[0] if value else 0
        status, result = reference.STATUS_OK, b""
        if opcode == reference.OP_START:
            self._start_stream()
        elif opcode == reference.OP_STOP:
            if self._stream is not None:
                self._stream.cancel()
                self._stream = None
        elif opcode in (reference.OP_SET_RATE, reference.OP_SET_RANGE):
            streaming = self._stream is not None
            status = (
                reference.STATUS_NOT_ALLOWED_WHILE_STREAMING if streaming else reference.STATUS_UNSUPPORTED
            )
        elif opcode == reference.OP_TIME_SYNC and len(value) == 1 + _TIME_SYNC.size:
            index = self._cursor * reference.MAX_SAMPLES_PER_FRAME
            clock_us = round(index * 1e6 / self.info.sample_rate_hz)
            result = _TIME_SYNC_RESULT.pack(clock_us % (1 << 32), index % (1 << 32))
        elif opcode == reference.OP_TIME_SYNC:
            status = reference.STATUS_INVALID_PARAMETER  # a time sync without its 8-byte host time
        else:
            status = reference.STATUS_UNSUPPORTED
        response = bytes([reference.OP_RESPONSE, opcode, status]) + result
        asyncio.get_running_loop().create_task(self._indicate(connection, response))

    async def _indicate(self, connection: Connection, response: bytes) -> None:
        """Send a control point response; a host that has not subscribed simply does not get it."""
        with contextlib.suppress(Exception):
            await self.device.indicate_subscriber(connection, self._control, response)

    # Streaming -------------------------------------------------------------------------------------------

    async def _run(self) -> None:
        """Sample every frame on the sensor clock (scaled by ``speed``); deliver it when a host listens."""
        period = reference.MAX_SAMPLES_PER_FRAME / self.info.sample_rate_hz / self.speed
        start = time.monotonic()
        while self._cursor < len(self.frames):
            due = start + self._cursor * period
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await self._deliver(self.frames[self._cursor])
            self._cursor += 1
        self.finished.set()

    async def _deliver(self, frame: bytes) -> None:
        """Notify the frame, or count it lost when nobody can receive it now."""
        connection = self._connection
        stalled = time.monotonic() < self._stall_until
        if connection is None or not self._subscribed or stalled or self._drop > 0:
            self._drop = max(0, self._drop - 1)
            self._lose(frame)
            return
        try:
            await self.device.notify_subscriber(connection, self._data, frame)
        except Exception:  # noqa: BLE001 - a link that died mid-send loses the frame, like the air does
            log.debug("frame %d lost: link went down while sending", self._cursor)
            self._lose(frame)
            return
        self.counts.frames += 1

    def _lose(self, frame: bytes) -> None:
        """Count the current frame and its samples as lost."""
        n = (len(frame) - reference.HEADER.size) // reference.SAMPLE_BYTES
        self.counts.dropped_frames += 1
        self.counts.lost_samples += n
        self.lost_ranges.append((self._cursor * reference.MAX_SAMPLES_PER_FRAME, n))
