"""Fuzz the capture reader, the CSV reader and the three frame decoders with 10^6 mutated inputs.

`.venv/bin/python benchmarks/fuzz.py [--inputs N] [--seed S]`: inputs are shared evenly among the
targets of tests/fuzz_targets.py; each is a seed changed by 1-8 random mutations (bit flips, bytes set,
inserted, deleted, duplicated, truncation, tokens such as NaN or Infinity) or, one in ten, random bytes.
Prints inputs, crashes (an exception the target does not document, or a warning) and the slowest input
per target; crashing inputs are saved under /tmp/spinesense-fuzz/ to become regression tests.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzz_targets import OPS, Target, mutate, targets

CRASHES = Path(tempfile.gettempdir()) / "spinesense-fuzz"


def one_input(target: Target, rng: random.Random) -> bytes:
    """A mutated seed, or (one in ten) random bytes."""
    if rng.random() < 0.1:
        return rng.randbytes(rng.randrange(0, 1024))
    edits = [(rng.choice(OPS), rng.randrange(2**31), rng.randrange(2**16)) for _ in range(rng.randint(1, 8))]
    return mutate(rng.choice(target.seeds), edits)


def fuzz(target: Target, inputs: int, rng: random.Random) -> tuple[int, dict[str, int], float]:
    """Run ``inputs`` inputs; (refused with a documented error, crashes by kind, slowest input in s)."""
    refused, crashes, slowest = 0, dict[str, int](), 0.0
    for n in range(inputs):
        data = one_input(target, rng)
        start = time.perf_counter()
        try:
            target.run(data)
        except target.allowed:
            refused += 1
        except Exception as exc:  # noqa: BLE001 - a crash is what we are looking for
            kind = f"{type(exc).__name__} at {traceback.extract_tb(exc.__traceback__)[-1].name}"
            if kind not in crashes:
                CRASHES.mkdir(exist_ok=True)
                (CRASHES / f"{target.name.replace(' ', '_')}-{n}.bin").write_bytes(data)
            crashes[kind] = crashes.get(kind, 0) + 1
        slowest = max(slowest, time.perf_counter() - start)
    return refused, crashes, slowest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=1_000_000, help="inputs in all (default 10^6)")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # the readers log each skipped line
    warnings.simplefilter("error")  # a warning (numpy's "invalid value", say) would reach the user: a crash
    rng = random.Random(args.seed)  # noqa: S311 - fuzzing wants reproducible, not secret, randomness
    total_crashes = 0
    with tempfile.TemporaryDirectory() as folder:
        all_targets = targets(Path(folder))
        per_target = args.inputs // len(all_targets)
        print(f"{'target':<20} {'inputs':>9} {'refused':>9} {'crashes':>8} {'slowest':>9} {'seconds':>8}")
        for target in all_targets:
            start = time.perf_counter()
            refused, crashes, slowest = fuzz(target, per_target, rng)
            took = time.perf_counter() - start
            crashed = sum(crashes.values())
            total_crashes += crashed
            print(
                f"{target.name:<20} {per_target:>9} {refused:>9} {crashed:>8} "
                f"{slowest * 1e3:>7.1f}ms {took:>8.0f}"
            )
            for kind, count in crashes.items():
                print(f"    {count} x {kind}")
    print(f"inputs {per_target * len(all_targets)}, crashes {total_crashes}")


if __name__ == "__main__":
    main()
