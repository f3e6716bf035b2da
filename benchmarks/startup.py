"""Start-up time of the command line: `spinesense --help` and `--version` beside a bare interpreter.

A shared machine's speed drifts between runs, so the three commands run in turn, round after round; the
script prints each one's median wall time and its ratio to `python -c pass` (the floor no command can go
under), then the heaviest imports of `spinesense --help` from `python -X importtime`.

Usage: .venv/bin/python benchmarks/startup.py [--rounds N] [--top K] [--src SRC]
--src runs the package from another checkout's src/ folder (e.g. an older commit, for a before/after).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "spinesense --help": ["-m", "spinesense", "--help"],
    "spinesense --version": ["-m", "spinesense", "--version"],
}


def wall_s(args: list[str], env: dict[str, str]) -> float:
    """Wall time of one run of the interpreter with ``args``."""
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], env=env, capture_output=True, check=True)  # noqa: S603
    return time.perf_counter() - start


def heaviest_imports(env: dict[str, str], top: int) -> list[tuple[int, int, str]]:
    """(cumulative µs, own µs, module) of the ``top`` slowest imports of ``spinesense --help``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "spinesense", "--help"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            own, cumulative, name = line.removeprefix("import time:").split("|")
            rows.append((int(cumulative), int(own), name.strip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    """Measure, then print the medians, the ratios and the heaviest imports."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11, help="runs of each command (default 11)")
    parser.add_argument("--top", type=int, default=15, help="imports to list (default 15)")
    parser.add_argument("--src", type=Path, default=SRC, help="src/ folder to run (default this checkout's)")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(args.src.resolve())}
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.rounds):
        for name, command in COMMANDS.items():
            times[name].append(wall_s(command, env))
    floor = statistics.median(times["python -c pass"])
    print(f"{args.rounds} rounds, package from {args.src}")
    for name, runs in times.items():
        median = statistics.median(runs)
        print(f"{name:22s} median {median * 1000:7.1f} ms  ({median / floor:5.1f}x python -c pass)")
    print(f"\nslowest imports of spinesense --help (python -X importtime, top {args.top}):")
    print(f"{'cumulative':>12s} {'own':>9s}  module")
    for cumulative, own, name in heaviest_imports(env, args.top):
        print(f"{cumulative / 1000:9.1f} ms {own / 1000:6.1f} ms  {name}")


if __name__ == "__main__":
    main()
