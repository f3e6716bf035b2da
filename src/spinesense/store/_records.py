"""What the store keeps of a run, and the plain per-run figures the training load is built from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

    from spinesense.models import Alert, Stride

STEPS_PER_STRIDE = 2


@dataclass(frozen=True, slots=True)
class RunFigures:
    """The volume of one run: time spent running, steps, and the cumulative impact load."""

    running_s: float
    """Seconds of strides classified as running."""
    steps: int
    """Foot contacts (two per stride, walking included)."""
    impact_load_bw: float
    """Sum over steps of the step's estimated peak vertical ground reaction force, in body weights."""

    @classmethod
    def of(cls, strides: Sequence[Stride]) -> RunFigures:
        """Figures of a run's strides; a stride's peak force stands for both of its steps."""
        return cls(
            running_s=sum(s.t_end_s - s.t_start_s for s in strides if s.running),
            steps=STEPS_PER_STRIDE * len(strides),
            impact_load_bw=STEPS_PER_STRIDE * sum(s.vgrf_peak_bw for s in strides if s.vgrf_peak_bw),
        )


@dataclass(frozen=True, slots=True)
class NewRun:
    """A finished session, as handed to the store."""

    runner: str
    start_utc: dt.datetime
    strides: Sequence[Stride]
    alerts: Sequence[Alert]
    summary: dict[str, Any]
    sensor: str
    source: str
    capture_hash: str
    """Content hash of the capture (or of the strides when none was written): saving twice is a no-op."""
    capture_path: str | None = None
    distance_km: float | None = None
    distance_source: str | None = None
    """"runner" (--distance-km), "watch" (a FIT/GPX/TCX file) or "estimate" (cadence x step length model)."""


@dataclass(frozen=True, slots=True)
class StoredRun:
    """One row of the runs table, with the name of its shoes."""

    id: int
    runner: str
    start_utc: dt.datetime
    duration_s: float
    figures: RunFigures
    sensor: str
    source: str
    shoes: str | None
    distance_km: float | None
    distance_source: str | None
    capture_path: str | None
    alerts_raised: int
    summary: dict[str, Any] = field(repr=False)

    def metric(self, name: str) -> float | None:
        """A summary value by key (``cadence_spm_median``) or by metric (``cadence_spm``: its median)."""
        value = self.summary.get(name, self.summary.get(f"{name}_median"))
        return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class SaveResult:
    """Where a run went: its id, and whether it was new (False: the same capture was already stored)."""

    run_id: int
    created: bool
