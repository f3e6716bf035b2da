"""Alerts per recording with the packaged thresholds: every capture in replay_data/ and the 25 min ADEPT run.

Prints, per recording, the alerts raised (by kind), the strides and the baseline's state at the end, so a
change of a limit can be checked against healthy runners (docs/alerts.md quotes the figures).

Usage: .venv/bin/python benchmarks/alert_counts.py [DATASETS_DIR]
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from _datasets import datasets_root
from spinesense.models import GRAVITY_MPS2, SampleBlock
from spinesense.run import analyse

if TYPE_CHECKING:
    from spinesense.run import RunResult

REPLAY_DATA = Path(__file__).resolve().parents[1] / "replay_data"


def count(name: str, result: RunResult) -> None:
    """Print the alerts the default rules raised in ``result``, and the baseline's state at its end."""
    raised = [a.kind for a in result.alerts if a.state == "raised"]
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(Counter(raised).items())) or "-"
    print(f"{name:60s} {len(raised):3d} alerts ({kinds}) over {len(result.strides)} strides")
    if result.baseline_state is not None:
        print(f"{'':60s} {result.baseline_state.describe()}")


def adept_run(datasets: Path) -> SampleBlock:
    """The 25 min outdoor run (hip-worn ActiGraph, 100 Hz, g; GPL-3: read from the shared datasets)."""
    with (datasets / "adeptdata_acc_running" / "acc_running.csv").open(encoding="utf-8") as f:
        rows = [row[2:5] for row in csv.reader(f) if row[0] == "left_hip"]
    acc = np.asarray(rows, dtype=float) * GRAVITY_MPS2
    return SampleBlock(np.arange(len(acc)) / 100.0, acc, None, 0, 100.0)


def main() -> None:
    """Every recording, one after another."""
    for path in sorted(REPLAY_DATA.glob("*/*.jsonl.gz")):
        count(str(path.relative_to(REPLAY_DATA)), analyse(path))
    datasets = datasets_root()
    if (datasets / "adeptdata_acc_running").exists():
        count("ADEPT 25 min outdoor run (left hip)", analyse(adept_run(datasets)))


if __name__ == "__main__":
    main()
