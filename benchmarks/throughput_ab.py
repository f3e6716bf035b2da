"""Pipeline speed of two source trees, measured alternately, round after round.

A shared machine's speed drifts by tens of per cent between runs, so two versions are compared by
running them in turn and taking the median of the per-round ratios.

Usage: .venv/bin/python benchmarks/throughput_ab.py OTHER_SRC [--size N] [--rounds R] [--cpu-time]
OTHER_SRC is the src/ folder of another checkout, for example after
`git worktree add --detach ../old c7e4af5`: ../old/src. --size is the block size (0: the whole
10-minute stream at once, the default; 19: BLE notifications). --cpu-time: each run's own CPU time,
for a machine other jobs load (wall time then swings by factors, not tens of per cent).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def samples_per_s(src: Path, size: int, *, cpu_time: bool = False) -> int:
    """Best samples/s of ``throughput.py --only size`` run against the package in ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, str(HERE / "throughput.py"), "--only", str(size)]
    if cpu_time:
        command.append("--cpu-time")
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)  # noqa: S603
    return int(done.stdout.split()[-1])


def main() -> None:
    """Print each round's figures and the median ratio (this tree / the other)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("other", type=Path, help="src/ folder of the other checkout")
    parser.add_argument("--size", type=int, default=0, help="samples per block (0: all at once)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cpu-time", action="store_true", help="CPU time of each run, not wall time")
    args = parser.parse_args()
    if not (args.other / "spinesense").is_dir():
        parser.error(f"{args.other} holds no spinesense package (give the checkout's src/ folder)")
    ours = HERE.parent / "src"
    ratios = []
    print(f"{'round':>5s} {'other':>12s} {'this tree':>12s} {'ratio':>6s}")
    for k in range(1, args.rounds + 1):
        other = samples_per_s(args.other, args.size, cpu_time=args.cpu_time)
        this = samples_per_s(ours, args.size, cpu_time=args.cpu_time)
        ratios.append(this / other)
        print(f"{k:5d} {other:12,d} {this:12,d} {ratios[-1]:6.2f}", flush=True)
    print(f"median ratio (this tree / other): {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
