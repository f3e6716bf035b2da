"""Live sensors over Bluetooth LE through bleak: discovery (ble_discovery) and sessions (ble_session)."""

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
from spinesense.sources.ble_session import (
    Backoff,
    BleSession,
    SessionGaveUpError,
    SessionOptions,
    SessionStats,
)

__all__ = [
    "FAMILIES",
    "Backoff",
    "BleSession",
    "BleakBackend",
    "BluetoothUnavailableError",
    "FoundSensor",
    "SensorFamily",
    "SessionGaveUpError",
    "SessionOptions",
    "SessionStats",
    "find_sensor",
    "identify",
    "scan",
]
