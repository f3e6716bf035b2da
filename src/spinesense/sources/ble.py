"""Live sensors over Bluetooth LE through bleak: discovery (ble_discovery) and the link (ble_link)."""

from spinesense.sources.ble_discovery import (
    FAMILIES,
    BleakBackend,
    BluetoothUnavailableError,
    FoundSensor,
    SensorFamily,
    find_sensor,
    identify,
    scan,
)
from spinesense.sources.ble_link import (
    Backoff,
    LinkGaveUpError,
    LinkOptions,
    SensorLink,
    SensorNotFoundError,
)

__all__ = [
    "FAMILIES",
    "Backoff",
    "BleakBackend",
    "BluetoothUnavailableError",
    "FoundSensor",
    "LinkGaveUpError",
    "LinkOptions",
    "SensorFamily",
    "SensorLink",
    "SensorNotFoundError",
    "find_sensor",
    "identify",
    "scan",
]
