"""The run store: saves a finished session in one transaction and reads runs, strides and alerts back."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, Self

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from spinesense.models import STRIDE_METRICS as METRICS
from spinesense.models import Alert, Stride
from spinesense.store._engine import create_engine, migrate
from spinesense.store._records import RunFigures, SaveResult, StoredRun
from spinesense.store._schema import alerts, runs, shoes, strides
from spinesense.store._shoes import ShoeRack
from spinesense.utc import as_utc

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence
    from types import TracebackType

    from spinesense.store._records import NewRun

KEY_METRICS = (
    "cadence_spm_median",
    "trunk_lean_deg_median",
    "pelvic_drop_left_deg_median",
    "pelvic_drop_right_deg_median",
    "vgrf_peak_bw_median",
)
"""Summary values kept as columns too, so a team server can query them without parsing JSON."""
_STRIDE_FIELDS = tuple(f.name for f in fields(Stride))
_RUNS = sa.select(runs, shoes.c.name.label("shoe_name")).outerjoin(shoes, runs.c.shoe_id == shoes.c.id)
"""Runs with the name of their shoes."""


def _stride_row(run_id: int, stride: Stride) -> dict[str, Any]:
    """A stride as a row of the strides table."""
    row: dict[str, Any] = {name: getattr(stride, name) for name in METRICS}
    return {
        **row,
        "run_id": run_id,
        "idx": stride.index,
        "t_start_s": stride.t_start_s,
        "t_end_s": stride.t_end_s,
        "side": stride.side,
        "running": stride.running,
        "quality": stride.quality,
        "flags": ",".join(stride.flags),
    }


def _alert_row(run_id: int, seq: int, alert: Alert) -> dict[str, Any]:
    """An alert event as a row of the alerts table."""
    return {
        "run_id": run_id,
        "seq": seq,
        "kind": alert.kind,
        "severity": alert.severity,
        "state": alert.state,
        "message": alert.message,
        "values": dict(alert.values),
        "first_stride": alert.first_stride,
        "last_stride": alert.last_stride,
        "t_s": alert.t_s,
    }


class RunStore:
    """Runs, strides, alerts and shoes in one database; use as ``with RunStore(url) as store``."""

    def __init__(self, url: str) -> None:
        """Connect to ``url`` and migrate its schema to this version (StoreError when it cannot)."""
        self.engine = create_engine(url)
        migrate(self.engine)
        self.shoes = ShoeRack(self.engine)

    def __enter__(self) -> Self:
        """The store, for a ``with`` block that closes its connections."""
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def save(self, run: NewRun) -> SaveResult:
        """Save a run with its strides and alerts in one transaction, tagged with the shoes in use.

        The same capture saved again (same runner and content hash) is not stored twice: the result
        names the run already there.
        """
        existing = self._find(run.runner, run.capture_hash)
        if existing is not None:
            return SaveResult(existing, created=False)
        figures = RunFigures.of(run.strides)
        try:
            with self.engine.begin() as connection:
                shoe = self.shoes.in_use_id(connection, run.runner)
                inserted = connection.execute(
                    runs.insert().values(
                        runner=run.runner,
                        start_utc=run.start_utc,
                        duration_s=float(run.summary.get("duration_s", 0.0)),
                        running_s=figures.running_s,
                        steps=figures.steps,
                        impact_load_bw=figures.impact_load_bw,
                        sensor=run.sensor,
                        source=run.source,
                        shoe_id=shoe,
                        distance_km=run.distance_km,
                        distance_source=run.distance_source,
                        capture_path=run.capture_path,
                        capture_hash=run.capture_hash,
                        alerts_raised=sum(a.state == "raised" for a in run.alerts),
                        summary=run.summary,
                        **{key: run.summary.get(key) for key in KEY_METRICS},
                    )
                ).inserted_primary_key
                run_id = int(inserted[0]) if inserted is not None else 0
                if run.strides:
                    connection.execute(strides.insert(), [_stride_row(run_id, s) for s in run.strides])
                if run.alerts:
                    connection.execute(
                        alerts.insert(), [_alert_row(run_id, n, a) for n, a in enumerate(run.alerts)]
                    )
        except IntegrityError:  # saved by another process between the check and the insert
            existing = self._find(run.runner, run.capture_hash)
            if existing is None:
                raise
            return SaveResult(existing, created=False)
        return SaveResult(run_id, created=True)

    def _find(self, runner: str, capture_hash: str) -> int | None:
        """The id of the run saved from this capture, if any."""
        query = sa.select(runs.c.id).where(runs.c.runner == runner, runs.c.capture_hash == capture_hash)
        with self.engine.connect() as connection:
            found = connection.execute(query).scalar()
        return None if found is None else int(found)

    def _fetch(self, query: sa.Select[Any]) -> Sequence[sa.RowMapping]:
        """Every row of ``query``, by column name."""
        with self.engine.connect() as connection:
            return connection.execute(query).mappings().all()

    def runs(self, runner: str, since: dt.datetime | None = None) -> list[StoredRun]:
        """A runner's runs from ``since`` on (all when None), oldest first."""
        query = _RUNS.where(runs.c.runner == runner).order_by(runs.c.start_utc, runs.c.id)
        if since is not None:
            query = query.where(runs.c.start_utc >= since)
        return [self._stored(row) for row in self._fetch(query)]

    def run(self, run_id: int) -> StoredRun | None:
        """One run by id."""
        found = self._fetch(_RUNS.where(runs.c.id == run_id))
        return self._stored(found[0]) if found else None

    @staticmethod
    def _stored(row: sa.RowMapping) -> StoredRun:
        """A runs row as a StoredRun."""
        return StoredRun(
            id=row["id"],
            runner=row["runner"],
            start_utc=as_utc(row["start_utc"]),  # SQLite hands back naive values
            duration_s=row["duration_s"],
            figures=RunFigures(row["running_s"], row["steps"], row["impact_load_bw"]),
            sensor=row["sensor"],
            source=row["source"],
            shoes=row["shoe_name"],
            distance_km=row["distance_km"],
            distance_source=row["distance_source"],
            capture_path=row["capture_path"],
            alerts_raised=row["alerts_raised"],
            summary=dict(row["summary"]),
        )

    def strides(self, run_id: int) -> list[Stride]:
        """A run's strides, in order, as they were saved."""
        rows = self._fetch(sa.select(strides).where(strides.c.run_id == run_id).order_by(strides.c.idx))
        return [
            Stride(
                **{name: row[name] for name in _STRIDE_FIELDS if name not in {"index", "flags"}},
                index=row["idx"],
                flags=tuple(filter(None, row["flags"].split(","))),
            )
            for row in rows
        ]

    def alerts(self, run_id: int) -> list[Alert]:
        """A run's alert events, in order."""
        rows = self._fetch(sa.select(alerts).where(alerts.c.run_id == run_id).order_by(alerts.c.seq))
        return [
            Alert(
                kind=r["kind"],
                severity=r["severity"],
                state=r["state"],
                message=r["message"],
                values=dict(r["values"]),
                first_stride=r["first_stride"],
                last_stride=r["last_stride"],
                t_s=r["t_s"],
            )
            for r in rows
        ]
