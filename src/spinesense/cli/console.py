"""What a person sees in the terminal during replay, run and demo: one plain line per event."""

from __future__ import annotations

from spinesense.alerts import BaselineState
from spinesense.models import Alert, Stride

MISSING = "n/a"
"""What a line shows for a metric that could not be computed: never a dash beside minus signs."""


def _value(value: float | None, fmt: str, unit: str = "") -> str:
    """A metric with its unit for a line; ``n/a`` when it could not be computed."""
    return MISSING if value is None else f"{format(value, fmt)}{unit}"


def direction(value: float | None, positive: str, negative: str) -> str:
    """An angle in words: ``forward 3.4°`` for +3.4 with ``positive="forward"``, ``back 2.0°`` for -2."""
    if value is None:
        return MISSING
    return f"{positive if value >= 0 else negative} {abs(value):.1f}°"


def stride_line(s: Stride) -> str:
    """One stride as a line a person can follow during a run (columns: docs/cli.md)."""
    return (
        f"stride {s.index:5d}  t={s.t_start_s:8.2f} s  {s.side:<7s} cadence {s.cadence_spm:5.1f} spm  "
        f"GCT {_value(s.gct_ms, '.0f', ' ms')}  flight {_value(s.flight_ms, '.0f', ' ms')}  "
        f"vGRF {_value(s.vgrf_peak_bw, '.2f', ' BW')}  "
        f"lean {direction(s.trunk_lean_deg, 'forward', 'back')}  "
        f"side {direction(s.trunk_lateral_lean_deg, 'left', 'right')}  "
        f"pelvic tilt {_value(s.pelvic_tilt_rom_deg, '.1f', '°')}  "
        f"drop L {_value(s.pelvic_drop_left_deg, '.1f', '°')} R {_value(s.pelvic_drop_right_deg, '.1f', '°')}"
    )


def alert_line(a: Alert) -> str:
    """An alert event as the runner would hear it."""
    mark = "ALERT" if a.state == "raised" else "clear"
    return f"{mark} {a.kind} ({a.severity}) t={a.t_s:.1f} s: {a.message}"


def print_line(event: Stride | Alert | BaselineState) -> None:
    """Print a stride, an alert event or news of the baseline as its line on stdout (the console sink)."""
    if isinstance(event, Alert):
        print(alert_line(event), flush=True)
    elif isinstance(event, BaselineState):
        print(f"baseline: {event.describe()}", flush=True)
    else:
        print(stride_line(event), flush=True)
