"""This run against your last 4 weeks: the run's medians against the runner's stored runs, and the load.

The run store (``spinesense.store``) is optional here: where it is not installed or holds no earlier run,
the section is one sentence saying why it is empty, never a comparison made up from nothing.
"""

from __future__ import annotations

import datetime as dt
import importlib
import statistics
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spinesense.config import Config

WINDOW = dt.timedelta(days=28)
COMPARED: tuple[tuple[str, str, str], ...] = (
    ("cadence_spm", "cadence", "steps/min"),
    ("trunk_lean_deg", "trunk lean", "°"),
    ("vgrf_peak_bw", "peak vertical force", "BW"),
    ("pelvic_drop_left_deg", "pelvic drop (left stance)", "°"),
    ("pelvic_drop_right_deg", "pelvic drop (right stance)", "°"),
)


def last_four_weeks(config: Config, start_utc: dt.datetime | None, summary: dict[str, Any]) -> list[str]:
    """Sentences comparing this run with the runner's runs of the 28 days before it."""
    if start_utc is None:
        return ["Not compared with earlier runs: the recording does not say when it was made."]
    try:
        store_module = importlib.import_module("spinesense.store")
        load_module = importlib.import_module("spinesense.store.load")
    except ImportError:
        return ["Not compared with earlier runs: this installation has no run store."]
    try:
        with store_module.open_store(config) as store:
            runs = [
                r for r in store.runs(config.runner_id, since=start_utc - WINDOW) if r.start_utc < start_utc
            ]
    except store_module.StoreError as exc:
        return [f"Not compared with earlier runs: the run store cannot be read ({exc})."]
    if not runs:
        return ["No earlier runs in the last 4 weeks to compare with (runs are saved at their end)."]
    out = [
        f"Against your {len(runs)} run{'s' if len(runs) > 1 else ''} of the 4 weeks before (their median):"
    ]
    for name, label, unit in COMPARED:
        now = summary.get(f"{name}_median")
        before = [v for r in runs if (v := r.metric(name)) is not None]
        if now is not None and before:
            usual = statistics.median(before)
            out.append(f"{label}: {now:.3g} {unit} today, {usual:.3g} {unit} usually ({now - usual:+.2g}).")
    status = load_module.load_status(runs, start_utc.date())
    if status.acwr is not None:
        out.append(f"Training load before this run: acute:chronic ratio {status.acwr:.2f}.")
    out.extend(f"Load: {alert.message}." for alert in status.alerts)
    return out
