"""What the report draws behind a metric: the runner's baseline band and the absolute limits.

Both come from the alert configuration, so the chart shows exactly where an alert would fire: the band
is the range around the baseline inside which no baseline rule fires, drawn only when a baseline was
learned or given; the limits are the absolute ones, checked from the first stride.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spinesense.alerts import AlertConfig

ALERT_METRICS: dict[str, tuple[str, ...]] = {
    "forward_lean": ("trunk_lean_deg",),
    "backward_lean": ("trunk_lean_deg",),
    "side_lean": ("trunk_lateral_lean_deg",),
    "pelvic_drop_left": ("pelvic_drop",),
    "pelvic_drop_right": ("pelvic_drop",),
    "high_impact": ("vgrf_peak_bw",),
    "overstriding": ("cadence_spm", "braking_g"),
    "low_cadence": ("cadence_spm",),
    "asymmetry": ("gct_ms", "balance"),
    "fatigue_drift": ("gct_ms",),
}
"""Alert kind -> the charts its spans are drawn on (sensor alerts go on every chart)."""


@dataclass(frozen=True, slots=True)
class Guide:
    """A metric's baseline band (None: no baseline) and absolute limits (value, which side is bad)."""

    band: tuple[float, float] | None
    baseline: float | None
    limits: tuple[tuple[float, str], ...]
    """(value, "above" or "below"): an alert fires when the metric goes past it on that side."""


def guide(metric: str, config: AlertConfig, baseline: dict[str, float] | None) -> Guide:
    """The band and limits of ``metric`` under ``config``, around ``baseline`` when one is known."""
    rules = config.rules
    base = None if baseline is None else baseline.get(metric)
    low = high = base
    limits: list[tuple[float, str]] = []
    if metric == "cadence_spm":
        limits.append((rules["low_cadence"]["limit"], "below"))
        low = None if base is None else base - rules["low_cadence"]["delta"]
    elif metric == "gct_ms":
        high = None if base is None else base * rules["fatigue_drift"]["ratio"]
    elif metric == "vgrf_peak_bw":
        limits.append((rules["high_impact"]["limit"], "above"))
        high = None if base is None else base * rules["high_impact"]["ratio"]
    elif metric == "trunk_lean_deg" and base is not None:
        low, high = base - rules["backward_lean"]["delta"], base + rules["forward_lean"]["delta"]
    elif metric == "trunk_lateral_lean_deg" and base is not None:
        low, high = base - rules["side_lean"]["delta"], base + rules["side_lean"]["delta"]
    elif metric.startswith("pelvic_drop_"):
        limits.append((rules["pelvic_drop"]["limit"], "above"))
        high = None if base is None else base + rules["pelvic_drop"]["delta"]
    band = None if base is None or low is None or high is None or low == high else (low, high)
    return Guide(band, base, tuple(limits))
