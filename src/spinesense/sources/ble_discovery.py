"""Finding sensors over BLE: which families spinesense speaks, scanning, and matching a target.

Works through bleak's public API only; ``backend`` (a ``BleakBackend`` pair) is passed to bleak's own
``backend=`` seam so the same code reaches real adapters and the bumble-based virtual sensor. A missing
adapter, BlueZ or D-Bus becomes ``BluetoothUnavailableError`` with one clear sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bleak import BleakScanner
from bleak.exc import BleakError

from spinesense.sensors import movesense, polar_pmd, reference

if TYPE_CHECKING:
    from bleak.backends.client import BaseBleakClient
    from bleak.backends.device import BLEDevice
    from bleak.backends.scanner import AdvertisementData, BaseBleakScanner


class BluetoothUnavailableError(RuntimeError):
    """No usable Bluetooth: no adapter, adapter off, no BlueZ or no D-Bus."""


@dataclass(frozen=True, slots=True)
class BleakBackend:
    """The scanner and client backend types handed to bleak's ``backend=`` (None: the platform's own)."""

    scanner: type[BaseBleakScanner] | None = None
    client: type[BaseBleakClient] | None = None

    def scanner_kwargs(self) -> dict[str, Any]:
        """Keyword arguments that hand the scanner backend to BleakScanner (none: the platform's own)."""
        return {"backend": self.scanner} if self.scanner else {}

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments that hand the client backend to BleakClient (none: the platform's own)."""
        return {"backend": self.client} if self.client else {}


@dataclass(frozen=True, slots=True)
class SensorFamily:
    """How to recognise a sensor family and what to do after connecting to stream from it."""

    protocol: str
    """Decoder name (sensors.DECODERS) and capture header protocol."""
    name_prefixes: tuple[str, ...]
    service_uuid: str
    rate_hz: float
    """Nominal sample rate spinesense asks for."""
    frame_period_s: float
    """Typical time between data notifications, for the watchdog."""
    notify_uuids: tuple[str, ...]
    """Characteristics to subscribe to, in order."""
    read_uuids: tuple[str, ...] = ()
    """Characteristics read (and recorded) after connecting."""
    start_writes: tuple[tuple[str, bytes], ...] = field(default=())
    """Writes (with response) after subscribing that start streaming."""


def _polar_family(model: polar_pmd.PolarModel) -> SensorFamily:
    """A Polar model streams over PMD: control point indications and data notifications."""
    return SensorFamily(
        model.protocol,
        (model.name_prefix,),
        polar_pmd.SERVICE_UUID,
        model.rate_hz,
        0.2,
        (polar_pmd.CONTROL_UUID, polar_pmd.DATA_UUID),
        start_writes=tuple((polar_pmd.CONTROL_UUID, c) for c in model.start_commands()),
    )


FAMILIES: tuple[SensorFamily, ...] = (
    SensorFamily(
        "reference",
        (reference.NAME_PREFIX,),
        reference.SERVICE_UUID,
        200.0,
        reference.MAX_SAMPLES_PER_FRAME / 200.0,
        (reference.CONTROL_UUID, reference.DATA_UUID),
        (reference.INFO_UUID,),
    ),
    *(_polar_family(model) for model in (polar_pmd.VERITY_SENSE, polar_pmd.H10)),
    SensorFamily(
        "movesense",
        (movesense.NAME_PREFIX,),
        movesense.SERVICE_UUID,
        movesense.RATE_HZ,
        0.1,
        (movesense.NOTIFY_UUID,),
        start_writes=((movesense.WRITE_UUID, movesense.subscribe_command()),),
    ),
)
"""Every sensor family spinesense can stream from."""


def identify(name: str | None, service_uuids: list[str]) -> SensorFamily | None:
    """The family a sensor belongs to, by advertised name prefix first, then by advertised service."""
    for family in FAMILIES:
        if name and name.startswith(family.name_prefixes):
            return family
    uuids = {u.lower() for u in service_uuids}
    return next((f for f in FAMILIES if f.service_uuid in uuids), None)


@dataclass(frozen=True, slots=True)
class FoundSensor:
    """A sensor seen while scanning."""

    device: BLEDevice
    name: str
    rssi: int
    family: SensorFamily | None
    service_uuids: tuple[str, ...]


def _found(device: BLEDevice, adv: AdvertisementData) -> FoundSensor:
    """Describe one advertisement."""
    name = adv.local_name or device.name or ""
    return FoundSensor(device, name, adv.rssi, identify(name, adv.service_uuids), tuple(adv.service_uuids))


def matches(sensor: FoundSensor, target: str | None) -> bool:
    """Whether ``sensor`` is the one asked for: by address, exact name, name prefix or service UUID.

    Without a target any sensor of a known family matches.
    """
    if target is None:
        return sensor.family is not None
    wanted = target.lower()
    return (
        sensor.device.address.lower() == wanted
        or sensor.name.lower().startswith(wanted)
        or wanted in (u.lower() for u in sensor.service_uuids)
    )


def unavailable_from(exc: FileNotFoundError | BleakError) -> BluetoothUnavailableError:
    """The clear error for an exception that means Bluetooth itself is unusable.

    bleak raises a bare FileNotFoundError when there is no D-Bus socket, BleakDBusError when BlueZ is
    not running, and BleakError when there is no adapter or it is off.
    """
    text = str(exc) or type(exc).__name__
    if isinstance(exc, FileNotFoundError):
        return BluetoothUnavailableError(f"Bluetooth is unavailable: no D-Bus system bus ({text})")
    return BluetoothUnavailableError(f"Bluetooth is unavailable: {text}")


async def scan(timeout: float, *, backend: BleakBackend | None = None) -> list[FoundSensor]:  # noqa: ASYNC109 - scan length
    """Every advertising device seen within ``timeout`` seconds, strongest signal first."""
    kwargs = (backend or BleakBackend()).scanner_kwargs()
    try:
        seen = await BleakScanner.discover(timeout=timeout, return_adv=True, **kwargs)
    except (FileNotFoundError, BleakError) as exc:
        raise unavailable_from(exc) from exc
    return sorted((_found(d, a) for d, a in seen.values()), key=lambda s: -s.rssi)


async def find_sensor(
    target: str | None,
    *,
    timeout: float,  # noqa: ASYNC109 - scan length
    backend: BleakBackend | None = None,
) -> FoundSensor | None:
    """The first advertising sensor matching ``target`` (see ``matches``), or None within ``timeout``."""
    kwargs = (backend or BleakBackend()).scanner_kwargs()
    hits: list[FoundSensor] = []

    def wanted(device: BLEDevice, adv: AdvertisementData) -> bool:
        sensor = _found(device, adv)
        if matches(sensor, target):
            hits.append(sensor)
            return True
        return False

    try:
        device = await BleakScanner.find_device_by_filter(wanted, timeout=timeout, **kwargs)
    except (FileNotFoundError, BleakError) as exc:
        raise unavailable_from(exc) from exc
    return hits[-1] if device is not None and hits else None
