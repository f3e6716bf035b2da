"""How fast the capture reader reads: an ordinary capture, and one line of many megabytes.

`.venv/bin/python benchmarks/readers.py [--frames N] [--long-line-mb M]` writes a gzip capture of
N reference frames (19 samples each, 200 Hz) and a plain capture holding one M MB line among
normal ones, then times reading every record of each (CPU time, best of 3). For an A/B against
another checkout: `PYTHONPATH=/work/main/src .venv/bin/python benchmarks/readers.py`.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np

from spinesense.capture import CaptureWriter, make_header, read_capture
from spinesense.sensors.reference import DATA_UUID, INFO_UUID, SensorInfo, encode_samples


def ordinary(path: Path, frames: int) -> None:
    """A gzip capture of ``frames`` reference frames, as a live run writes it."""
    info = SensorInfo(sample_rate_hz=200.0)
    acc = np.random.default_rng(3).normal(0, 9.8, (frames * 19, 3))
    with CaptureWriter(path, make_header(protocol="reference", rate_hz=200.0)) as writer:
        writer.frame(0, INFO_UUID, info.to_bytes())
        for n, frame in enumerate(encode_samples(acc, None, info)):
            writer.frame(n * 95_000_000, DATA_UUID, frame)


def long_line(path: Path, megabytes: int) -> None:
    """A plain capture with one line of ``megabytes`` MB between two ordinary ones."""
    header = json.dumps(make_header(protocol="reference", rate_hz=200.0))
    huge = '{"t_ns": 1, "event": "note", "text": "' + "x" * (megabytes << 20) + '"}'
    path.write_text(f'{header}\n{{"t_ns": 0, "event": "a"}}\n{huge}\n{{"t_ns": 2, "event": "b"}}\n')


def best_of(runs: int, path: Path) -> tuple[float, int]:
    """The least CPU time of ``runs`` full reads (other processes on a shared machine do not count), and
    the records read."""
    times, count = [], 0
    for _ in range(runs):
        start = time.process_time()
        count = sum(1 for _ in read_capture(path).records())
        times.append(time.process_time() - start)
    return min(times), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200_000, help="frames in the ordinary capture")
    parser.add_argument("--long-line-mb", type=int, default=20, help="size of the long line in MB")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ordinary.jsonl.gz"
        ordinary(path, args.frames)
        seconds, count = best_of(3, path)
        print(f"ordinary capture: {count} records in {seconds:.2f} s ({count / seconds:,.0f} records/s)")
        path = Path(folder) / "long.jsonl"
        long_line(path, args.long_line_mb)
        seconds, count = best_of(1, path)
        print(f"one {args.long_line_mb} MB line: {count} records in {seconds:.2f} s")


if __name__ == "__main__":
    main()
