"""A virtual reference sensor on the bumble BLE stack and a bleak backend to reach it (tests, demos)."""

from spinesense.emulator.bleak_backend import backend_for
from spinesense.emulator.radio import DeviceFactory, Radio, on_transport
from spinesense.emulator.sensor import VirtualSensor

__all__ = ["DeviceFactory", "Radio", "VirtualSensor", "backend_for", "on_transport"]
