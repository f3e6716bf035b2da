"""What a backlog costs taken frame by frame against taken together (``Run.feed_all``).

A host that falls behind (hundreds of runners in one process, a busy Raspberry Pi) finds several frames of
a runner waiting; the service hands them to the run together and their samples go through the pipeline
as one block. This measures one run's CPU time per frame for RBDS0041 (Fukuchi, 200 Hz, 19-sample frames,
every record through the decoder, pipeline and alert rules) fed in groups of 1, 2, 4, 8 and 32 records,
the group sizes alternated within each round (a shared machine drifts), and prints each size's median
over the rounds and its ratio to one by one. The strides are checked to be the same for every size.

Usage: .venv/bin/python benchmarks/catch_up.py [--rounds R]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from spinesense.alerts import AlertConfig, AlertEngine
from spinesense.run import Run
from spinesense.sources.replay import open_recording

RECORDING = Path(__file__).resolve().parents[1] / "replay_data" / "fukuchi" / "RBDS0041.jsonl.gz"
SIZES = (1, 2, 4, 8, 32)


def cpu_per_record(size: int) -> tuple[float, int]:
    """CPU µs per record for the whole recording fed ``size`` records at a time, and the strides found."""
    recording = open_recording(RECORDING)
    records = list(recording.records())
    run = Run(recording.decoder(), AlertEngine(AlertConfig.default()), rolling=True)
    start = time.process_time()
    for at in range(0, len(records), size):
        run.feed_all(records[at : at + size])
    run.finish()
    return 1e6 * (time.process_time() - start) / len(records), len(run.result.strides)


def main() -> None:
    """Print µs per record for each group size, and the ratio to one by one."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    times: dict[int, list[float]] = {size: [] for size in SIZES}
    strides: set[int] = set()
    for k in range(args.rounds):
        for size in SIZES if k % 2 == 0 else SIZES[::-1]:
            us, found = cpu_per_record(size)
            times[size].append(us)
            strides.add(found)
    if len(strides) != 1:
        raise SystemExit(f"the group sizes found different strides: {sorted(strides)}")
    single = statistics.median(times[1])
    print(f"RBDS0041, {strides.pop()} strides; CPU per record, median of {args.rounds} rounds")
    print(f"{'records together':>16s} {'µs/record':>10s} {'vs one by one':>14s}")
    for size in SIZES:
        us = statistics.median(times[size])
        print(f"{size:16d} {us:10.1f} {us / single:14.2f}")


if __name__ == "__main__":
    main()
