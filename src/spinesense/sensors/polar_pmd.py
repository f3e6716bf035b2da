"""Polar Verity Sense and H10 over the Polar Measurement Data (PMD) service: commands and decoder.

Public sources: Polar BLE SDK, technical_documentation/Polar_Measurement_Data_Specification.pdf and
TimeSystemExplained.md. A data notification is ``u8 measurement type, u64 timestamp (ns since
2000-01-01, of the frame's LAST sample), u8 frame type`` then samples: raw frames hold little-endian
signed integers per axis; compressed (delta) frames (frame type bit 7) hold one reference sample, then
blocks of ``u8 bit width, u8 count`` and ``count x 3`` signed deltas packed least significant bit first.
Acceleration is in mG, angular rate in deg/s, each times the factor the start response carries.

Timing: sample ``i`` of ``n`` is at ``timestamp - (n - 1 - i) / rate``. There is no sample counter, so
gaps come from timestamps (sensors/_timing.py) and are estimates. The Verity Sense streams acceleration
and angular rate as separate frames; the decoder holds acceleration until the gyroscope has caught up
and interpolates angular rate onto the acceleration times. The H10 has no gyroscope.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final

import numpy as np

from spinesense.models import GRAVITY_MPS2, SampleBlock, concat_blocks
from spinesense.sensors._errors import DefectCounter
from spinesense.sensors._timing import TimestampedStream

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

_UUID_SUFFIX = "-02e7-f387-1cad-8acd2d8df0c8"
SERVICE_UUID: Final = "fb005c80" + _UUID_SUFFIX
"""PMD service."""
CONTROL_UUID: Final = "fb005c81" + _UUID_SUFFIX
"""PMD control point: write commands, responses come back as indications."""
DATA_UUID: Final = "fb005c82" + _UUID_SUFFIX
"""PMD data: notifications with measurement frames."""

MEAS_ACC: Final = 2
MEAS_GYRO: Final = 5
MEAS_SDK_MODE: Final = 9
OP_START: Final = 0x02
CP_RESPONSE: Final = 0xF0
SETTING_SAMPLE_RATE: Final = 0
SETTING_RESOLUTION: Final = 1
SETTING_RANGE: Final = 2
SETTING_FACTOR: Final = 5
_SETTING_SIZES: Final = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1, 5: 4}
"""Bytes per value of each setting type in a control point response."""
_HEADER = struct.Struct("<BQB")
_DELTA_FLAG: Final = 0x80
_MAX_GYRO_LAG_S: Final = 1.0
"""Acceleration is held at most this long waiting for angular rate before it goes out without it."""


@dataclass(frozen=True, slots=True)
class PolarModel:
    """What spinesense asks of one Polar model: rates, ranges, and whether it needs SDK mode."""

    protocol: str
    name_prefix: str
    rate_hz: int
    acc_range_g: int
    gyro_range_dps: int | None
    """None: the model has no gyroscope."""
    sdk_mode: bool

    @property
    def has_gyro(self) -> bool:
        """Whether the model streams angular rate."""
        return self.gyro_range_dps is not None

    def start_commands(self) -> list[bytes]:
        """Control point writes that start streaming (SDK mode first where the model needs it)."""
        commands = [bytes([OP_START, MEAS_SDK_MODE])] if self.sdk_mode else []
        commands.append(start_command(MEAS_ACC, self.rate_hz, self.acc_range_g))
        if self.gyro_range_dps is not None:
            commands.append(start_command(MEAS_GYRO, self.rate_hz, self.gyro_range_dps))
        return commands


VERITY_SENSE: Final = PolarModel("polar_verity", "Polar Sense", 208, 16, 2000, sdk_mode=True)
"""Verity Sense in SDK mode: 208 Hz, +-16 g, +-2000 deg/s."""
H10: Final = PolarModel("polar_h10", "Polar H10", 200, 8, None, sdk_mode=False)
"""H10 chest strap worn at the sacrum: accelerometer only, 200 Hz, +-8 g (its largest range)."""


def start_command(measurement: int, rate_hz: int, range_: int, resolution: int = 16) -> bytes:
    """REQUEST_MEASUREMENT_START with sample rate, resolution and range settings."""
    return bytes([OP_START, measurement]) + b"".join(
        struct.pack("<BBH", setting, 1, value)
        for setting, value in (
            (SETTING_SAMPLE_RATE, rate_hz),
            (SETTING_RESOLUTION, resolution),
            (SETTING_RANGE, range_),
        )
    )


def parse_start_response(data: bytes) -> tuple[int, int, float | None] | None:
    """(measurement, status, factor or None) of a start response; None when ``data`` is not one."""
    if len(data) < 4 or data[0] != CP_RESPONSE or data[1] != OP_START:
        return None
    measurement, status = data[2], data[3]
    offset, factor = 5, None
    while offset + 2 <= len(data):
        setting, count = data[offset], data[offset + 1]
        size = _SETTING_SIZES.get(setting)
        if size is None or offset + 2 + size * count > len(data):
            break
        if setting == SETTING_FACTOR and count:
            (factor,) = struct.unpack_from("<f", data, offset + 2)
        offset += 2 + size * count
    return measurement, status, factor


def delta_decode(content: bytes, channels: int, ref_bits: int) -> NDArray[np.int64]:
    """Samples (n, channels) of a compressed frame: a reference sample plus bit-packed delta blocks."""
    ref_bytes = -(-ref_bits // 8)
    offset = channels * ref_bytes
    if len(content) < offset:
        raise ValueError(f"{len(content)} bytes, the reference sample alone is {offset}")
    ref = [
        int.from_bytes(content[i * ref_bytes : (i + 1) * ref_bytes], "little", signed=True)
        for i in range(channels)
    ]
    deltas = [np.zeros((1, channels), dtype=np.int64)]
    while offset < len(content):
        if offset + 2 > len(content):
            raise ValueError("delta block header cut off")
        width, count = content[offset], content[offset + 1]
        offset += 2
        n_bytes = -(-(width * count * channels) // 8)
        if width == 0 or width > 32 or offset + n_bytes > len(content):
            raise ValueError(f"delta block of {count} samples x {width} bits does not fit")
        bits = np.unpackbits(np.frombuffer(content, np.uint8, n_bytes, offset), bitorder="little")
        words = bits[: width * count * channels].reshape(-1, width).astype(np.int64) @ (1 << np.arange(width))
        words = np.where(words >= 1 << (width - 1), words - (1 << width), words)
        deltas.append(words.reshape(count, channels))
        offset += n_bytes
    return np.asarray(ref, dtype=np.int64) + np.cumsum(np.concatenate(deltas), axis=0)


def decode_samples(frame_type: int, content: bytes) -> NDArray[np.int64]:
    """Raw integer samples (n, 3) of an acceleration or gyroscope frame; ValueError when unsupported."""
    kind = frame_type & ~_DELTA_FLAG
    if frame_type & _DELTA_FLAG:
        if kind not in (0, 1):
            raise ValueError(f"compressed frame type {kind} not supported")
        return delta_decode(content, 3, 16)
    width = {0: 1, 1: 2, 2: 3}.get(kind)
    if width is None:
        raise ValueError(f"raw frame type {kind} not supported")
    if not content or len(content) % (3 * width):
        raise ValueError(f"{len(content)} bytes is not a whole number of {3 * width}-byte samples")
    raw = np.frombuffer(content, np.uint8).reshape(-1, width).astype(np.int64) @ (1 << (8 * np.arange(width)))
    sign = 1 << (8 * width - 1)
    return np.asarray(np.where(raw >= sign, raw - 2 * sign, raw).reshape(-1, 3), dtype=np.int64)


class PolarDecoder:
    """Stateful decoder of one Polar sensor's PMD stream into SampleBlocks (acceleration-timed)."""

    def __init__(self, model: PolarModel = VERITY_SENSE) -> None:
        """Start a decoder for ``model`` (its nominal rate until the factors arrive in start responses)."""
        self.model = model
        self._defects = DefectCounter(log, "Polar PMD: %s (%s); further ones are only counted")
        self.errors = self._defects.errors
        self.samples = 0
        self.factors = {MEAS_ACC: 1.0, MEAS_GYRO: 1.0}
        self._acc = TimestampedStream(float(model.rate_hz))
        self._t0_ns: int | None = None
        self._pending: list[SampleBlock] = []
        self._gyr_t = np.empty(0)
        self._gyr = np.empty((0, 3))

    @property
    def lost_samples(self) -> int:
        """Acceleration samples reported missing (estimated from timestamps); the stream's own count."""
        return self._acc.lost_samples

    def feed(self, char: str, data: bytes, host_t_ns: int | None = None) -> SampleBlock | None:
        """Take a control point response (factors) or a data notification; return samples when ready."""
        if char == CONTROL_UUID:
            response = parse_start_response(data)
            if response is not None and response[1] == 0 and response[2] is not None:
                self.factors[response[0]] = response[2]
            return None
        if char != DATA_UUID:
            self._defects.count("unknown_characteristic", char)
            return None
        parsed = self._parse(data)
        if parsed is None:
            return None
        measurement, t_s, scaled = parsed
        if measurement == MEAS_GYRO:
            self._gyr_t = np.concatenate([self._gyr_t, t_s])
            self._gyr = np.concatenate([self._gyr, np.deg2rad(scaled)])
            return self._release() if self.model.has_gyro else None
        index, gaps = self._acc.place(float(t_s[0]), t_s.size)
        block = SampleBlock(
            t_s, scaled * (GRAVITY_MPS2 / 1000.0), None, index, self.model.rate_hz, gaps, host_t_ns
        )
        if not self.model.has_gyro:
            self.samples += len(block)
            return block
        self._pending.append(block)
        return self._release()

    def _parse(self, data: bytes) -> tuple[int, NDArray[np.float64], NDArray[np.float64]] | None:
        """(measurement, sample times, scaled samples) of a data frame; None (counted) when unusable."""
        if len(data) < _HEADER.size:
            self._defects.count("too_short", f"{len(data)} bytes")
            return None
        measurement, stamp_ns, frame_type = _HEADER.unpack_from(data)
        if measurement not in (MEAS_ACC, MEAS_GYRO):
            self._defects.count("unknown_measurement", f"measurement type {measurement}")
            return None
        try:
            raw = decode_samples(frame_type, data[_HEADER.size :])
        except ValueError as exc:
            self._defects.count("bad_frame", str(exc))
            return None
        if self._t0_ns is None:
            self._t0_ns = stamp_ns
        last_t_s = (stamp_ns - self._t0_ns) * 1e-9
        t_s = last_t_s - np.arange(raw.shape[0] - 1, -1, -1) / self.model.rate_hz
        return measurement, t_s, np.asarray(raw * self.factors[measurement], dtype=np.float64)

    def _release(self) -> SampleBlock | None:
        """Emit held acceleration the gyroscope covers (or that waited too long), with angular rate."""
        ready: list[SampleBlock] = []
        gyr_end = self._gyr_t[-1] if self._gyr_t.size else -np.inf
        half = 0.5 / self.model.rate_hz
        while self._pending:
            block = self._pending[0]
            late = self._pending[-1].t_s[-1] - block.t_s[-1] > _MAX_GYRO_LAG_S
            if block.t_s[-1] > gyr_end + half and not late:
                break
            self._pending.pop(0)
            if not self._gyr_t.size:
                self._defects.count("gyro_missing", "acceleration went out before any angular rate came")
                gyr = np.zeros_like(block.acc_mps2)
            else:
                if block.t_s[-1] > gyr_end + half:
                    self._defects.count("gyro_late", "angular rate held at its last value")
                gyr = np.column_stack([np.interp(block.t_s, self._gyr_t, self._gyr[:, k]) for k in range(3)])
            ready.append(replace(block, gyr_radps=gyr))
        if self._gyr_t.size > 1:
            keep = max(0, int(np.searchsorted(self._gyr_t, self._next_needed_t() - 2 * half)) - 1)
            self._gyr_t, self._gyr = self._gyr_t[keep:], self._gyr[keep:]
        if not ready:
            return None
        out = concat_blocks(ready)
        self.samples += len(out)
        return out

    def _next_needed_t(self) -> float:
        """Earliest acceleration time still waiting for angular rate."""
        return float(self._pending[0].t_s[0]) if self._pending else float(self._gyr_t[-1])


def verity_decoder() -> PolarDecoder:
    """Decoder for a Polar Verity Sense in SDK mode."""
    return PolarDecoder(VERITY_SENSE)


def h10_decoder() -> PolarDecoder:
    """Decoder for a Polar H10 (accelerometer only)."""
    return PolarDecoder(H10)
