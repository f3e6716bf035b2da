"""Per-stride cost of the alert engine's rolling medians and of the rolling summary: plain vs incremental.

The plain versions recompute from scratch (``window_medians`` over the last strides for every rule
window; ``session_summary`` over the whole run every SUMMARY_EVERY strides, what the service did before);
the incremental ones update sorted windows. The bundled 11-minute demo run's strides are repeated to
``--minutes`` of running; rounds alternate plain and incremental and the ratio is the median of rounds.

Usage: .venv/bin/python benchmarks/rolling.py [--minutes 60] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from spinesense import analyse
from spinesense.alerts import AlertConfig
from spinesense.alerts._rolling import RollingMedians, window_medians
from spinesense.processing.summary import RollingSummary, session_summary
from spinesense.service import SUMMARY_EVERY

if TYPE_CHECKING:
    from collections.abc import Callable

    from spinesense.models import Stride

DEMO_RUN = Path(__file__).resolve().parents[1] / "replay_data" / "demo" / "fatigue_run.jsonl.gz"


def long_run(minutes: float) -> list[Stride]:
    """The demo run's strides repeated, times shifted on, to ``minutes`` of running."""
    once = analyse(DEMO_RUN).strides
    span = once[-1].t_end_s - once[0].t_start_s + 1.0
    out: list[Stride] = []
    copy = 0
    while not out or out[-1].t_end_s - out[0].t_start_s < minutes * 60:
        shift = copy * span
        out += [
            replace(s, index=len(out) + i, t_start_s=s.t_start_s + shift, t_end_s=s.t_end_s + shift)
            for i, s in enumerate(once)
        ]
        copy += 1
    return out


def window_sizes() -> list[int]:
    """The rule windows of the default thresholds (hold_strides and every window_strides)."""
    config = AlertConfig.default()
    return sorted({int(r.values.get("window_strides", config.hold_strides)) for r in config.rules.values()})


def plain_medians(strides: list[Stride], sizes: list[int]) -> None:
    """Every rule window's medians recomputed from its strides after each stride."""
    for i in range(len(strides)):
        for size in sizes:
            window_medians(strides[max(0, i + 1 - size) : i + 1])


def rolling_medians(strides: list[Stride], sizes: list[int]) -> None:
    """Every rule window's medians kept up to date stride by stride."""
    windows = [RollingMedians(size) for size in sizes]
    for stride in strides:
        for window in windows:
            window.feed(stride)
            window.medians()


def plain_summary(strides: list[Stride]) -> None:
    """The summary recomputed over the run so far every SUMMARY_EVERY strides."""
    for n in range(SUMMARY_EVERY, len(strides) + 1, SUMMARY_EVERY):
        session_summary(strides[:n])


def rolling_summary(strides: list[Stride]) -> None:
    """The summary kept up to date stride by stride, read every SUMMARY_EVERY strides."""
    summary = RollingSummary()
    for n, stride in enumerate(strides, 1):
        summary.feed(stride)
        if n % SUMMARY_EVERY == 0:
            summary.summary()


def us_per_stride(work: Callable[[], None], strides: int) -> float:
    """Microseconds per stride of one call of ``work``."""
    start = time.perf_counter()
    work()
    return (time.perf_counter() - start) / strides * 1e6


def main() -> None:
    """Print each round's per-stride cost and the median ratios (plain / incremental)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the run (default 60)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    strides = long_run(args.minutes)
    sizes = window_sizes()
    n = len(strides)
    print(f"{n} strides over {(strides[-1].t_end_s - strides[0].t_start_s) / 60:.0f} min, windows {sizes}")
    cases = {
        "medians": (lambda: plain_medians(strides, sizes), lambda: rolling_medians(strides, sizes)),
        "summary": (lambda: plain_summary(strides), lambda: rolling_summary(strides)),
    }
    print(f"{'round':>5s} {'part':>8s} {'plain us/stride':>16s} {'incremental':>12s} {'ratio':>7s}")
    ratios: dict[str, list[float]] = {name: [] for name in cases}
    for k in range(1, args.rounds + 1):
        for name, (plain, incremental) in cases.items():
            a, b = us_per_stride(plain, n), us_per_stride(incremental, n)
            ratios[name].append(a / b)
            print(f"{k:5d} {name:>8s} {a:16.1f} {b:12.1f} {a / b:7.1f}", flush=True)
    for name, values in ratios.items():
        ratio = statistics.median(values)
        print(f"{name}: incremental is {ratio:.1f}x cheaper per stride (median of rounds)")


if __name__ == "__main__":
    main()
