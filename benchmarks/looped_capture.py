"""Make a long recording by looping a capture: the 1-hour input of the replay backpressure figures.

Usage: .venv/bin/python benchmarks/looped_capture.py OUT.jsonl.gz [--times 6] [--source FILE]
(default source: replay_data/demo/fatigue_run.jsonl.gz, 11 minutes; 6 times is about an hour).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from spinesense.testing import loop_capture

DEMO = Path(__file__).resolve().parents[1] / "replay_data" / "demo" / "fatigue_run.jsonl.gz"


def main() -> None:
    """Write the looped capture and say how long it is."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--times", type=int, default=6)
    parser.add_argument("--source", type=Path, default=DEMO)
    args = parser.parse_args()
    loop_capture(args.source, args.out, args.times)
    print(f"{args.out}: {args.source.name} looped {args.times} times")


if __name__ == "__main__":
    main()
