"""This run against your last 4 weeks: the run's medians against the runner's stored runs, and the load.

Read from the run store (docs/history.md). Where the store cannot be read or holds no earlier run, the
section is one sentence saying why it is empty, never a comparison made up from nothing.
"""

from __future__ import annotations

import datetime as dt
import statistics
from typing import TYPE_CHECKING, Any

from spinesense.store import StoreError, open_store
from spinesense.store.load import ACWR_LIMIT, CHRONIC_DAYS, load_status
from spinesense.store.session import STORE_FILE

if TYPE_CHECKING:
    from collections.abc import Sequence

    from spinesense.config import Config
    from spinesense.store import StoredRun

WINDOW = dt.timedelta(days=CHRONIC_DAYS)
COMPARED: tuple[tuple[str, str, str], ...] = (
    ("cadence_spm", "cadence", "steps/min"),
    ("trunk_lean_deg", "trunk lean", "°"),
    ("vgrf_peak_bw", "peak vertical force", "BW"),
    ("pelvic_drop_left_deg", "pelvic drop (left stance)", "°"),
    ("pelvic_drop_right_deg", "pelvic drop (right stance)", "°"),
)
"""Summary medians compared with the earlier runs: (metric, words, unit)."""


def _earlier_runs(config: Config, start_utc: dt.datetime) -> list[StoredRun] | str:
    """The runner's runs of the 4 weeks before ``start_utc``, or why there are none to read."""
    if config.store_url is None and not (config.data_dir / STORE_FILE).exists():
        return "Not compared with earlier runs: no run store yet (runs are saved at their end)."
    try:
        with open_store(config) as store:
            runs = store.runs(config.runner_id, since=start_utc - WINDOW)
    except StoreError as exc:
        return f"Not compared with earlier runs: the run store cannot be read ({exc})."
    return [r for r in runs if r.start_utc < start_utc]


def _medians(runs: Sequence[StoredRun], summary: dict[str, Any]) -> list[str]:
    """This run's medians against the median of the earlier runs', metric by metric."""
    out = []
    for name, label, unit in COMPARED:
        now = summary.get(f"{name}_median")
        before = [v for r in runs if (v := r.metric(name)) is not None]
        if now is not None and before:
            usual = statistics.median(before)
            out.append(f"{label}: {now:.3g} {unit} today, {usual:.3g} {unit} usually ({now - usual:+.2g}).")
    return out


def _load(runs: Sequence[StoredRun], day: dt.date) -> list[str]:
    """The training load of the days before this run: volume, change, acute:chronic ratio, alerts."""
    status = load_status(runs, day)  # the earlier runs only: this one is not among them
    week = status.acute
    out = [
        (
            f"Load of the 7 days up to this run: {week.runs} run{'s' if week.runs != 1 else ''}, "
            f"{week.running_s / 60:.0f} min of running, {week.steps} steps, impact load "
            f"{week.impact_load_bw:,.0f} BW."
        )
    ]
    if status.weekly_change is not None:
        out.append(f"That is {status.weekly_change:+.0%} on the 7 days before it.")
    if status.acwr is None:
        out.append(
            f"Acute:chronic load ratio: needs {CHRONIC_DAYS} days of history ({status.history_days} so far)."
        )
    else:
        out.append(f"Acute:chronic load ratio {status.acwr:.2f} (above {ACWR_LIMIT} is a fast rise).")
    out.extend(f"Load alert: {alert.message}." for alert in status.alerts)
    return out


def last_four_weeks(config: Config, start_utc: dt.datetime | None, summary: dict[str, Any]) -> list[str]:
    """Sentences comparing this run with the runner's runs of the 28 days before it, and the load."""
    if start_utc is None:
        return ["Not compared with earlier runs: the recording does not say when it was made."]
    runs = _earlier_runs(config, start_utc)
    if isinstance(runs, str):
        return [runs]
    if not runs:
        return ["No earlier runs in the last 4 weeks to compare with (runs are saved at their end)."]
    plural = "s" if len(runs) > 1 else ""
    return [
        f"Against your {len(runs)} run{plural} of the 4 weeks before (their median; speeds may differ):",
        *_medians(runs, summary),
        *_load(runs, start_utc.date()),
    ]
