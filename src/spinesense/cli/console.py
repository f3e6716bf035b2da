"""What a person sees in the terminal during replay, run and demo: one plain line per event."""

from __future__ import annotations

from spinesense.models import Alert, Stride


def _value(value: float | None, fmt: str) -> str:
    """A metric for a line; '-' when it could not be computed."""
    return "-" if value is None else format(value, fmt)


def stride_line(s: Stride) -> str:
    """One stride as a line a person can follow during a run."""
    return (
        f"stride {s.index:5d}  t={s.t_start_s:8.2f} s  {s.side:<7s} cadence {s.cadence_spm:5.1f} spm  "
        f"GCT {_value(s.gct_ms, '4.0f')} ms  flight {_value(s.flight_ms, '4.0f')} ms  "
        f"vGRF {_value(s.vgrf_peak_bw, '4.2f')} BW  lean {_value(s.trunk_lean_deg, '5.1f')} deg  "
        f"pelvic tilt {_value(s.pelvic_tilt_rom_deg, '4.1f')} deg"
    )


def alert_line(a: Alert) -> str:
    """An alert event as the runner would hear it."""
    mark = "ALERT" if a.state == "raised" else "clear"
    return f"{mark} {a.kind} ({a.severity}) t={a.t_s:.1f} s: {a.message}"


def print_line(event: Stride | Alert) -> None:
    """Print a stride or an alert event as its line on stdout (the service's console sink)."""
    print(alert_line(event) if isinstance(event, Alert) else stride_line(event), flush=True)
