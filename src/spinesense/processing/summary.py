"""The session summary: per-metric median and spread, per side, and how the run changed.

Flat JSON-able keys (``<metric>_median``, ``<metric>_iqr``, ``<metric>_first_median``,
``<metric>_last_median``) so Home Assistant and Grafana can use them without parsing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from spinesense.models import STRIDE_METRICS

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
