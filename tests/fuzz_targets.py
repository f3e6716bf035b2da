"""Fuzz targets: the capture reader, the sample CSV reader and the three frame decoders (issue 17).

Each target takes arbitrary bytes and either returns or raises one of its documented errors; anything
else is a crash. Inputs are seeds (real captures, CSV rows, frames built the vendors' way) changed by
``mutate``, so the fuzzer spends its time near valid input, where the interesting paths are.
``tests/test_fuzz.py`` runs a bounded number through hypothesis; ``benchmarks/fuzz.py`` runs 10^6.
"""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from conftest import REPLAY_DATA
from spinesense.capture import CaptureError
from spinesense.sample_csv import SampleCsvError
from spinesense.sensors import UnknownProtocolError, make_decoder
from spinesense.sensors import movesense as ms
from spinesense.sensors import polar_pmd as pmd
from spinesense.sensors import reference as ref
from spinesense.sources.replay import RecordingError, open_recording

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

SHIMMER_RUN = REPLAY_DATA / "alcantara" / "shimmer_sacral_run.jsonl.gz"
TOKENS = (
    b"NaN",
    b"Infinity",
    b"-1e300",
    b"1e-30",
    b"\n",
    b",",
    b'"',
    b"[",
    b"{",
    b"\x00",
    b"\xff\xff\xff\xff",
)
"""Byte strings a mutation may insert: the values and delimiters that broke readers before."""
OPS = ("flip", "set", "insert", "delete", "duplicate", "truncate", "token")
NAMES = (
    "capture reader",
    "csv reader",
    "reference decoder",
    "polar decoder",
    "polar h10 decoder",
    "movesense decoder",
)


@dataclass(frozen=True)
class Target:
    """One thing to fuzz: ``run(data)`` may raise only ``allowed``; ``seeds`` are where inputs start."""

    name: str
    run: Callable[[bytes], None]
    allowed: tuple[type[BaseException], ...]
    seeds: list[bytes]


def mutate(seed: bytes, edits: Sequence[tuple[str, int, int]]) -> bytes:
    """``seed`` changed by ``edits``: (operation, position, value) each, positions taken modulo the length."""
    data = bytearray(seed)
    for op, position, value in edits:
        at = position % (len(data) + 1)
        if op == "flip" and data:
            data[at % len(data)] ^= 1 << (value % 8)
        elif op == "set" and data:
            data[at % len(data)] = value % 256
        elif op == "insert":
            data[at:at] = bytes([value % 256]) * (1 + value % 7)
        elif op == "delete":
            del data[at : at + 1 + value % 64]
        elif op == "duplicate":
            data[at:at] = data[at : at + 1 + value % 256]
        elif op == "truncate":
            del data[at:]
        elif op == "token":
            data[at:at] = TOKENS[value % len(TOKENS)]
    return bytes(data)


def _recording_target(path: Path) -> Callable[[bytes], None]:
    """Open ``data`` as a recording at ``path`` (its name decides capture or CSV) and decode it all."""

    def run(data: bytes) -> None:
        path.write_bytes(data)
        recording = open_recording(path)
        for _ in recording.blocks():
            pass

    return run


def _frames(data: bytes) -> list[tuple[int, bytes]]:
    """Cut fuzz bytes into (characteristic choice, frame) pairs: each frame is led by its length byte."""
    frames, at = [], 0
    while at + 2 <= len(data):
        choice, length = data[at], data[at + 1]
        frames.append((choice, data[at + 2 : at + 2 + length]))
        at += 2 + length
    return frames


def _framed(frames: list[tuple[int, bytes]]) -> bytes:
    """The inverse of ``_frames`` for building seeds (frames over 255 bytes are cut)."""
    return b"".join(bytes([choice, min(len(f), 255)]) + f[:255] for choice, f in frames)


def _decoder_target(protocol: str, chars: Sequence[str]) -> Callable[[bytes], None]:
    """Feed the frames in ``data`` to a fresh decoder for ``protocol``, each on one of ``chars``."""

    def run(data: bytes) -> None:
        decoder = make_decoder(protocol)
        for n, (choice, frame) in enumerate(_frames(data)):
            decoder.feed(chars[choice % len(chars)], frame, 1_000_000_000 + n * 50_000_000)

    return run


def _reference_seed() -> bytes:
    """An info read and a few data frames of the reference protocol."""
    rng = np.random.default_rng(1)
    info = ref.SensorInfo(sample_rate_hz=200.0)
    frames = ref.encode_samples(rng.normal(0, 9.8, (76, 3)), rng.normal(0, 1, (76, 3)), info)
    return _framed([(1, info.to_bytes()), *((0, f) for f in frames)])


def _polar_seed() -> bytes:
    """PMD start responses, then raw acc and gyro frames (frame type 1, int16, last sample's stamp)."""

    def frame(measurement: int, stamp_ns: int) -> bytes:
        return struct.pack("<BQB", measurement, stamp_ns, 0x01) + struct.pack("<hhh", 10, -20, 1000) * 10

    starts = [bytes([0xF0, 0x02, measurement, 0x00, 0x00]) for measurement in (pmd.MEAS_ACC, pmd.MEAS_GYRO)]
    data = [frame(m, 10**9 + k * 10**8) for k in range(4) for m in (pmd.MEAS_ACC, pmd.MEAS_GYRO)]
    return _framed([*((1, s) for s in starts), *((0, d) for d in data)])


def _movesense_seed() -> bytes:
    """GSP IMU6 notifications: timestamp, 8 acc then 8 gyro samples as float32."""
    values = [0.1, -0.2, 9.8] * 8 + [1.0, 2.0, 3.0] * 8
    frames = [
        bytes([ms.RESP_DATA, ms.REFERENCE]) + struct.pack(f"<I{len(values)}f", 1000 + 40 * k, *values)
        for k in range(4)
    ]
    return _framed([(0, f) for f in frames])


def _csv_seed() -> bytes:
    """A sample CSV: 60 rows at 100 Hz with a gyroscope."""
    rows = [f"{i / 100:.2f},0.01,-0.02,1.0,1.5,-2.5,0.5" for i in range(60)]
    return (
        "time_s,acc_x_g,acc_y_g,acc_z_g,gyr_x_dps,gyr_y_dps,gyr_z_dps\n" + "\n".join(rows) + "\n"
    ).encode()


def targets(folder: Path) -> list[Target]:
    """Every fuzz target, writing its temporary files into ``folder``."""
    capture = gzip.decompress(SHIMMER_RUN.read_bytes())
    small_capture = b"".join(capture.splitlines(keepends=True)[:12])
    capture_reader, csv_reader, reference, polar, polar_h10, movesense = NAMES
    return [
        Target(
            capture_reader,
            _recording_target(folder / "fuzz.jsonl"),
            (RecordingError, CaptureError, UnknownProtocolError),
            [small_capture, gzip.compress(small_capture), SHIMMER_RUN.read_bytes()],
        ),
        Target(
            csv_reader,
            _recording_target(folder / "fuzz.csv"),
            (RecordingError, SampleCsvError),
            [_csv_seed()],
        ),
        Target(
            reference,
            _decoder_target("reference", [ref.DATA_UUID, ref.INFO_UUID, "x"]),
            (),
            [_reference_seed()],
        ),
        Target(
            polar, _decoder_target("polar_verity", [pmd.DATA_UUID, pmd.CONTROL_UUID]), (), [_polar_seed()]
        ),
        Target(
            polar_h10, _decoder_target("polar_h10", [pmd.DATA_UUID, pmd.CONTROL_UUID]), (), [_polar_seed()]
        ),
        Target(movesense, _decoder_target("movesense", [ms.NOTIFY_UUID, "x"]), (), [_movesense_seed()]),
    ]
