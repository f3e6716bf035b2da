# ruff: noqa: ARG002 - the backend methods keep bleak's signatures
"""A scripted fake bleak backend, ONLY for link faults the real stack cannot be told to produce on cue.

``ScriptedSensor`` stands for a sensor on the air (reference frames unless given others) whose link
misbehaves to a script: a connect that never completes (a timed-out connect), a link that stays up but
goes silent (a BlueZ zombie link), an unsolicited disconnect after some frames while the sensor keeps
sampling (frames sent while nobody listens are lost, as on a real sensor), a sensor that stops
advertising, and a D-Bus-less host. It plugs into bleak through bleak's public ``backend=`` seam
(scanner and client backend classes), so the code under test is exactly what runs against hardware.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection

from spinesense.sensors import reference
from spinesense.sources.ble_discovery import BleakBackend


@dataclass
class Link:
    """What one connection does: ``connect_hangs`` (timed-out connect), or stream ``frames`` then ``then``."""

    frames: int = 0
    then: str = "disconnect"
    """``disconnect`` (unsolicited) or ``silent`` (zombie: link up, no data)."""
    lost_after: int = 0
    """Frames the sensor sends while nobody listens after this link ends (lost)."""
    connect_hangs: bool = False


@dataclass
class ScriptedSensor:
    """A reference sensor: its frames and one ``Link`` per connection; no advertising once links run out."""

    links: list[Link]
    name: str = "SpineSense-0A1B"
    address: str = "AA:BB:CC:DD:0A:1B"
    service_uuid: str = reference.SERVICE_UUID
    chars: tuple[str, ...] = (reference.DATA_UUID, reference.INFO_UUID, reference.CONTROL_UUID)
    data_uuid: str = reference.DATA_UUID
    interval_s: float = 0.001
    frames: list[bytes] = field(default_factory=list)
    cursor: int = 0
    connections: int = 0
    scans: int = 0
    scans_at_connect: list[int] = field(default_factory=list)
    """How many scans had started when each connection began."""
    writes: list[tuple[str, bytes]] = field(default_factory=list)
    fail_scan_with: BaseException | None = None

    def __post_init__(self) -> None:
        """Encode enough distinct reference frames for the whole script, unless frames were given."""
        if self.frames:
            return
        needed = sum(link.frames + link.lost_after for link in self.links) + 1
        t = np.arange(needed * reference.MAX_SAMPLES_PER_FRAME) / 200.0
        acc = np.column_stack([np.sin(t), np.cos(t), 9.81 + np.sin(3 * t)])
        gyr = np.column_stack([np.sin(2 * t), np.zeros_like(t), np.cos(t)])
        self.frames = reference.encode_samples(acc, gyr, reference.SensorInfo())

    @property
    def advertising(self) -> bool:
        """Whether any scripted connection is left."""
        return self.connections < len(self.links)

    def backend(self) -> BleakBackend:
        """Scanner and client backend classes bound to this sensor."""
        scanner = type("ScriptedScanner", (FakeScanner,), {"sensor": self})
        client = type("ScriptedClient", (FakeClient,), {"sensor": self})
        return BleakBackend(scanner=scanner, client=client)


class FakeScanner(BaseBleakScanner):
    """Advertises the scripted sensor every 10 ms while scanning."""

    sensor: ClassVar[ScriptedSensor]

    def __init__(self, detection_callback: Any = None, service_uuids: Any = None, *_: Any, **__: Any) -> None:
        super().__init__(detection_callback, service_uuids)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.sensor.fail_scan_with is not None:
            raise self.sensor.fail_scan_with
        self.sensor.scans += 1
        self.seen_devices = {}
        self._task = asyncio.create_task(self._advertise())

    async def _advertise(self) -> None:
        while True:
            await asyncio.sleep(0.01)
            if self.sensor.advertising:
                adv = AdvertisementData(self.sensor.name, {}, {}, [self.sensor.service_uuid], None, -55, ())
                device = self.create_or_update_device(
                    self.sensor.address, self.sensor.address, self.sensor.name, None, adv
                )
                self.call_detection_callbacks(device, adv)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


class FakeClient(BaseBleakClient):
    """Plays one ``Link`` of the script per connection."""

    sensor: ClassVar[ScriptedSensor]

    def __init__(self, address_or_ble_device: BLEDevice | str, **kwargs: Any) -> None:
        super().__init__(
            address_or_ble_device,
            disconnected_callback=kwargs.get("disconnected_callback"),
            timeout=kwargs.get("timeout", 10.0),
        )
        self._connected = False
        self._task: asyncio.Task[None] | None = None
        self._link = Link()

    @property
    def mtu_size(self) -> int:
        return 247

    @property
    def is_connected(self) -> bool:
        return self._connected

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        self._link = self.sensor.links[self.sensor.connections]
        self.sensor.connections += 1
        self.sensor.scans_at_connect.append(self.sensor.scans)
        if self._link.connect_hangs:
            await asyncio.sleep(3600)
        self.services = _services(self.sensor)
        self._connected = True

    async def disconnect(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._connected = False

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    async def unpair(self) -> None:
        raise NotImplementedError

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, **kwargs: Any) -> bytearray:
        return bytearray(reference.SensorInfo().to_bytes())

    async def read_gatt_descriptor(self, *args: Any, **kwargs: Any) -> bytearray:
        raise NotImplementedError

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        self.sensor.writes.append((characteristic.uuid, bytes(data)))

    async def write_gatt_descriptor(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: Any, **kwargs: Any
    ) -> None:
        if characteristic.uuid == self.sensor.data_uuid:
            self._task = asyncio.create_task(self._stream(callback))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        return None

    async def _stream(self, callback: Any) -> None:
        sensor, link = self.sensor, self._link
        for _ in range(link.frames):
            await asyncio.sleep(sensor.interval_s)
            callback(bytearray(sensor.frames[sensor.cursor]))
            sensor.cursor += 1
        sensor.cursor += link.lost_after
        if link.then == "disconnect":
            self._connected = False
            if self._disconnected_callback is not None:
                self._disconnected_callback()


def _services(sensor: ScriptedSensor) -> BleakGATTServiceCollection:
    """The sensor's GATT layout as bleak describes it."""
    services = BleakGATTServiceCollection()
    service = BleakGATTService(None, 1, sensor.service_uuid)
    services.add_service(service)
    for handle, uuid in enumerate(sensor.chars, start=2):
        char = BleakGATTCharacteristic(None, handle, uuid, ["read", "notify", "write"], lambda: 244, service)
        services.add_characteristic(char)
    return services
