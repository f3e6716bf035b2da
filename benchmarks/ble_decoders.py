"""Decoder throughput for every BLE sensor family: notifications and samples per second on one core.

Usage: .venv/bin/python benchmarks/ble_decoders.py   (prints a Markdown table)
A live sensor sends 10-40 notifications/s; the figures show how much of a core decoding costs.
"""

from __future__ import annotations

import struct
import time

import numpy as np

from spinesense.sensors import StreamDecoder, make_decoder, reference
from spinesense.sensors import movesense as ms
from spinesense.sensors import polar_pmd as pmd

SECONDS = 60
RATE = 208


def signal(n: int) -> tuple[np.ndarray, np.ndarray]:
    """A running-like acceleration (m/s^2) and angular rate (rad/s)."""
    t = np.arange(n) / RATE
    acc = np.column_stack([np.sin(17 * t), np.cos(11 * t), 9.81 + 12 * np.sin(2 * np.pi * 2.8 * t)])
    gyr = np.column_stack([np.sin(5 * t), np.cos(3 * t), 0.5 * np.sin(t)])
    return acc, gyr


def pack_delta(raw: np.ndarray) -> bytes:
    """A PMD compressed frame body: a 16-bit reference sample and one block of deltas at the needed width."""
    deltas = np.diff(raw, axis=0)
    width = max(2, int(np.abs(deltas).max()).bit_length() + 1)
    words = (deltas.reshape(-1) % (1 << width)).astype(np.int64)
    bits = ((words[:, None] >> np.arange(width)) & 1).astype(np.uint8).reshape(-1)
    body = np.packbits(bits, bitorder="little").tobytes()
    return struct.pack("<3h", *raw[0]) + bytes([width, deltas.shape[0]]) + body


def polar_frames(compressed: bool, gyro: bool) -> list[tuple[str, bytes]]:
    """Verity-like (acc+gyro) or H10-like (acc) PMD data notifications, 36 samples each."""
    acc, gyr = signal(SECONDS * RATE)
    out = []
    per = 36
    for start in range(0, acc.shape[0] - per, per):
        stamp = round((start + per - 1) * 1e9 / RATE)
        parts = [(pmd.MEAS_ACC, np.rint(acc[start : start + per] / 9.81 * 1000))]
        if gyro:
            parts.append((pmd.MEAS_GYRO, np.rint(np.rad2deg(gyr[start : start + per]))))
        for meas, raw in parts:
            raw16 = raw.astype(np.int16)
            body = pack_delta(raw16.astype(np.int64)) if compressed else raw16.astype("<i2").tobytes()
            frame_type = 0x80 if compressed else 0x01
            out.append((pmd.DATA_UUID, struct.pack("<BQB", meas, stamp, frame_type) + body))
    return out


def movesense_frames() -> list[tuple[str, bytes]]:
    """IMU6 notifications, 8 samples each."""
    acc, gyr = signal(SECONDS * RATE)
    out = []
    for start in range(0, acc.shape[0] - 8, 8):
        stamp = round(start * 1000 / RATE)
        values = np.concatenate([acc[start : start + 8], np.rad2deg(gyr[start : start + 8])]).astype("<f4")
        out.append((ms.NOTIFY_UUID, bytes([2, ms.REFERENCE]) + struct.pack("<I", stamp) + values.tobytes()))
    return out


def reference_frames() -> list[tuple[str, bytes]]:
    """Reference-protocol notifications, 19 samples each."""
    acc, gyr = signal(SECONDS * RATE)
    info = reference.SensorInfo(sample_rate_hz=RATE)
    return [(reference.INFO_UUID, info.to_bytes())] + [
        (reference.DATA_UUID, f) for f in reference.encode_samples(acc, gyr, info)
    ]


def measure(protocol: str, frames: list[tuple[str, bytes]]) -> tuple[float, float, int]:
    """(notifications/s, samples/s, samples) decoding ``frames`` with a fresh decoder, best of three."""
    best = float("inf")
    samples = 0
    for _ in range(3):
        decoder: StreamDecoder = make_decoder(protocol)
        feed = decoder.feed
        start = time.perf_counter()
        for char, data in frames:
            feed(char, data, None)
        best = min(best, time.perf_counter() - start)
        samples = decoder.samples
    return len(frames) / best, samples / best, samples


def main() -> None:
    """Print one row per decoder."""
    cases = [
        ("reference", "reference (19 samples/notification)", reference_frames()),
        (
            "polar_verity",
            "Polar Verity Sense, raw 16-bit acc + gyro",
            polar_frames(compressed=False, gyro=True),
        ),
        (
            "polar_verity",
            "Polar Verity Sense, delta-compressed acc + gyro",
            polar_frames(compressed=True, gyro=True),
        ),
        ("polar_h10", "Polar H10, delta-compressed acc", polar_frames(compressed=True, gyro=False)),
        ("movesense", "Movesense IMU6 (8 samples/notification)", movesense_frames()),
    ]
    print(f"Decoding {SECONDS} s of {RATE} Hz data per case, best of 3, one core")
    print()
    print("| decoder | notifications/s | samples/s | samples out |")
    print("|---|---|---|---|")
    for protocol, label, frames in cases:
        per_s, samples_per_s, samples = measure(protocol, frames)
        print(f"| {label} | {per_s:,.0f} | {samples_per_s:,.0f} | {samples:,} |")


if __name__ == "__main__":
    main()
