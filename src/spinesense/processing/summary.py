"""The session summary: per-metric median and spread, per side, and how the run changed.

Flat JSON-able keys (``<metric>_median``, ``<metric>_iqr``, ``<metric>_first_median``,
``<metric>_last_median``) so Home Assistant and Grafana can use them without parsing.
``session_summary`` recomputes it from all the strides (the reference, and the end of a run);
``RollingSummary`` keeps it up to date stride by stride for the summary a live run publishes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from spinesense.models import STRIDE_METRICS
from spinesense.processing._sorted import MetricValues

if TYPE_CHECKING:
    from collections.abc import Sequence

    from spinesense.models import Stride

TREND_WINDOW_S = 300.0
"""First vs last five minutes: how form drifts with fatigue. Shorter runs compare their halves."""


def _median_iqr(values: list[float]) -> tuple[float, float]:
    """Median and interquartile range."""
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return float(median), float(q3 - q1)


def session_summary(strides: Sequence[Stride]) -> dict[str, Any]:
    """Summarise the running strides of a run (walking strides are only counted)."""
    running = [s for s in strides if s.running]
    summary: dict[str, Any] = {
        "strides": len(strides),
        "running_strides": len(running),
        "duration_s": round(strides[-1].t_end_s - strides[0].t_start_s, 2) if strides else 0.0,
    }
    if not running:
        return summary
    start, end = running[0].t_start_s, running[-1].t_end_s
    window = min(TREND_WINDOW_S, (end - start) / 2)
    first = [s for s in running if s.t_start_s < start + window]
    last = [s for s in running if s.t_end_s > end - window]
    summary["trend_window_s"] = round(window, 1)
    for name in STRIDE_METRICS:
        values = [v for s in running if (v := getattr(s, name)) is not None]
        if not values:
            continue
        median, iqr = _median_iqr(values)
        summary[f"{name}_median"] = round(median, 3)
        summary[f"{name}_iqr"] = round(iqr, 3)
        for label, part in (("first", first), ("last", last)):
            part_values = [v for s in part if (v := getattr(s, name)) is not None]
            if part_values:
                summary[f"{name}_{label}_median"] = round(float(np.median(part_values)), 3)
    return summary


class RollingSummary:
    """``session_summary`` of the strides so far, with O(log n) work per stride instead of O(n).

    Per metric, the values of all running strides, of the first part and of the last part are kept
    sorted; the first part only grows and the last part slides, because both limits only move forward.
    """

    def __init__(self) -> None:
        """Start with no stride."""
        self._count = 0
        self._start_s = 0.0
        self._end_s = 0.0
        self._running: list[Stride] = []
        self._first_n = 0
        """Running strides in the first part: a prefix of ``_running``."""
        self._last_from = 0
        """Index in ``_running`` of the last part's oldest stride."""
        self._all = MetricValues()
        self._first = MetricValues()
        self._last = MetricValues()

    def feed(self, stride: Stride) -> None:
        """Take the next stride of the run."""
        if not self._count:
            self._start_s = stride.t_start_s
        self._count += 1
        self._end_s = stride.t_end_s
        if not stride.running:
            return
        running = self._running
        running.append(stride)
        self._all.add(stride)
        self._last.add(stride)
        start, window = running[0].t_start_s, self._window_s()
        while self._first_n < len(running) and running[self._first_n].t_start_s < start + window:
            self._first.add(running[self._first_n])
            self._first_n += 1
        end = stride.t_end_s
        while self._last_from < len(running) and running[self._last_from].t_end_s <= end - window:
            self._last.remove(running[self._last_from])
            self._last_from += 1

    def __len__(self) -> int:
        """Strides fed so far."""
        return self._count

    def _window_s(self) -> float:
        """Length of the first and last parts: five minutes, or half the running so far."""
        return min(TREND_WINDOW_S, (self._running[-1].t_end_s - self._running[0].t_start_s) / 2)

    def summary(self) -> dict[str, Any]:
        """The summary now: equal to ``session_summary`` of the strides fed."""
        summary: dict[str, Any] = {
            "strides": self._count,
            "running_strides": len(self._running),
            "duration_s": round(self._end_s - self._start_s, 2) if self._count else 0.0,
        }
        if not self._running:
            return summary
        summary["trend_window_s"] = round(self._window_s(), 1)
        for name in STRIDE_METRICS:
            values = self._all.sorted[name]
            if not len(values):
                continue
            q1, median, q3 = (values.percentile(q) for q in (25, 50, 75))
            summary[f"{name}_median"] = round(median, 3)
            summary[f"{name}_iqr"] = round(q3 - q1, 3)
            for label, part in (("first", self._first), ("last", self._last)):
                part_values = part.sorted[name]
                if len(part_values):
                    summary[f"{name}_{label}_median"] = round(part_values.median(), 3)
        return summary
