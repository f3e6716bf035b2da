"""The alert rules: what each one measures, when it is beyond its limit, and what the runner hears.

A rule looks at rolling medians over the last strides and at the runner's baseline and returns how far
beyond its limit the runner is (positive = alert, in the rule's own units, so hysteresis is in those
units too), the message, and the numbers behind it; or None when it cannot judge (metric missing, no
baseline yet and no absolute limit).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from spinesense.alerts.config import RuleConfig

Medians = dict[str, float]


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule's verdict on the current strides."""

    excess: float
    """How far beyond the limit (positive: the alert condition holds)."""
    message: str
    values: dict[str, float]


def _lean(m: Medians, b: Medians, c: RuleConfig, sign: float) -> Finding | None:
    """Forward (sign +1) or backward (sign -1) lean relative to baseline."""
    if "trunk_lean_deg" not in m or "trunk_lean_deg" not in b:
        return None
    change = sign * (m["trunk_lean_deg"] - b["trunk_lean_deg"])
    values = {"value": m["trunk_lean_deg"], "baseline": b["trunk_lean_deg"], "delta": c["delta"]}
    if sign > 0:
        message = f"Leaning {change:.0f}° further forward than your baseline: run tall"
    else:
        message = f"Leaning back {change:.0f}° more than your baseline: hips forward, lean from the ankles"
    return Finding(change - c["delta"], message, values)


def forward_lean(m: Medians, b: Medians, c: RuleConfig) -> Finding | None:
    """Lower trunk inclined further forward than at baseline (fatigue, looking down)."""
    return _lean(m, b, c, 1.0)


def backward_lean(m: Medians, b: Medians, c: RuleConfig) -> Finding | None:
    """Sitting back: lower trunk behind its baseline (overstriding, braking)."""
    return _lean(m, b, c, -1.0)


def side_lean(m: Medians, b: Medians, c: RuleConfig) -> Finding | None:
    """Sideways lean beyond baseline: loads one side of the lower back."""
    if "trunk_lateral_lean_deg" not in m or "trunk_lateral_lean_deg" not in b:
        return None
    change = m["trunk_lateral_lean_deg"] - b["trunk_lateral_lean_deg"]
    side = "left" if change > 0 else "right"
    values = {
        "value": m["trunk_lateral_lean_deg"],
        "baseline": b["trunk_lateral_lean_deg"],
        "delta": c["delta"],
    }
    return Finding(
        abs(change) - c["delta"],
        f"Leaning {abs(change):.0f}° to the {side} more than usual: stay level",
        values,
    )


def _pelvic_drop(m: Medians, b: Medians, c: RuleConfig, side: str) -> Finding | None:
    """Pelvic drop during one foot's stance, against an absolute limit and the baseline."""
    key = f"pelvic_drop_{side}_deg"
    if key not in m:
        return None
    limit = min(c["limit"], b[key] + c["delta"]) if key in b else c["limit"]
    message = (
        f"Your pelvis drops {m[key]:.0f}° when you land on your {side} foot: "
        f"squeeze the {side} glute, keep your hips level"
    )
    return Finding(
        m[key] - limit,
        message,
        {"value": m[key], "limit": limit, **({"baseline": b[key]} if key in b else {})},
    )


def pelvic_drop_left(m: Medians, b: Medians, c: RuleConfig) -> Finding | None:
    """Contralateral pelvic drop in left-foot stances (weak left hip abductors)."""
    return _pelvic_drop(m, b, c, "left")


def pelvic_drop_right(m: Medians, b: Medians, c: RuleConfig) -> Finding | None:
    """Contralateral pelvic drop in right-foot stances."""
    return _pelvic_drop(m, b, c, "right")


def high_impact(m: Medians, b: Medians, c: RuleConfig) -> Finding | None:
    """Estimated peak vertical force above an absolute limit or well above baseline."""
    if "vgrf_peak_bw" not in m:
        return None
    value = m["vgrf_peak_bw"]
    limit = min(c["limit"], b["vgrf_peak_bw"] * c["ratio"]) if "vgrf_peak_bw" in b else c["limit"]
    base = b.get("vgrf_peak_bw")
    harder = f"{(value / base - 1) * 100:.0f}% harder than your baseline" if base else "hard"
    message = f"Landing {harder} ({value:.1f} BW): land softer, with quicker steps"
    return Finding(
        value - limit, message, {"value": value, "limit": limit, **({"baseline": base} if base else {})}
    )


def overstriding(m: Medians, b: Medians, c: RuleConfig) -> Finding | None:
    """More braking with a lower cadence than at baseline: the foot lands ahead of the body."""
    if not {"braking_g", "cadence_spm"} <= m.keys() or not {"braking_g", "cadence_spm"} <= b.keys():
        return None
    braking_excess = m["braking_g"] / max(b["braking_g"], 1e-6) - c["braking_ratio"]
    cadence_excess = (b["cadence_spm"] - m["cadence_spm"] - c["cadence_drop"]) / 10.0
    values = {
        "braking_g": m["braking_g"],
        "cadence_spm": m["cadence_spm"],
        "baseline_braking_g": b["braking_g"],
    }
    message = "Braking more with fewer steps: shorten your stride and land under your hips"
    return Finding(min(braking_excess, cadence_excess), message, values)


def low_cadence(m: Medians, b: Medians, c: RuleConfig) -> Finding | None:
    """Cadence below an absolute floor or well below baseline."""
    if "cadence_spm" not in m:
        return None
    floor = max(c["limit"], b["cadence_spm"] - c["delta"]) if "cadence_spm" in b else c["limit"]
    value = m["cadence_spm"]
    return Finding(
        floor - value,
        f"Cadence down to {value:.0f} steps/min: quicker, lighter steps",
        {"value": value, "limit": floor},
    )


def asymmetry(m: Medians, b: Medians, c: RuleConfig) -> Finding | None:
    """Left and right ground contact times differ beyond the limit and beyond the runner's own normal.

    Part of a measured difference is the runner's normal and the sensor sitting off the midline, so
    with a baseline the limit is raised to the baseline difference plus ``delta``.
    """
    if not {"gct_left_ms", "gct_right_ms"} <= m.keys():
        return None
    left, right = m["gct_left_ms"], m["gct_right_ms"]
    diff = abs(left - right) / ((left + right) / 2)
    limit = c["limit"]
    if {"gct_left_ms", "gct_right_ms"} <= b.keys():
        usual = abs(b["gct_left_ms"] - b["gct_right_ms"]) / ((b["gct_left_ms"] + b["gct_right_ms"]) / 2)
        limit = max(limit, usual + c["delta"])
    longer = "left" if left > right else "right"
    message = (
        f"Your {longer} foot stays on the ground {diff * 100:.0f}% longer than the other: "
        "ease off and even out your stride"
    )
    return Finding(
        diff - limit,
        message,
        {"gct_left_ms": left, "gct_right_ms": right, "difference": diff, "limit": limit},
    )


def fatigue_drift(m: Medians, b: Medians, c: RuleConfig) -> Finding | None:
    """Ground contacts getting longer than at baseline: the legs are tiring."""
    if "gct_ms" not in m or "gct_ms" not in b:
        return None
    ratio = m["gct_ms"] / b["gct_ms"]
    longer = f"{(ratio - 1) * 100:.0f}% longer"
    message = f"Ground contacts {longer} than at the start: fatigue; relax, shorten your stride"
    return Finding(
        ratio - c["ratio"], message, {"value": m["gct_ms"], "baseline": b["gct_ms"], "ratio": c["ratio"]}
    )


Rule = Callable[[Medians, Medians, RuleConfig], Finding | None]

STRIDE_RULES: dict[str, tuple[str, Rule]] = {
    "forward_lean": ("forward_lean", forward_lean),
    "backward_lean": ("backward_lean", backward_lean),
    "side_lean": ("side_lean", side_lean),
    "pelvic_drop_left": ("pelvic_drop", pelvic_drop_left),
    "pelvic_drop_right": ("pelvic_drop", pelvic_drop_right),
    "high_impact": ("high_impact", high_impact),
    "overstriding": ("overstriding", overstriding),
    "low_cadence": ("low_cadence", low_cadence),
    "asymmetry": ("asymmetry", asymmetry),
    "fatigue_drift": ("fatigue_drift", fatigue_drift),
}
"""Alert kind -> (its table in [thresholds], the rule)."""

RECOVERED: dict[str, str] = {
    "forward_lean": "Trunk lean back to your normal",
    "backward_lean": "Trunk lean back to your normal",
    "side_lean": "Level again",
    "pelvic_drop_left": "Hips level again on the left",
    "pelvic_drop_right": "Hips level again on the right",
    "high_impact": "Landing softer again",
    "overstriding": "Stride back to normal",
    "low_cadence": "Cadence back up",
    "asymmetry": "Left and right even again",
    "fatigue_drift": "Ground contacts back to your normal",
    "many_gaps": "Sensor data complete again",
    "signal_lost": "Sensor signal back",
}
"""What the runner hears when an episode ends."""

SENSOR_KINDS = ("signal_lost", "many_gaps")
ALERT_KINDS = (*STRIDE_RULES, *SENSOR_KINDS)
"""Every alert kind spinesense raises."""
