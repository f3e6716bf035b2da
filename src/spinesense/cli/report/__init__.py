"""The post-run report: one self-contained HTML page (inline SVG charts, no scripts, no network).

The runner's reading in a few sentences, the alerts, each metric over the run against the baseline band
and the absolute limits, pelvic drop per side and the left/right balance, the speed when known, the run
against the last 4 weeks when a run store holds them, and the summary table. Charts come from matplotlib
and the page from a Jinja2 template; both load only when a report is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from spinesense import __version__
from spinesense.alerts import AlertConfig
from spinesense.cli.report._guides import ALERT_METRICS, guide
from spinesense.cli.report._speed import SpeedSchedule, like_for_like, pace

if TYPE_CHECKING:
    from spinesense.alerts import BaselineState
    from spinesense.cli.report._charts import Span
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
    ("braking_g", "Braking", "g"),
)
SPEED_SENSITIVE = "Contact time, lean and impact change with speed"


@dataclass(frozen=True)
class RunData:
    """What the report shows: the strides, the alert events, the session summary and the baseline."""

    title: str
    strides: list[Stride]
    alerts: list[Alert]
    summary: dict[str, Any]
    baseline: BaselineState | None = None
    """The baseline at the end of the run (None: not known to the caller; no claim is made)."""
    start_utc: dt.datetime | None = None
    """When the run began (a capture's header); None: the recording does not say."""
    speed: SpeedSchedule | None = None
    """The speed when known (a treadmill's settings); None: unknown, so no change is put down to it."""
    config: AlertConfig = field(default_factory=AlertConfig.default)
    """The alert thresholds the run was judged by: the charts' limits and baseline bands."""
    history: list[str] = field(default_factory=list)
    """"This run against your last 4 weeks": sentences, or one saying why there are none."""

    @property
    def baseline_values(self) -> dict[str, float] | None:
        """The baseline medians when known (None: not known, so no band is drawn and no claim is made)."""
        return None if self.baseline is None else self.baseline.values


def _change(run: RunData, name: str, what: str, unit: str, *, relative: bool) -> str | None:
    """Start against end for one metric, like for like: within one speed, or said not to be comparable."""
    found = like_for_like(run.strides, name, run.speed)
    if found is None:
        return None
    at = "" if found.speed_mps is None else f" (both at {found.speed_mps:g} m/s)"
    if relative:
        change = (found.last / found.first - 1) * 100
        if abs(change) < 2:
            return f"Your {what} held steady from start to end{at}."
        way = "longer" if change > 0 else "shorter"
        tired = " — a sign of tiring legs." if change > 5 else "."
        return f"Your {what} were {abs(change):.0f}% {way} at the end than at the start{at}{tired}"
    delta = found.last - found.first
    if abs(delta) < 2:
        return None
    way = "more" if delta > 0 else "less"
    return f"You leaned {abs(delta):.0f}{unit} {way} {what} at the end than at the start{at}."


def _speed_sentences(run: RunData) -> list[str]:
    """The speed, and what it means for the start-to-end comparison."""
    if run.speed is None:
        return [
            (
                f"Speed unknown: {SPEED_SENSITIVE}, so if your pace changed, the start-to-end "
                "differences may come from the pace rather than from tiring (give it with --speed)."
            )
        ]
    speeds = sorted({mps for _, mps in run.speed.steps})
    if len(speeds) == 1:
        return [f"Speed {speeds[0]:g} m/s ({pace(speeds[0])}) all the way."]
    text = f"Your speed changed ({', '.join(f'{s:g}' for s in speeds)} m/s): {SPEED_SENSITIVE}, "
    ends = run.speed.steps[-1][1]
    if sum(mps == ends for _, mps in run.speed.steps) < 2:
        return [
            text + "and the end was not run at a speed you ran earlier, so start and end are not compared."
        ]
    return [text + f"so start and end are compared only at {ends:g} m/s."]


def reading(run: RunData) -> list[str]:
    """A few plain sentences a runner understands, from the summary, the speed and the alerts."""
    s = run.summary
    if not s.get("running_strides"):
        return ["No running strides were found in this recording (walking, standing, or a sensor problem)."]
    out = [f"You ran for {s.get('duration_s', 0) / 60:.1f} minutes: {s['running_strides']} strides."]
    if "cadence_spm_median" in s:
        out.append(f"Your cadence was {s['cadence_spm_median']:.0f} steps per minute.")
    out.extend(_speed_sentences(run))
    changes = (
        _change(run, "gct_ms", "ground contacts", "ms", relative=True),
        _change(run, "trunk_lean_deg", "forward", "°", relative=False),
    )
    out.extend(sentence for sentence in changes if sentence)
    raised = [a for a in run.alerts if a.state == "raised"]
    if raised:
        kinds = sorted({a.kind.replace("_", " ") for a in raised})
        out.append(f"{len(raised)} alert{'s' if len(raised) > 1 else ''} during the run: {', '.join(kinds)}.")
    else:
        out.append(_no_alerts(run.baseline_values is not None))
    if run.baseline is not None:
        out.append(f"Alerts: {run.baseline.describe()}.")
    return out


def _no_alerts(baseline_known: bool) -> str:
    """What no alert means: against the runner's own baseline only if one was known."""
    if baseline_known:
        return "No alerts: your form held up against your own baseline."
    return "No alerts: your form stayed within the absolute limits (no personal baseline to compare with)."


def _summary_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Median, spread and first/last parts per metric, formatted."""
    rows = []
    for name, label, unit in SERIES:
        if f"{name}_median" not in summary:
            continue
        cells = [summary.get(f"{name}_{k}") for k in ("median", "iqr", "first_median", "last_median")]
        rows.append({"label": f"{label} ({unit})", "cells": ["" if c is None else f"{c:.3g}" for c in cells]})
    return rows


def _on(found: list[Span], chart: str) -> list[Span]:
    """The alert spans drawn on ``chart``: its own rules' and the sensor's (which affect every chart)."""
    return [s for s in found if chart in ALERT_METRICS.get(s.kind, (chart,))]


def _all_charts(run: RunData) -> dict[str, Any]:
    """Every chart of the page as inline SVG (None where the metric was not measured)."""
    from spinesense.cli.report import _charts as charts  # noqa: PLC0415 - matplotlib only when drawing

    learned = run.baseline_values
    found = charts.spans(run.alerts)
    end_s = max((s.t_end_s for s in run.strides), default=0.0)
    sides = (
        guide("pelvic_drop_left_deg", run.config, learned),
        guide("pelvic_drop_right_deg", run.config, learned),
    )
    return {
        "series": [
            {
                "label": f"{label} ({unit})",
                "svg": charts.metric_chart(
                    run.strides, name, unit, guide(name, run.config, learned), _on(found, name)
                ),
            }
            for name, label, unit in SERIES
        ],
        "pelvic_drop": charts.sides_chart(run.strides, sides, _on(found, "pelvic_drop")),
        "balance": charts.balance_chart(run.strides, _on(found, "balance")),
        "speed": None if run.speed is None or not run.strides else charts.speed_chart(run.speed, end_s),
        "spans": found,
    }


def render(run: RunData) -> str:
    """The whole page."""
    import jinja2  # noqa: PLC0415 - only the report command renders pages

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("spinesense.cli.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("report.html.j2").render(
        run=run,
        reading=reading(run),
        charts=_all_charts(run),
        summary=_summary_rows(run.summary),
        baseline_known=run.baseline_values is not None,
        date=None if run.start_utc is None else run.start_utc.strftime("%A %d %B %Y, %H:%M UTC"),
        made=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
    )
