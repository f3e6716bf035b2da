"""The alert engine: baseline, rolling medians and each rule's episode state (raise, clear, cool down)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from spinesense.alerts._rolling import RollingMedians
from spinesense.alerts.baseline import BaselineState
from spinesense.alerts.rules import ALERT_KINDS, RECOVERED, SENSOR_KINDS, STRIDE_RULES, Finding
from spinesense.errors import ConfigError
from spinesense.models import STRIDE_METRICS, Alert

if TYPE_CHECKING:
    from spinesense.alerts.config import AlertConfig
    from spinesense.models import Gap, Stride

LOST_WINDOW_S = 60.0
"""Sensor trouble looks at the samples lost over the last minute."""


@dataclass(frozen=True, slots=True)
class RunnerProfile:
    """What we know about the runner before the run: body mass, and a baseline from earlier runs."""

    body_mass_kg: float | None = None
    baseline: dict[str, float] | None = None
    """Per-metric baseline (metric name -> value); when given, no baseline is learned."""


def check_baseline(table: object) -> dict[str, float]:
    """A profile baseline (metric = number) from configuration; ConfigError names a bad entry."""
    if not isinstance(table, dict):
        raise ConfigError("runner.baseline", "must be a table of metric = number")
    for key, value in table.items():
        if key not in STRIDE_METRICS:
            raise ConfigError(
                f"runner.baseline.{key}", f"unknown metric (known: {', '.join(STRIDE_METRICS)})"
            )
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"runner.baseline.{key}", f"must be a number, got {value!r}")
    return {key: float(value) for key, value in table.items()}


@dataclass(slots=True)
class _Episode:
    """One rule's state."""

    active: Alert | None = None
    quiet_until_s: float = -np.inf


@dataclass(slots=True)
class _Baseline:
    """Collects running strides after the warm-up and fixes the per-metric medians once enough came."""

    start_s: float | None = None
    latest_s: float | None = None
    """Start of the latest running stride: how far the learning has got."""
    values: dict[str, list[float]] = field(default_factory=dict)
    medians: dict[str, float] | None = None
    from_profile: bool = False


class AlertEngine:
    """Turns strides (and sensor events) into alert events, at most one per episode per rule."""

    def __init__(self, config: AlertConfig, profile: RunnerProfile | None = None) -> None:
        """Start judging a run; a profile baseline replaces learning one."""
        self.config = config
        self._taken = 0
        """Running strides taken in (the first ``hold_strides`` only fill the windows)."""
        sizes = {int(r.values.get("window_strides", config.hold_strides)) for r in config.rules.values()}
        self._rolling = {size: RollingMedians(size) for size in sizes}
        given = dict(profile.baseline) if profile and profile.baseline else None
        self._baseline = _Baseline(medians=given, from_profile=given is not None)
        self._episodes = {kind: _Episode() for kind in ALERT_KINDS}
        self._lost: deque[tuple[float, int, float]] = deque()

    @property
    def baseline(self) -> dict[str, float] | None:
        """The runner's baseline medians, once known."""
        return self._baseline.medians

    def baseline_state(self) -> BaselineState:
        """Whether the baseline is known (learned or from the profile) or how far its learning has got."""
        needed = self.config.warmup_s + self.config.baseline_s
        base = self._baseline
        running = 0.0 if base.start_s is None or base.latest_s is None else base.latest_s - base.start_s
        if base.from_profile:
            return BaselineState("profile", running, 0.0, base.medians)
        if base.medians is not None:
            return BaselineState("learned", running, needed, base.medians)
        return BaselineState("learning", running, needed)

    def active(self) -> list[Alert]:
        """The alerts raised and not yet cleared."""
        return [e.active for e in self._episodes.values() if e.active is not None]

    def on_stride(self, stride: Stride) -> list[Alert]:
        """Take one stride; return alerts raised or cleared by it.

        Absolute limits judge from the first running stride; the rules relative to the baseline only
        once it is known (from the profile, or learned after the warm-up).
        """
        events = self._judge_lost(stride.t_end_s) if self._episodes["many_gaps"].active else []
        if not stride.running or stride.quality < self.config.min_quality:
            return events
        self._learn(stride)
        self._taken += 1
        for rolling in self._rolling.values():
            rolling.feed(stride)
        if self._taken < self.config.hold_strides:
            return events
        baseline = self._baseline.medians or {}
        medians: dict[int, dict[str, float]] = {}
        for kind, (table, rule) in STRIDE_RULES.items():
            config = self.config.rules[table]
            size = int(config.values.get("window_strides", self.config.hold_strides))
            if size not in medians:
                medians[size] = self._rolling[size].medians()
            finding = rule(medians[size], baseline, config)
            if finding is not None:
                events += self._judge(kind, finding, config["hysteresis"], stride, size=size)
        return events

    def on_gap(self, gap: Gap, t_s: float, rate_hz: float) -> list[Alert]:
        """Account samples lost before ``t_s``; too many over a minute is sensor trouble."""
        self._lost.append((t_s, gap.missing, rate_hz))
        return self._judge_lost(t_s)

    def _judge_lost(self, t_s: float) -> list[Alert]:
        """Judge the share of samples lost over the minute before ``t_s`` (clears once data flows)."""
        while self._lost and self._lost[0][0] < t_s - LOST_WINDOW_S:
            self._lost.popleft()
        rate_hz = self._lost[-1][2] if self._lost else 1.0
        fraction = sum(n for _, n, _ in self._lost) / (LOST_WINDOW_S * rate_hz)
        limit = self.config.rules["sensor_trouble"]["max_lost_fraction"]
        finding = Finding(
            fraction - limit,
            f"The sensor lost {fraction * 100:.1f}% of its data in the last minute: check the clip and keep "
            "the phone on the same side",
            {"lost_fraction": fraction, "limit": limit},
        )
        return self._judge("many_gaps", finding, limit / 2, None, t_s)

    def on_signal(self, t_s: float, connected: bool) -> list[Alert]:
        """The sensor link went down (raise ``signal_lost``) or came back (clear it)."""
        finding = Finding(0.5 if not connected else -1.0, "Sensor signal lost: reconnecting", {})
        return self._judge("signal_lost", finding, 0.5, None, t_s, cooldown=False)

    def _learn(self, stride: Stride) -> None:
        """Collect baseline strides after the warm-up; fix the medians when the baseline window is over."""
        b = self._baseline
        if b.start_s is None:
            b.start_s = stride.t_start_s
        b.latest_s = stride.t_start_s
        if b.medians is not None:
            return
        elapsed = stride.t_start_s - b.start_s
        if elapsed < self.config.warmup_s:
            return
        if elapsed < self.config.warmup_s + self.config.baseline_s:
            for name in STRIDE_METRICS:
                value = getattr(stride, name)
                if value is not None:
                    b.values.setdefault(name, []).append(float(value))
            return
        b.medians = {k: float(np.median(v)) for k, v in b.values.items() if v}

    def _judge(
        self,
        kind: str,
        finding: Finding,
        hysteresis: float,
        stride: Stride | None,
        t_s: float | None = None,
        *,
        cooldown: bool = True,
        size: int = 0,
    ) -> list[Alert]:
        """Raise when beyond the limit (and not cooling down), clear once back by the hysteresis."""
        episode = self._episodes[kind]
        now = stride.t_end_s if stride is not None else float(t_s or 0.0)
        first = self._rolling[size].oldest().index if stride is not None and size else -1
        last = stride.index if stride is not None else -1
        if episode.active is None and finding.excess > 0 and now >= episode.quiet_until_s:
            episode.active = Alert(
                kind, _severity(kind), "raised", finding.message, finding.values, first, last, now
            )
            return [episode.active]
        if episode.active is not None and finding.excess < -hysteresis:
            raised = episode.active
            episode.active = None
            episode.quiet_until_s = now + (self.config.cooldown_s if cooldown else 0.0)
            return [
                Alert(
                    kind,
                    raised.severity,
                    "cleared",
                    RECOVERED[kind],
                    finding.values,
                    raised.first_stride,
                    last,
                    now,
                )
            ]
        return []


def _severity(kind: str) -> str:
    """Sensor trouble is information; form alerts are warnings."""
    return "info" if kind in SENSOR_KINDS else "warning"
