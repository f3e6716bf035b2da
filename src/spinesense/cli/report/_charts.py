"""The report's charts: matplotlib (Agg backend) drawn to SVG text for inlining, no scripts.

Every chart has time in minutes on x with ticks and a grid, the metric and its unit on y, the raw strides
faint under a rolling median, the guide (baseline band, absolute limits) and the alert spans, labelled
where they were raised and cleared. Imported only when a report is written: matplotlib is slow to load.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from spinesense.cli.report._guides import Guide
    from spinesense.cli.report._speed import SpeedSchedule
    from spinesense.models import Alert, Stride

RAW, MEDIAN, LEFT, RIGHT, LIMIT, BAND, ALERT = (
    "#9db7d0",
    "#1f5f99",
    "#1f77b4",
    "#d9730d",
    "#c62828",
    "#2e7d32",
    "#f9a825",
)
SHORT = {"pelvic_drop_left": "left", "pelvic_drop_right": "right"}
"""Span labels on the pelvic drop chart, where the side is all that needs saying."""
ROLLING_STRIDES = 15
"""Strides in the rolling median (about 10 s of running)."""
STYLE: Any = {
    "font.size": 17,
    "axes.titlesize": 18,
    "axes.labelsize": 17,
    "xtick.labelsize": 17,
    "ytick.labelsize": 17,
    "legend.fontsize": 16,
    "svg.fonttype": "none",
    "axes.grid": True,
    "grid.color": "#dddddd",
    "axes.spines.top": False,
    "axes.spines.right": False,
}
"""Large type (the charts shrink to a phone's width) and text kept as text (searchable, crisp)."""


@dataclass(frozen=True, slots=True)
class Span:
    """One alert episode on the time axis: raised at ``start_s``, cleared at ``end_s`` (None: never)."""

    kind: str
    start_s: float
    end_s: float | None


def spans(alerts: Sequence[Alert]) -> list[Span]:
    """Pair each raised alert with its clearing (the next "cleared" of the same kind)."""
    found: list[Span] = []
    open_at: dict[str, float] = {}
    for alert in alerts:
        if alert.state == "raised":
            open_at[alert.kind] = alert.t_s
        elif alert.kind in open_at:
            found.append(Span(alert.kind, open_at.pop(alert.kind), alert.t_s))
    found.extend(Span(kind, start, None) for kind, start in open_at.items())
    return sorted(found, key=lambda s: s.start_s)


def rolling_median(values: np.ndarray, size: int = ROLLING_STRIDES) -> np.ndarray:
    """The centred rolling median over ``size`` strides (shorter at the ends)."""
    half = size // 2
    return np.array([np.median(values[max(i - half, 0) : i + half + 1]) for i in range(values.size)])


def series(strides: Sequence[Stride], name: str) -> tuple[np.ndarray, np.ndarray]:
    """Minutes and values of a metric over the running strides where it exists."""
    pairs = [(s.t_start_s / 60, v) for s in strides if s.running and (v := getattr(s, name)) is not None]
    if not pairs:
        return np.empty(0), np.empty(0)
    t, v = np.array(pairs, dtype=float).T
    return t, v


def _figure(height: float = 4.8) -> tuple[Figure, Axes]:
    """A figure sized for a phone's width, styled for reading."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.6, height), layout="constrained")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True, min_n_ticks=3))
    ax.set_xlabel("time (min)")
    return fig, ax


def _svg(fig: Figure, salt: str) -> str:
    """The figure as an inline ``<svg>`` element (no XML prolog), with ids unique to this chart."""
    buffer = io.StringIO()
    with plt.rc_context({**STYLE, "svg.hashsalt": salt}):
        fig.savefig(
            buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None}
        )
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _guide(ax: Axes, guide: Guide, unit: str, name: str, colour: str = BAND, *, limits: bool = True) -> None:
    """The baseline band and line, and the absolute limits, with their labels (ids name the chart)."""
    if guide.band is not None and guide.baseline is not None:
        ax.axhspan(
            *guide.band, color=colour, alpha=0.12, label="your baseline band", gid=f"baseline-band-{name}"
        )
        ax.axhline(
            guide.baseline, color=colour, lw=1.2, ls=":", label=f"baseline {guide.baseline:.3g} {unit}"
        )
    for value, side in guide.limits if limits else ():
        ax.axhline(
            value, color=LIMIT, lw=1.6, ls="--", label=f"limit: {side} {value:g} {unit}", gid=f"limit-{name}"
        )


def _spans(ax: Axes, found: Sequence[Span], end_min: float, name: str) -> None:
    """Alert episodes as shaded spans, labelled "<kind> raised" at the start and "cleared" at the end."""
    for span in found:
        start = span.start_s / 60
        stop = end_min if span.end_s is None else span.end_s / 60
        ax.axvspan(
            start, stop, color=ALERT, alpha=0.25, lw=0, gid=f"alert-{span.kind}-{name}-{span.start_s:.0f}"
        )
        words = SHORT.get(span.kind, span.kind.replace("_", " "))
        style: dict[str, Any] = {"fontsize": 14, "rotation": 90, "color": "#6d4700", "clip_on": True}
        axis = ax.get_xaxis_transform()
        ax.text(start, 0.98, f"{words} raised", ha="right", va="top", transform=axis, **style)
        if span.end_s is not None:
            ax.text(stop, 0.02, "cleared", ha="left", va="bottom", transform=axis, **style)


def _finish(ax: Axes, found: Sequence[Span], end_min: float, name: str) -> None:
    """Spans and legend, once the data has fixed the y range."""
    ax.set_xlim(left=0, right=end_min)
    _spans(ax, found, end_min, name)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncols=2, frameon=False)


def metric_chart(
    strides: Sequence[Stride], name: str, unit: str, guide: Guide, found: Sequence[Span]
) -> str | None:
    """One metric over the run (None: not measured in this run)."""
    t, v = series(strides, name)
    if t.size < 3:
        return None
    fig, ax = _figure()
    ax.plot(t, v, color=RAW, lw=0.8, alpha=0.6, label="each stride")
    ax.plot(t, rolling_median(v), color=MEDIAN, lw=2.4, label=f"median of {ROLLING_STRIDES} strides")
    _guide(ax, guide, unit, name)
    ax.set_ylabel(unit)
    _finish(ax, found, float(t.max()), name)
    return _svg(fig, name)


def sides_chart(strides: Sequence[Stride], guides: tuple[Guide, Guide], found: Sequence[Span]) -> str | None:
    """Pelvic drop during the left and the right foot's stance over the run, with the limits."""
    (tl, vl), (tr, vr) = series(strides, "pelvic_drop_left_deg"), series(strides, "pelvic_drop_right_deg")
    if tl.size < 3 or tr.size < 3:
        return None
    fig, ax = _figure()
    ax.plot(tl, vl, color=LEFT, lw=0.6, alpha=0.25)
    ax.plot(tr, vr, color=RIGHT, lw=0.6, alpha=0.25)
    ax.plot(tl, rolling_median(vl), color=LEFT, lw=2.4, label="left stance")
    ax.plot(tr, rolling_median(vr), color=RIGHT, lw=2.4, label="right stance")
    _guide(ax, guides[0], "°", "pelvic_drop_left", LEFT)
    _guide(ax, guides[1], "°", "pelvic_drop_right", RIGHT, limits=False)  # the same limit: drawn once
    ax.set_ylabel("°")
    _finish(ax, found, float(max(tl.max(), tr.max())), "pelvic_drop")
    return _svg(fig, "pelvic_drop")


def balance_chart(strides: Sequence[Stride], found: Sequence[Span]) -> str | None:
    """Left share (%) of contact time and of pelvic drop over the run: 50 % is even."""
    fig, ax = _figure()
    drawn = False
    for left, right, what, colour in (
        ("gct_left_ms", "gct_right_ms", "contact time", MEDIAN),
        ("pelvic_drop_left_deg", "pelvic_drop_right_deg", "pelvic drop", RIGHT),
    ):
        pairs = [
            (s.t_start_s / 60, 100 * a / (a + b))
            for s in strides
            if s.running and (a := getattr(s, left)) is not None and (b := getattr(s, right)) is not None
            if a + b > 0
        ]
        if len(pairs) >= 3:
            t, share = np.array(pairs).T
            ax.plot(t, rolling_median(share), color=colour, lw=2.4, label=f"{what}: left share")
            drawn = True
    if not drawn:
        plt.close(fig)
        return None
    ax.axhline(50, color="#444444", lw=1.2, ls=":", label="50 % = even")
    ax.set_ylabel("%")
    low, high = ax.get_ylim()
    ax.set_ylim(min(low, 45), max(high, 55))
    _finish(ax, found, max(s.t_start_s for s in strides) / 60, "balance")
    return _svg(fig, "balance")


def speed_chart(speed: SpeedSchedule, end_s: float) -> str:
    """The speed over the run, as given (a treadmill's settings)."""
    fig, ax = _figure(height=2.8)
    for start, stop, mps in speed.segments(end_s):
        ax.plot([start / 60, stop / 60], [mps, mps], color=MEDIAN, lw=3)
    ax.set_ylabel("speed (m/s)")
    ax.set_xlim(left=0, right=end_s / 60)
    low, high = min(m for _, m in speed.steps), max(m for _, m in speed.steps)
    ax.set_ylim(low - 0.5, high + 0.5)
    return _svg(fig, "speed")
