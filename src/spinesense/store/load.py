"""Training load: per run and per week, the acute:chronic workload ratio and the alerts on a fast rise.

The load of a run is its cumulative impact load: the sum over steps of the estimated peak vertical ground
reaction force in body weights (docs/history.md). Days are UTC calendar days, weeks start on Monday.
ACWR is the rolling-average variant of Gabbett (2016): mean daily load of the last 7 days over the mean
daily load of the last 28 days (the acute week inside the chronic window: "coupled"), given only once 28
days of history exist; the weekly change only once the 7 days before lie wholly within the history (14
days), since days before the first stored run are unknown, not empty. Alerts: ACWR above ``ACWR_LIMIT``,
or the last 7 days' load more than ``WEEKLY_RISE_LIMIT`` above the 7 days before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from spinesense.store._records import StoredRun

ACUTE_DAYS = 7
CHRONIC_DAYS = 28
ACWR_LIMIT = 1.5
"""Gabbett (2016): injury likelihood rose steeply above an ACWR of about 1.5 (the "danger zone")."""
WEEKLY_RISE_LIMIT = 0.30
"""Nielsen et al. (2014): novice runners who raised weekly distance by more than 30 % had more injuries."""


@dataclass(frozen=True, slots=True)
class Totals:
    """The volume of a set of runs."""

    runs: int = 0
    running_s: float = 0.0
    steps: int = 0
    impact_load_bw: float = 0.0
    distance_km: float = 0.0

    @classmethod
    def of(cls, runs: Sequence[StoredRun]) -> Totals:
        """Totals of ``runs`` (runs without a distance add none)."""
        return cls(
            runs=len(runs),
            running_s=round(sum(r.figures.running_s for r in runs), 1),
            steps=sum(r.figures.steps for r in runs),
            impact_load_bw=round(sum(r.figures.impact_load_bw for r in runs), 1),
            distance_km=round(sum(r.distance_km or 0.0 for r in runs), 3),
        )


@dataclass(frozen=True, slots=True)
class Week:
    """One calendar week (Monday first) and its change of load against the week before."""

    start: dt.date
    totals: Totals
    change: float | None
    """Impact load against the previous week, as a fraction (0.25: 25 % more); None after an empty week."""


@dataclass(frozen=True, slots=True)
class LoadAlert:
    """Load rising faster than the documented limit."""

    kind: str
    """"acwr_high" or "weekly_rise"."""
    severity: str
    message: str
    values: dict[str, float]


@dataclass(frozen=True, slots=True)
class LoadStatus:
    """The training load on ``day``: the last 7 days, the 7 before, ACWR and the alerts."""

    day: dt.date
    acute: Totals
    previous: Totals
    history_days: int
    """Days from the first stored run to ``day`` (ACWR needs CHRONIC_DAYS)."""
    acwr: float | None
    weekly_change: float | None
    alerts: list[LoadAlert] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """Plain JSON values, as published on ``spinesense/v1/<runner>/load`` (docs/schemas/)."""
        return {
            "day": self.day.isoformat(),
            "last_7_days": asdict(self.acute),
            "previous_7_days": asdict(self.previous),
            "history_days": self.history_days,
            "acwr": self.acwr,
            "acwr_method": "rolling average 7 d / 28 d, coupled (Gabbett 2016)",
            "weekly_change": self.weekly_change,
            "alerts": [asdict(a) for a in self.alerts],
        }


def _between(runs: Sequence[StoredRun], first: dt.date, last: dt.date) -> list[StoredRun]:
    """The runs whose UTC start day lies in ``first``..``last`` (inclusive)."""
    return [r for r in runs if first <= r.start_utc.date() <= last]


def _ratio(value: float, reference: float) -> float | None:
    """``value / reference`` rounded, None when the reference is zero."""
    return None if reference <= 0 else round(value / reference, 3)


def load_status(runs: Sequence[StoredRun], day: dt.date) -> LoadStatus:
    """The load on ``day`` from a runner's stored runs (those after ``day`` are ignored)."""
    acute = Totals.of(_between(runs, day - dt.timedelta(days=ACUTE_DAYS - 1), day))
    previous = Totals.of(
        _between(runs, day - dt.timedelta(days=2 * ACUTE_DAYS - 1), day - dt.timedelta(days=ACUTE_DAYS))
    )
    chronic = Totals.of(_between(runs, day - dt.timedelta(days=CHRONIC_DAYS - 1), day))
    past = [r.start_utc.date() for r in runs if r.start_utc.date() <= day]
    history_days = (day - min(past)).days + 1 if past else 0
    acwr = None
    if history_days >= CHRONIC_DAYS:
        acwr = _ratio(acute.impact_load_bw / ACUTE_DAYS, chronic.impact_load_bw / CHRONIC_DAYS)
    # A previous week that began before the first stored run is partly unknown: no change against it.
    change = _ratio(acute.impact_load_bw, previous.impact_load_bw) if history_days >= 2 * ACUTE_DAYS else None
    weekly_change = None if change is None else round(change - 1.0, 3)
    return LoadStatus(day, acute, previous, history_days, acwr, weekly_change, _alerts(acwr, weekly_change))


def _alerts(acwr: float | None, weekly_change: float | None) -> list[LoadAlert]:
    """The load alerts for these ratios."""
    found = []
    if acwr is not None and acwr > ACWR_LIMIT:
        found.append(
            LoadAlert(
                "acwr_high",
                "warning",
                f"load rising fast: the last 7 days are {acwr:.2f} times your 4-week average "
                f"(limit {ACWR_LIMIT}): an easier week lowers the injury risk",
                {"acwr": acwr, "limit": ACWR_LIMIT},
            )
        )
    if weekly_change is not None and weekly_change > WEEKLY_RISE_LIMIT:
        found.append(
            LoadAlert(
                "weekly_rise",
                "warning",
                f"load up {weekly_change:.0%} on the 7 days before (limit {WEEKLY_RISE_LIMIT:.0%}): "
                "build up more slowly",
                {"weekly_change": weekly_change, "limit": WEEKLY_RISE_LIMIT},
            )
        )
    return found


def weeks(runs: Sequence[StoredRun]) -> list[Week]:
    """Calendar weeks (Monday first) from the first run's to the last run's, empty weeks included."""
    if not runs:
        return []
    days = [r.start_utc.date() for r in runs]
    start = min(days) - dt.timedelta(days=min(days).weekday())
    found: list[Week] = []
    previous: Totals | None = None
    while start <= max(days):
        totals = Totals.of(_between(runs, start, start + dt.timedelta(days=6)))
        change = None if previous is None else _ratio(totals.impact_load_bw, previous.impact_load_bw)
        found.append(Week(start, totals, None if change is None else round(change - 1.0, 3)))
        previous = totals
        start += dt.timedelta(days=7)
    return found
