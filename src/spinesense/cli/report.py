"""The post-run report: one self-contained HTML page (inline SVG, no scripts, no network).

Metric time series with alert markers, per-side distributions, the fatigue trend (first vs last part of
the run), the session summary, and a short plain-language reading for the runner.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from spinesense import __version__

if TYPE_CHECKING:
    from spinesense.alerts import BaselineState
    from spinesense.models import Alert, Stride

SERIES: tuple[tuple[str, str, str], ...] = (
    ("cadence_spm", "Cadence", "steps/min"),
    ("gct_ms", "Ground contact time", "ms"),
    ("vgrf_peak_bw", "Peak vertical force", "body weights"),
    ("loading_rate_g_per_s", "Loading rate", "g/s"),
    ("vertical_oscillation_cm", "Vertical oscillation", "cm"),
    ("trunk_lean_deg", "Trunk lean (forward +)", "°"),
    ("trunk_lateral_lean_deg", "Side lean (left +)", "°"),
    ("pelvic_tilt_rom_deg", "Pelvic tilt range", "°"),
)
SIDES: tuple[tuple[str, str, str, str], ...] = (
    ("Ground contact time", "gct_left_ms", "gct_right_ms", "ms"),
    ("Pelvic drop", "pelvic_drop_left_deg", "pelvic_drop_right_deg", "°"),
)
WIDTH, HEIGHT, PAD = 760, 170, 44


@dataclass(frozen=True)
class RunData:
    """What the report shows: the strides, the alert events, the session summary and the baseline."""

    title: str
    strides: list[Stride]
    alerts: list[Alert]
    summary: dict[str, Any]
    baseline: BaselineState | None = None
    """The baseline at the end of the run (None: not known to the caller; no claim is made)."""


def _values(strides: list[Stride], name: str) -> tuple[np.ndarray, np.ndarray]:
    """Times (s) and values of a metric over the strides where it exists."""
    pairs = [(s.t_start_s, v) for s in strides if (v := getattr(s, name)) is not None]
    if not pairs:
        return np.empty(0), np.empty(0)
    t, v = np.array(pairs).T
    return t, v


def _series_svg(strides: list[Stride], alerts: list[Alert], name: str, label: str, unit: str) -> str:
    """A line chart of one metric over the run, with a marker at every alert raised."""
    t, v = _values(strides, name)
    if t.size < 2:
        return f'<p class="missing">{html.escape(label)}: not measured in this run.</p>'
    t0, t1 = float(t.min()), float(t.max())
    lo, hi = np.percentile(v, [1, 99])
    lo, hi = (float(lo), float(hi)) if hi > lo else (float(lo) - 1, float(hi) + 1)

    def x(tt: float) -> float:
        return PAD + (tt - t0) / max(t1 - t0, 1e-9) * (WIDTH - 2 * PAD)

    def y(vv: float) -> float:
        return HEIGHT - PAD / 2 - (min(max(vv, lo), hi) - lo) / (hi - lo) * (HEIGHT - PAD)

    points = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in zip(t, v, strict=True))
    marks = "".join(
        f'<line class="alert" x1="{x(a.t_s):.1f}" x2="{x(a.t_s):.1f}" '
        f'y1="{PAD / 2:.0f}" y2="{HEIGHT - PAD / 2:.0f}">'
        f"<title>{html.escape(a.message)}</title></line>"
        for a in alerts
        if a.state == "raised" and t0 <= a.t_s <= t1
    )
    return (
        f"<figure><figcaption>{html.escape(label)} ({html.escape(unit)})</figcaption>"
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{html.escape(label)} over time">'
        f'<rect class="plot" x="{PAD}" y="{PAD / 2}" width="{WIDTH - 2 * PAD}" height="{HEIGHT - PAD}"/>'
        f'<text x="4" y="{PAD / 2 + 10}">{hi:.4g}</text><text x="4" y="{HEIGHT - PAD / 2}">{lo:.4g}</text>'
        f'<text x="{PAD}" y="{HEIGHT - 4}">{t0 / 60:.1f} min</text>'
        f'<text x="{WIDTH - PAD - 50}" y="{HEIGHT - 4}">{t1 / 60:.1f} min</text>'
        f'{marks}<polyline class="series" points="{points}"/></svg></figure>'
    )


def _sides_svg(strides: list[Stride], label: str, left: str, right: str, unit: str) -> str:
    """Left and right distributions side by side: a box (quartiles) and whiskers (5-95 %) each."""
    data = {side: _values(strides, name)[1] for side, name in (("left", left), ("right", right))}
    if any(v.size < 3 for v in data.values()):
        return f'<p class="missing">{html.escape(label)} per side: not measured in this run.</p>'
    all_v = np.concatenate(list(data.values()))
    lo, hi = np.percentile(all_v, [1, 99])
    hi = hi if hi > lo else lo + 1

    def x(vv: float) -> float:
        return float(90 + (vv - lo) / (hi - lo) * (WIDTH - 140))

    rows = []
    for k, (side, v) in enumerate(data.items()):
        p5, q1, med, q3, p95 = np.percentile(v, [5, 25, 50, 75, 95])
        yy = 30 + k * 45
        rows.append(
            f'<text x="8" y="{yy + 5}">{side}</text>'
            f'<line class="whisker" x1="{x(p5):.1f}" x2="{x(p95):.1f}" y1="{yy}" y2="{yy}"/>'
            f'<rect class="box {side}" x="{x(q1):.1f}" y="{yy - 12}" '
            f'width="{max(x(q3) - x(q1), 2):.1f}" height="24"/>'
            f'<line class="median" x1="{x(med):.1f}" x2="{x(med):.1f}" y1="{yy - 12}" y2="{yy + 12}"/>'
            f'<text x="{WIDTH - 45}" y="{yy + 5}">{med:.4g}</text>'
        )
    return (
        f"<figure><figcaption>{html.escape(label)} per side ({html.escape(unit)}): "
        "median, quartiles, 5 to 95 %</figcaption>"
        f'<svg viewBox="0 0 {WIDTH} 110" role="img" aria-label="{html.escape(label)} left and right">'
        f"{''.join(rows)}</svg></figure>"
    )


def reading(run: RunData) -> list[str]:
    """A few plain sentences a runner understands, from the summary and the alerts."""
    s = run.summary
    out: list[str] = []
    if not s.get("running_strides"):
        return ["No running strides were found in this recording (walking, standing, or a sensor problem)."]
    minutes = s.get("duration_s", 0) / 60
    out.append(f"You ran for {minutes:.1f} minutes: {s['running_strides']} strides.")
    if "cadence_spm_median" in s:
        out.append(f"Your cadence was {s['cadence_spm_median']:.0f} steps per minute.")
    first, last = s.get("gct_ms_first_median"), s.get("gct_ms_last_median")
    if first and last:
        change = (last / first - 1) * 100
        trend = "longer" if change > 0 else "shorter"
        verdict = " — a sign of tiring legs." if change > 5 else "."
        out.append(
            f"Your ground contacts were {abs(change):.0f}% {trend} at the end than at the start{verdict}"
        )
    lean_first, lean_last = s.get("trunk_lean_deg_first_median"), s.get("trunk_lean_deg_last_median")
    if lean_first is not None and lean_last is not None and abs(lean_last - lean_first) >= 2:
        way = "more" if lean_last > lean_first else "less"
        out.append(
            f"You leaned {abs(lean_last - lean_first):.0f}° {way} forward at the end than at the start."
        )
    raised = [a for a in run.alerts if a.state == "raised"]
    if raised:
        kinds = sorted({a.kind.replace("_", " ") for a in raised})
        out.append(f"{len(raised)} alert{'s' if len(raised) > 1 else ''} during the run: {', '.join(kinds)}.")
    else:
        out.append(_no_alerts(run.baseline))
    if run.baseline is not None:
        out.append(f"Alerts: {run.baseline.describe()}.")
    return out


def _no_alerts(baseline: BaselineState | None) -> str:
    """What no alert means: against the runner's own baseline only if one was known."""
    if baseline is not None and baseline.known:
        return "No alerts: your form held up against your own baseline."
    return "No alerts: your form stayed within the absolute limits (no personal baseline to compare with)."


def _summary_table(summary: dict[str, Any]) -> str:
    """Median, spread and first/last parts per metric."""
    rows = []
    for name, label, unit in SERIES:
        if f"{name}_median" not in summary:
            continue
        cells = [summary.get(f"{name}_{k}") for k in ("median", "iqr", "first_median", "last_median")]
        text = "".join(f"<td>{'' if c is None else f'{c:.4g}'}</td>" for c in cells)
        rows.append(f"<tr><th>{html.escape(label)} ({html.escape(unit)})</th>{text}</tr>")
    head = "<tr><th>metric</th><th>median</th><th>IQR</th><th>first part</th><th>last part</th></tr>"
    return f'<table class="summary">{head}{"".join(rows)}</table>'


STYLE = """
body{font-family:system-ui,sans-serif;max-width:820px;margin:2em auto;color:#222}
h1{font-size:1.6em}figure{margin:1em 0}figcaption{font-weight:600;margin-bottom:.3em}
svg{width:100%;height:auto;background:#fff}svg text{font-size:11px;fill:#555}
.plot{fill:#f7f9fb;stroke:#ccd}.series{fill:none;stroke:#1f6fb2;stroke-width:1.6}
.alert{stroke:#d33;stroke-width:2;stroke-dasharray:4 3}.whisker{stroke:#888;stroke-width:2}
.box.left{fill:#9cc3e6}.box.right{fill:#f2b880}.median{stroke:#222;stroke-width:2}
table{border-collapse:collapse}td,th{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:right}
th:first-child{text-align:left}.reading{background:#eef6ee;padding:1em 1.5em;border-radius:6px}
.missing{color:#888}ul.alerts li{margin:.2em 0}
"""


def render(run: RunData) -> str:
    """The whole page."""
    alerts = "".join(
        f"<li><b>{a.t_s / 60:.1f} min</b> {html.escape(a.message)}</li>"
        for a in run.alerts
        if a.state == "raised"
    )
    parts = [
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(run.title)}</title>",
        f"<style>{STYLE}</style></head><body><h1>{html.escape(run.title)}</h1>",
        '<section class="reading"><h2>Your run in brief</h2>',
        "".join(f"<p>{html.escape(p)}</p>" for p in reading(run)),
        "</section><h2>Alerts</h2>",
        f'<ul class="alerts">{alerts}</ul>' if alerts else "<p>None.</p>",
        "<h2>Over the run</h2><p>Red dashed lines: alerts.</p>",
        *(_series_svg(run.strides, run.alerts, *spec) for spec in SERIES),
        "<h2>Left and right</h2>",
        *(_sides_svg(run.strides, *spec) for spec in SIDES),
        "<h2>Fatigue trend and summary</h2>",
        _summary_table(run.summary),
        (
            f"<p><small>spinesense {__version__}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
            "A training aid, not a medical device.</small></p></body></html>"
        ),
    ]
    return "".join(parts)
