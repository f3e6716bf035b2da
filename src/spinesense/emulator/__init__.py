"""A virtual reference sensor on the bumble BLE stack and a bleak backend to reach it (tests, demos)."""

from spinesense.emulator.bleak_backend import backend_for
from spinesense.emulator.radio import Radio
from spinesense.emulator.sensor import SensorStats, VirtualSensor

__all__ = ["Radio", "SensorStats", "VirtualSensor", "backend_for"]
