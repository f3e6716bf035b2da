"""Movesense over its GATT SensorData Protocol (GSP): the IMU6 subscription and its decoder.

Public source: Movesense "gatt_sensordata_app" sample and its protocol notes. The host writes
``u8 command, u8 reference, path`` to the write characteristic (command 1 = SUBSCRIBE, 2 = UNSUBSCRIBE;
path ``/Meas/IMU6/<rate>``). Data comes as notifications ``u8 2 (DATA), u8 reference`` then the
subscription's payload: ``u32 timestamp`` (ms on the sensor clock, of the FIRST sample), ``n x 3
float32`` acceleration in m/s^2, then ``n x 3 float32`` angular rate in deg/s. A payload too long for
one notification continues in a second one starting ``u8 3 (DATA_PART2), u8 reference``.

Timing: sample ``i`` is at ``timestamp + i / rate``. Without a sample counter, gaps come from the
timestamps (sensors/_timing.py) and are estimates; the millisecond clock is unwrapped at 2^32.
"""

from __future__ import annotations

import logging
import struct
from typing import Final

import numpy as np

from spinesense.models import SampleBlock
from spinesense.sensors._errors import DefectCounter
from spinesense.sensors._timing import TimestampedStream
from spinesense.sensors.reference import Unwrap32

log = logging.getLogger(__name__)

_UUID_SUFFIX = "-7185-4d5d-b431-630e7050e8f0"
SERVICE_UUID: Final = "34802252" + _UUID_SUFFIX
"""GSP service."""
WRITE_UUID: Final = "34800001" + _UUID_SUFFIX
"""Commands from the host."""
NOTIFY_UUID: Final = "34800002" + _UUID_SUFFIX
"""Responses and data from the sensor."""
NAME_PREFIX: Final = "Movesense"

CMD_SUBSCRIBE: Final = 1
CMD_UNSUBSCRIBE: Final = 2
RESP_COMMAND_RESULT: Final = 1
RESP_DATA: Final = 2
RESP_DATA_PART2: Final = 3
REFERENCE: Final = 99
"""Our subscription's reference byte: data with another reference is not ours."""
RATE_HZ: Final = 208
"""IMU6 rate spinesense subscribes at (the sensor offers 13 to 1666 Hz)."""
_SAMPLE_BYTES: Final = 24
_TIMESTAMP = struct.Struct("<I")


def subscribe_command(rate_hz: int = RATE_HZ, reference: int = REFERENCE) -> bytes:
    """SUBSCRIBE to the combined accelerometer and gyroscope resource at ``rate_hz``."""
    return bytes([CMD_SUBSCRIBE, reference]) + f"/Meas/IMU6/{rate_hz}".encode("ascii")


def unsubscribe_command(reference: int = REFERENCE) -> bytes:
    """UNSUBSCRIBE our subscription."""
    return bytes([CMD_UNSUBSCRIBE, reference])


class MovesenseDecoder:
    """Stateful decoder of a Movesense IMU6 subscription into SampleBlocks."""

    def __init__(self, rate_hz: float = RATE_HZ, reference: int = REFERENCE) -> None:
        """Start a decoder for the subscription ``reference`` at ``rate_hz``."""
        self.rate_hz = float(rate_hz)
        self.reference = reference
        self._defects = DefectCounter(log, "Movesense: %s (%s); further ones are only counted")
        self.errors = self._defects.errors
        self.samples = 0
        self._stream = TimestampedStream(self.rate_hz)
        self._clock = Unwrap32()
        self._t0_ms: int | None = None
        self._part1: bytes | None = None

    @property
    def lost_samples(self) -> int:
        """Samples reported missing (estimated from timestamps); the stream's own count."""
        return self._stream.lost_samples

    def feed(self, char: str, data: bytes, host_t_ns: int | None = None) -> SampleBlock | None:
        """Take one notification of the GSP notify characteristic; return its samples, if any."""
        if char != NOTIFY_UUID:
            self._defects.count("unknown_characteristic", char)
            return None
        if len(data) < 2:
            self._defects.count("too_short", f"{len(data)} bytes")
            return None
        kind, reference = data[0], data[1]
        if kind == RESP_COMMAND_RESULT:
            return None
        if reference != self.reference or kind not in (RESP_DATA, RESP_DATA_PART2):
            self._defects.count("not_ours", f"response {kind} for reference {reference}")
            return None
        payload = self._assemble(kind, data[2:])
        return None if payload is None else self._decode(payload, host_t_ns)

    def _assemble(self, kind: int, part: bytes) -> bytes | None:
        """A complete payload from a DATA or DATA_PART2 notification; None while waiting for a second part."""
        if kind == RESP_DATA_PART2:
            if self._part1 is None:
                self._defects.count("orphan_part2", "second part without a first")
                return None
            payload, self._part1 = self._part1 + part, None
            return payload
        if self._part1 is not None:
            self._defects.count("torn_payload", "first part never completed")
        self._part1 = None
        if (len(part) - _TIMESTAMP.size) % _SAMPLE_BYTES:
            self._part1 = part
            return None
        return part

    def _decode(self, payload: bytes, host_t_ns: int | None) -> SampleBlock | None:
        """Turn one complete IMU6 payload into a block."""
        n, rest = divmod(len(payload) - _TIMESTAMP.size, _SAMPLE_BYTES)
        if n < 1 or rest:
            self._defects.count(
                "bad_length", f"{len(payload)}-byte payload is not a timestamp plus whole samples"
            )
            return None
        (stamp,) = _TIMESTAMP.unpack_from(payload)
        t_ms = self._clock(stamp)
        if self._t0_ms is None:
            self._t0_ms = t_ms
        raw = np.frombuffer(payload, "<f4", offset=_TIMESTAMP.size)
        if not np.isfinite(raw).all():  # checked before widening: a signalling NaN would warn in the cast
            self._defects.count("not_finite", "NaN or infinite sample")
            return None
        values = raw.astype(np.float64).reshape(2, n, 3)
        first_t_s = (t_ms - self._t0_ms) * 1e-3
        index, gaps = self._stream.place(first_t_s, n)
        self.samples += n
        return SampleBlock(
            t_s=first_t_s + np.arange(n) / self.rate_hz,
            acc_mps2=values[0],
            gyr_radps=np.deg2rad(values[1]),
            first_index=index,
            rate_hz=self.rate_hz,
            gaps=gaps,
            host_t_ns=host_t_ns,
        )
