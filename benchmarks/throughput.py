"""Pipeline speed on one core (samples/s) in big blocks and in 19-sample frames, and peak memory
over a three-hour stream. Input: the bundled Shimmer running capture resampled to 200 Hz and tiled,
with a synthetic gyroscope so the tilt stage runs too.

Usage: .venv/bin/python benchmarks/throughput.py [--hours H] [--only SIZE]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy.signal import resample_poly

from spinesense.models import SampleBlock, concat_blocks, repeat_block
from spinesense.processing.pipeline import Pipeline
from spinesense.sources.replay import open_recording

RATE_HZ = 200.0
SHIMMER_NOMINAL_HZ = 512
"""The Shimmer's set rate (its clock measures 512.5 Hz): resample_poly takes whole factors."""
RUNS = 5
"""Runs per block size, the fastest kept: a shared virtual machine loses time to its host in bursts."""
if TYPE_CHECKING:
    from collections.abc import Callable

CAPTURE = Path(__file__).resolve().parents[1] / "replay_data" / "alcantara" / "shimmer_sacral_run.jsonl.gz"


def running_stream(seconds: float) -> SampleBlock:
    """A running stream at 200 Hz of about ``seconds`` (the real run, repeated)."""
    real = concat_blocks(list(open_recording(CAPTURE).blocks()))
    acc = resample_poly(real.acc_mps2, round(RATE_HZ), SHIMMER_NOMINAL_HZ, axis=0)
    once = SampleBlock(
        t_s=np.arange(acc.shape[0]) / RATE_HZ, acc_mps2=acc, gyr_radps=None, first_index=0, rate_hz=RATE_HZ
    )
    stream = repeat_block(once, seconds)
    t = stream.t_s
    gyr = np.column_stack([0.3 * np.sin(8 * t), 0.2 * np.sin(16 * t), 0.4 * np.sin(8 * t)])
    return replace(stream, gyr_radps=gyr)


def run(stream: SampleBlock, size: int, clock: Callable[[], float] = time.perf_counter) -> tuple[float, int]:
    """Seconds to feed the stream ``size`` samples at a time, and the strides it gave.

    ``clock``: wall time by default; ``time.process_time`` counts only this process's CPU time, which
    other jobs on a loaded machine disturb far less (it still counts cache and memory contention).
    """
    blocks = (stream.slice(i, i + size) for i in range(0, len(stream), size))
    pipeline = Pipeline(RATE_HZ, has_gyr=True)
    start = clock()
    strides = sum(len(pipeline.feed(b)) for b in blocks) + len(pipeline.flush())
    return clock() - start, strides


def main() -> None:
    """Print samples/s for each block size, then peak memory for a long stream."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hours", type=float, default=3.0, help="length of the memory run (default 3)")
    parser.add_argument(
        "--only",
        type=int,
        metavar="SIZE",
        help="print only samples/s fed SIZE samples at a time (0: all at once)",
    )
    parser.add_argument(
        "--cpu-time", action="store_true", help="CPU time instead of wall time (loaded machines)"
    )
    args = parser.parse_args()
    stream = running_stream(600.0)
    if args.only is not None:  # for throughput_ab.py
        clock = time.process_time if args.cpu_time else time.perf_counter
        seconds, _ = min(run(stream, args.only or len(stream), clock) for _ in range(RUNS))
        print(round(len(stream) / seconds))
        return
    print(f"stream: {len(stream)} samples at {RATE_HZ:.0f} Hz (10 min of running), one core")
    for label, size in (("big blocks (10 min)", len(stream)), ("19-sample frames", 19), ("1 sample", 1)):
        part = stream if size > 1 else stream.slice(0, 20_000)
        seconds, strides = min(run(part, size) for _ in range(RUNS if size > 1 else 2))
        print(f"{label:>22s}: {len(part) / seconds:12,.0f} samples/s  ({strides} strides)")
    long = running_stream(args.hours * 3600)
    tracemalloc.start()
    run(long, 19)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{args.hours:g} h stream in 19-sample frames: peak traced memory {peak / 2**20:.2f} MiB "
        f"(input blocks excluded: {long.acc_mps2.nbytes * 3 / 2**20:.0f} MiB held by the benchmark)"
    )


if __name__ == "__main__":
    main()
