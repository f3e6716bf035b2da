"""The reference sensor's BLE protocol (firmware_notes/reference-protocol.md): encode and decode.

A notification carries a 12-byte little-endian header and up to 19 samples of six int16 words. The
32-bit sample index makes every loss exact to the sample; the 32-bit microsecond clock wraps after
71.6 minutes and is unwrapped here. Malformed frames are counted, logged once per kind and skipped.
"""

from __future__ import annotations

import functools
import logging
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from spinesense.models import GRAVITY_MPS2, RATE_RANGE_HZ, Gap, SampleBlock
from spinesense.sensors._errors import DefectCounter

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

_UUID_SUFFIX = "-2b6d-4c1a-9f3e-5a1d0c8b7e40"
SERVICE_UUID: Final = "7e5e0001" + _UUID_SUFFIX
"""GATT service of the reference sensor; also advertised."""
DATA_UUID: Final = "7e5e0002" + _UUID_SUFFIX
"""Notify characteristic carrying sample frames."""
INFO_UUID: Final = "7e5e0003" + _UUID_SUFFIX
"""Read characteristic with scale factors, true sample rate and firmware version."""
CONTROL_UUID: Final = "7e5e0004" + _UUID_SUFFIX
"""Control point: start, stop, rate, range and time sync (write with response, indicate)."""
NAME_PREFIX: Final = "SpineSense-"
"""Advertised local name prefix; the rest is the last two address bytes in hex."""

PROTOCOL_VERSION: Final = 1
HEADER = struct.Struct("<BBBBII")
"""version, flags, n_samples, config_id, first_sample_index, t_first_us."""
SAMPLE_WORDS: Final = 6
SAMPLE_BYTES: Final = SAMPLE_WORDS * 2
MAX_SAMPLES_PER_FRAME: Final = 19
"""What fits in one notification at ATT MTU 247 (244 bytes of payload)."""

FLAG_STREAM_START: Final = 0x01
"""First frame after START: the sample index and clock restarted."""
FLAG_ACC_CLIPPED: Final = 0x02
"""An accelerometer axis hit full scale in this frame."""
FLAG_NO_GYRO: Final = 0x04
"""The sensor has no gyroscope; gyroscope words are zero."""

OP_START: Final = 0x01
OP_STOP: Final = 0x02
OP_SET_RATE: Final = 0x03
OP_SET_RANGE: Final = 0x04
OP_TIME_SYNC: Final = 0x05
OP_RESPONSE: Final = 0x80
STATUS_OK: Final = 0
STATUS_UNSUPPORTED: Final = 1
STATUS_INVALID_PARAMETER: Final = 2
STATUS_NOT_ALLOWED_WHILE_STREAMING: Final = 3

_WRAP32: Final = 1 << 32
_DEG: Final = np.pi / 180.0


class FrameError(ValueError):
    """A frame that cannot be decoded; ``kind`` names the defect for counting."""

    def __init__(self, kind: str, detail: str) -> None:
        """Keep the defect kind (a short identifier) and a human-readable detail."""
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True, slots=True)
class SensorInfo:
    """Contents of the info characteristic: how to scale raw words and the true sample rate."""

    INFO = struct.Struct("<BBHfffBBBB")

    sample_rate_hz: float = 200.0
    acc_lsb_mps2: float = 16 * GRAVITY_MPS2 / 32768
    """m/s^2 per LSB (default range +-16 g)."""
    gyr_lsb_radps: float = 2000 * _DEG / 32768
    """rad/s per LSB (default range +-2000 deg/s)."""
    config_id: int = 0
    has_gyro: bool = True
    protocol_version: int = PROTOCOL_VERSION
    firmware: tuple[int, int, int] = (1, 0, 0)

    def to_bytes(self) -> bytes:
        """Encode as the 20-byte info characteristic value."""
        return self.INFO.pack(
            self.protocol_version,
            self.config_id,
            0,
            self.acc_lsb_mps2,
            self.gyr_lsb_radps,
            self.sample_rate_hz,
            *self.firmware,
            int(self.has_gyro),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> SensorInfo:
        """Decode the info characteristic value; raises FrameError when it is not one."""
        if len(data) != cls.INFO.size:
            raise FrameError("info_length", f"info is {len(data)} bytes, expected {cls.INFO.size}")
        version, config_id, _, acc_lsb, gyr_lsb, rate, fw1, fw2, fw3, has_gyro = cls.INFO.unpack(data)
        if version != PROTOCOL_VERSION:
            raise FrameError("info_version", f"protocol version {version}, expected {PROTOCOL_VERSION}")
        low, high = RATE_RANGE_HZ
        if (
            not (low <= rate <= high and acc_lsb > 0 and gyr_lsb >= 0)
            or not np.isfinite([acc_lsb, gyr_lsb]).all()
        ):
            raise FrameError("info_values", f"rate {rate} Hz, acc lsb {acc_lsb}, gyr lsb {gyr_lsb}")
        return cls(
            sample_rate_hz=float(rate),
            acc_lsb_mps2=float(acc_lsb),
            gyr_lsb_radps=float(gyr_lsb),
            config_id=config_id,
            has_gyro=bool(has_gyro),
            protocol_version=version,
            firmware=(fw1, fw2, fw3),
        )


@dataclass(frozen=True, slots=True)
class Frame:
    """One parsed notification, still in raw units."""

    flags: int
    config_id: int
    first_sample_index: int
    t_first_us: int
    raw: NDArray[np.int16]
    """Shape (n_samples, 6): acc xyz, gyr xyz."""


def parse_frame(data: bytes) -> Frame:
    """Parse one notification; raises FrameError naming the defect."""
    if len(data) < HEADER.size:
        raise FrameError("too_short", f"{len(data)} bytes, the header alone is {HEADER.size}")
    version, flags, n_samples, config_id, first_index, t_first_us = HEADER.unpack_from(data)
    if version != PROTOCOL_VERSION:
        raise FrameError("unknown_version", f"version {version}, expected {PROTOCOL_VERSION}")
    if not 1 <= n_samples <= MAX_SAMPLES_PER_FRAME:
        raise FrameError("bad_sample_count", f"n_samples {n_samples} outside 1..{MAX_SAMPLES_PER_FRAME}")
    expected = HEADER.size + n_samples * SAMPLE_BYTES
    if len(data) != expected:
        raise FrameError("length_mismatch", f"{len(data)} bytes for {n_samples} samples, expected {expected}")
    raw = np.frombuffer(data, dtype="<i2", offset=HEADER.size).reshape(n_samples, SAMPLE_WORDS)
    return Frame(flags, config_id, first_index, t_first_us, raw)


def encode_frame(
    raw: NDArray[np.int16], first_sample_index: int, t_first_us: int, *, config_id: int = 0, flags: int = 0
) -> bytes:
    """Encode raw int16 samples (n, 6) as one notification; index and clock are taken modulo 2^32."""
    n = raw.shape[0]
    if not 1 <= n <= MAX_SAMPLES_PER_FRAME or raw.shape[1:] != (SAMPLE_WORDS,):
        raise ValueError(f"a frame holds 1..{MAX_SAMPLES_PER_FRAME} samples of 6 words, got {raw.shape}")
    header = HEADER.pack(
        PROTOCOL_VERSION, flags, n, config_id, first_sample_index % _WRAP32, t_first_us % _WRAP32
    )
    return header + np.ascontiguousarray(raw, dtype="<i2").tobytes()


def quantise(
    acc_mps2: NDArray[np.float64], gyr_radps: NDArray[np.float64] | None, info: SensorInfo
) -> tuple[NDArray[np.int16], NDArray[np.bool_]]:
    """Scale SI samples to int16 words as the sensor would, clipping at full scale.

    Returns the (n, 6) words and, per sample, whether an accelerometer axis clipped.
    """
    acc = np.rint(np.asarray(acc_mps2, dtype=np.float64) / info.acc_lsb_mps2)
    if gyr_radps is None or not info.has_gyro:
        gyr = np.zeros_like(acc)
    else:
        gyr = np.rint(np.asarray(gyr_radps, dtype=np.float64) / info.gyr_lsb_radps)
    words = np.clip(np.hstack([acc, gyr]), -32768, 32767)
    clipped: NDArray[np.bool_] = np.asarray((np.abs(acc) >= 32767).any(axis=1))
    return np.asarray(words, dtype=np.int16), clipped


def encode_samples(
    acc_mps2: NDArray[np.float64],
    gyr_radps: NDArray[np.float64] | None,
    info: SensorInfo,
    *,
    first_sample_index: int = 0,
    t_first_us: int = 0,
    stream_start: bool = True,
) -> list[bytes]:
    """Encode consecutive samples as the frames the firmware sends (19 samples each, last one shorter).

    Sample times follow the info's true rate from ``t_first_us``; the first frame carries
    STREAM_START when ``stream_start`` is true.
    """
    words, clipped = quantise(acc_mps2, gyr_radps, info)
    base_flags = 0 if info.has_gyro else FLAG_NO_GYRO
    period_us = 1e6 / info.sample_rate_hz
    frames = []
    for start in range(0, words.shape[0], MAX_SAMPLES_PER_FRAME):
        stop = start + MAX_SAMPLES_PER_FRAME
        flags = base_flags | (FLAG_ACC_CLIPPED if clipped[start:stop].any() else 0)
        if start == 0 and stream_start:
            flags |= FLAG_STREAM_START
        t_us = t_first_us + round(start * period_us)
        index = first_sample_index + start
        frames.append(encode_frame(words[start:stop], index, t_us, config_id=info.config_id, flags=flags))
    return frames


@functools.lru_cache(maxsize=8)  # a sensor has one rate; a damaged stream may claim many
def _sample_offsets_s(rate_hz: float) -> NDArray[np.float64]:
    """Seconds from a frame's first sample to each of its samples (a frame holds at most 19)."""
    offsets: NDArray[np.float64] = np.arange(MAX_SAMPLES_PER_FRAME) / rate_hz
    offsets.flags.writeable = False  # shared by every frame at this rate
    return offsets


class Unwrap32:
    """Turns a 32-bit counter that wraps into an ever-increasing integer."""

    def __init__(self) -> None:
        """Start before the first value."""
        self._epoch = 0
        self._last: int | None = None

    def __call__(self, raw: int) -> int:
        """Unwrap ``raw``; a value just before the last wrap maps back into the previous epoch."""
        if self._last is None:
            self._last = raw
        elif raw < self._last and self._last - raw > _WRAP32 // 2:
            self._epoch += _WRAP32
            self._last = raw
        elif raw > self._last and raw - self._last > _WRAP32 // 2:
            return self._epoch - _WRAP32 + raw
        else:
            self._last = max(self._last, raw)
        return self._epoch + raw


class ReferenceDecoder:
    """Stateful decoder of one reference sensor's stream: scales, unwraps and finds gaps.

    Feed it every notification in the order received. Each good frame becomes a SampleBlock whose
    ``gaps`` tell exactly how many samples were lost before it. Corrupt frames are counted in
    ``errors`` (by kind) and skipped; duplicated or reordered frames are counted and skipped too.
    The sensor keeps counting across a BLE disconnect, so those losses are exact. Only a restart of
    streaming (STOP then START, or a power cycle: STREAM_START flag) resets its counter and clock; the
    decoder then keeps the stream index and time going and estimates the loss from host receive times.
    """

    def __init__(self, info: SensorInfo | None = None) -> None:
        """Start a decoder; without ``info`` the reference defaults are assumed until set."""
        self.info = info or SensorInfo()
        self._defects = DefectCounter(
            log, "skipping frame (%s: %s); further frames of this kind are only counted"
        )
        self.errors = self._defects.errors
        self.frames = 0
        self.samples = 0
        self.lost_samples = 0
        self.restarts = 0
        self._index = Unwrap32()
        self._clock = Unwrap32()
        self._index_offset = 0
        self._clock_offset_us = 0.0
        self._next_index: int | None = None
        self._next_t_us = 0.0
        self._last_host_t_ns: int | None = None

    def set_info(self, info: SensorInfo) -> None:
        """Use new scale factors and rate, e.g. after the info characteristic was read again."""
        self.info = info

    def feed_info(self, data: bytes) -> None:
        """Take a raw info characteristic value; a bad one is counted and the old info kept."""
        try:
            self.set_info(SensorInfo.from_bytes(data))
        except FrameError as exc:
            self._defects.count(exc.kind, exc.detail)

    def feed(self, char: str, data: bytes, host_t_ns: int | None = None) -> SampleBlock | None:
        """Take any recorded value of the sensor: info reads update scaling, data frames decode."""
        if char == INFO_UUID:
            self.feed_info(data)
            return None
        if char == DATA_UUID:
            return self.decode(data, host_t_ns)
        self.errors["unknown_characteristic"] += 1
        return None

    def decode(self, data: bytes, host_t_ns: int | None = None) -> SampleBlock | None:
        """Decode one notification; None when it was corrupt, duplicated or out of order."""
        try:
            frame = parse_frame(data)
        except FrameError as exc:
            self._defects.count(exc.kind, exc.detail)
            return None
        estimated_missing = 0
        if frame.flags & FLAG_STREAM_START and self._next_index is not None:
            estimated_missing = self._restart(frame, host_t_ns)
        index = self._index(frame.first_sample_index) + self._index_offset
        if self._next_index is None:
            self._next_index = index
        if index < self._next_index:
            self._defects.count("out_of_order", f"index {index} before expected {self._next_index}")
            return None
        gaps: tuple[Gap, ...] = ()
        if index > self._next_index or estimated_missing:
            missing = index - self._next_index
            gaps = (Gap(before_index=index, missing=missing, exact=not estimated_missing),)
            self.lost_samples += missing
        n = int(frame.raw.shape[0])
        t0_us = self._clock(frame.t_first_us) + self._clock_offset_us
        self._next_index = index + n
        self._next_t_us = t0_us + n * 1e6 / self.info.sample_rate_hz
        self._last_host_t_ns = host_t_ns
        self.frames += 1
        self.samples += n
        return self._block(frame, index, t0_us, gaps, host_t_ns)

    def _block(
        self, frame: Frame, index: int, t0_us: float, gaps: tuple[Gap, ...], host_t_ns: int | None
    ) -> SampleBlock:
        """Scale a frame's raw words into a SampleBlock on the unwrapped clock."""
        info = self.info
        has_gyro = info.has_gyro and not frame.flags & FLAG_NO_GYRO
        # int16 words times a float are float64: no conversion of its own (it runs for every frame).
        acc = np.multiply(frame.raw[:, :3], info.acc_lsb_mps2, dtype=np.float64)
        gyr = np.multiply(frame.raw[:, 3:], info.gyr_lsb_radps, dtype=np.float64) if has_gyro else None
        return SampleBlock(
            t_s=t0_us * 1e-6 + _sample_offsets_s(info.sample_rate_hz)[: frame.raw.shape[0]],
            acc_mps2=acc,
            gyr_radps=gyr,
            first_index=index,
            rate_hz=info.sample_rate_hz,
            gaps=gaps,
            host_t_ns=host_t_ns,
            clipped=bool(frame.flags & FLAG_ACC_CLIPPED),
        )

    def _restart(self, frame: Frame, host_t_ns: int | None) -> int:
        """Continue index and time across a sensor restart; return the estimated lost samples (>= 1)."""
        assert self._next_index is not None  # only called once a stream is running  # noqa: S101
        self.restarts += 1
        elapsed_s = 0.0
        if host_t_ns is not None and self._last_host_t_ns is not None:
            elapsed_s = max(0.0, (host_t_ns - self._last_host_t_ns) * 1e-9)
        n = int(frame.raw.shape[0])
        # The new frame's last sample arrived ``elapsed_s`` after the previous frame's last sample.
        missing = max(1, round(elapsed_s * self.info.sample_rate_hz) - n + 1)
        log.info("sensor stream restarted; about %d samples lost in between", missing)
        self._index = Unwrap32()
        self._clock = Unwrap32()
        self._index_offset = self._next_index + missing - frame.first_sample_index
        period_us = 1e6 / self.info.sample_rate_hz
        self._clock_offset_us = self._next_t_us + missing * period_us - frame.t_first_us
        return missing
