"""What measuring strides together saves: the cost per stride of ``Pipeline.measure_together`` over k runs.

Each of k pipelines replays the same recording, frame by frame as a live run does, until a stride waits
to be measured (``deferred``); then the k waiting strides are measured in one batch, timed. k = 1 is a
lone runner's stride; a squad's ``StrideMeter`` batches what its runners complete within its window
(about 8 at 300 runners). Rounds alternate the batch sizes; each figure is the median over rounds. The k
strides are alike, so no row is padded: a real batch mixes stride lengths and costs somewhat more.

Usage: .venv/bin/python benchmarks/batch_measure.py [--sizes 1,2,4,8,16,32] [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING

from spinesense.processing.pipeline import Pipeline
from spinesense.sources.replay import open_recording

if TYPE_CHECKING:
    from spinesense.models import SampleBlock

RECORDING = Path(__file__).resolve().parents[1] / "replay_data" / "fukuchi" / "RBDS0041.jsonl.gz"


def waiting(frames: list[SampleBlock]) -> Pipeline:
    """A deferred pipeline fed frame by frame until its first running stride waits."""
    pipeline = Pipeline(frames[0].rate_hz, has_gyr=frames[0].has_gyr, deferred=True)
    for block in frames:
        pipeline.feed(block)
        if pipeline.waiting:
            return pipeline
    raise SystemExit("the recording holds no running stride")


def batch_us(frames: list[SampleBlock], k: int) -> float:
    """Microseconds to measure k runs' waiting strides in one batch."""
    pipelines = [waiting(frames) for _ in range(k)]
    start = time.perf_counter()
    Pipeline.measure_together(pipelines)
    return 1e6 * (time.perf_counter() - start)


def main() -> None:
    """Print the median batch time and time per stride for each batch size."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1,2,4,8,16,32", help="batch sizes k, comma-separated")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    sizes = [int(k) for k in args.sizes.split(",")]
    frames = list(open_recording(RECORDING).blocks())
    times: dict[int, list[float]] = {k: [] for k in sizes}
    for _ in range(args.rounds):
        for k in sizes:
            times[k].append(batch_us(frames, k))
    single = statistics.median(times[sizes[0]]) / sizes[0]
    print(f"{RECORDING.name}, {args.rounds} rounds, median per batch size")
    print(f"{'k':>4s} {'us/batch':>10s} {'us/stride':>10s} {'vs k=' + str(sizes[0]):>9s}")
    for k in sizes:
        batch = statistics.median(times[k])
        print(f"{k:4d} {batch:10.0f} {batch / k:10.0f} {batch / k / single:9.2f}")


if __name__ == "__main__":
    main()
