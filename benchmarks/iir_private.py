"""Does ``_iir.py``'s call of SciPy's private recursion still pay against the public ``lfilter``?

Times both on the shapes the pipeline filters: a 19-sample BLE notification (the causal low-pass, twice
per notification), one stride's three force rows extended for the zero-phase filter, a batch of 64
strides, and a whole 10-minute block. The two are run alternately, round after round, in CPU time (a
shared machine's wall time swings by factors); each round's ratio is public / private time, and the
median ratio is printed: above 1 the private call is faster.

Usage: .venv/bin/python benchmarks/iir_private.py [--rounds R]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import TYPE_CHECKING

import numpy as np
from scipy.signal import butter, lfilter, lfilter_zi

from spinesense.processing._iir import _compiled

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

SHAPES = {
    "notification (19,)": (19,),
    "one stride (3, 1, 260)": (3, 1, 260),
    "64 strides (3, 64, 290)": (3, 64, 290),
    "10-min block (120000,)": (120_000,),
}
"""What the pipeline filters, by name: the extended stride rows are about 200 samples plus 2 x 30."""
TARGET_S = 0.05
"""CPU time each side of a round runs for (the call count is set once from a trial run)."""


def cpu_seconds(call: Callable[[], object], count: int) -> float:
    """CPU time of ``count`` calls of ``call``."""
    start = time.process_time()
    for _ in range(count):
        call()
    return time.process_time() - start


def compare(shape: tuple[int, ...], rounds: int) -> tuple[float, float, float]:
    """Median µs per call of the private and the public call, and the median per-round ratio."""
    private = _compiled()
    if private is None:
        raise SystemExit("SciPy's private _linear_filter is missing or differs: _iir.py uses lfilter")
    b, a = butter(2, 8.0, fs=200.0)
    x: NDArray[np.float64] = np.random.default_rng(0).normal(1.0, 1.0, shape)
    zi = lfilter_zi(b, a) * x[..., :1]

    def fast() -> object:
        return private(b, a, x, -1, zi)

    def public() -> object:
        return lfilter(b, a, x, axis=-1, zi=zi)

    trial = cpu_seconds(public, 20) / 20
    count = max(5, int(TARGET_S / max(trial, 1e-7)))
    ours, theirs, ratios = [], [], []
    for _ in range(rounds):
        f = cpu_seconds(fast, count) / count
        p = cpu_seconds(public, count) / count
        ours.append(f * 1e6)
        theirs.append(p * 1e6)
        ratios.append(p / f)
    return statistics.median(ours), statistics.median(theirs), statistics.median(ratios)


def main() -> None:
    """Print, per shape, µs per call of both and the median ratio public / private."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    print(f"{'shape':26s} {'private µs':>11s} {'lfilter µs':>11s} {'lfilter/private':>16s}")
    for name, shape in SHAPES.items():
        fast, public, ratio = compare(shape, args.rounds)
        print(f"{name:26s} {fast:11.1f} {public:11.1f} {ratio:16.2f}", flush=True)


if __name__ == "__main__":
    main()
