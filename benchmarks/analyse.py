"""How fast ``spinesense.analyse`` reads a whole recording: frames batched into blocks vs one by one.

Usage: .venv/bin/python benchmarks/analyse.py [FILE] [--rounds R]   (default: replay_data/fukuchi/RBDS0041)
The two ways are timed alternately, round after round (a shared machine's speed drifts), and the
median of the per-round ratios is quoted. Both give the same strides and alerts (checked here too).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from spinesense import run

DEFAULT = Path(__file__).resolve().parent.parent / "replay_data" / "fukuchi" / "RBDS0041.jsonl.gz"


def seconds(path: Path, hold_samples: int) -> tuple[float, run.RunResult]:
    """Wall time of one ``analyse`` with frames held into blocks of ``hold_samples`` (0: one by one)."""
    run.HOLD_SAMPLES = hold_samples
    start = time.perf_counter()
    result = run.analyse(path)
    return time.perf_counter() - start, result


def main() -> None:
    """Alternate the two ways; print each round and the median ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    batched = run.HOLD_SAMPLES
    ratios = []
    for k in range(args.rounds):
        one_s, one = seconds(args.file, 0)
        held_s, held = seconds(args.file, batched)
        assert one.strides == held.strides, "batching changed the strides"
        assert one.alerts == held.alerts, "batching changed the alerts"
        ratios.append(one_s / held_s)
        samples = held.counts.samples
        print(
            f"round {k + 1}: frame by frame {one_s * 1000:6.0f} ms ({samples / one_s:9.0f} samples/s), "
            f"blocks of {batched} {held_s * 1000:6.0f} ms ({samples / held_s:9.0f} samples/s)"
        )
    print(f"median speed-up of blocks over frames: {statistics.median(ratios):.2f}x, {args.rounds} rounds")


if __name__ == "__main__":
    main()
