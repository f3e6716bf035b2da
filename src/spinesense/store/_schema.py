"""The run store's tables (SQLAlchemy Core) and the migrations that build them, one per schema version.

The same definitions serve SQLite and PostgreSQL. Times are timezone-aware UTC; a run's summary is kept
whole as JSON beside the key columns that ``history`` and the training load read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from spinesense.models import STRIDE_METRICS as METRICS

if TYPE_CHECKING:
    from collections.abc import Callable

metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_utc", sa.DateTime(timezone=True), nullable=False),
)

shoes = sa.Table(
    "shoes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("runner", sa.String(64), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("start_km", sa.Float, nullable=False, default=0.0),
    sa.Column("added_utc", sa.DateTime(timezone=True), nullable=False),
    sa.Column("retired_utc", sa.DateTime(timezone=True)),
    sa.Column("in_use", sa.Boolean, nullable=False, default=False),
    sa.UniqueConstraint("runner", "name", name="uq_shoes_runner_name"),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("runner", sa.String(64), nullable=False, index=True),
    sa.Column("start_utc", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("duration_s", sa.Float, nullable=False),
    sa.Column("running_s", sa.Float, nullable=False),
    sa.Column("steps", sa.Integer, nullable=False),
    sa.Column("impact_load_bw", sa.Float, nullable=False),
    sa.Column("sensor", sa.String(200), nullable=False),
    sa.Column("source", sa.String(500), nullable=False),
    sa.Column("shoe_id", sa.Integer, sa.ForeignKey("shoes.id")),
    sa.Column("distance_km", sa.Float),
    sa.Column("distance_source", sa.String(20)),
    sa.Column("capture_path", sa.String(1000)),
    sa.Column("capture_hash", sa.String(64), nullable=False),
    sa.Column("alerts_raised", sa.Integer, nullable=False),
    sa.Column("cadence_spm_median", sa.Float),
    sa.Column("trunk_lean_deg_median", sa.Float),
    sa.Column("pelvic_drop_left_deg_median", sa.Float),
    sa.Column("pelvic_drop_right_deg_median", sa.Float),
    sa.Column("vgrf_peak_bw_median", sa.Float),
    sa.Column("summary", sa.JSON, nullable=False),
    sa.UniqueConstraint("runner", "capture_hash", name="uq_runs_runner_capture"),
)

strides = sa.Table(
    "strides",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True),
    sa.Column("t_start_s", sa.Float, nullable=False),
    sa.Column("t_end_s", sa.Float, nullable=False),
    sa.Column("side", sa.String(8), nullable=False),
    sa.Column("running", sa.Boolean, nullable=False),
    sa.Column("quality", sa.Float, nullable=False),
    sa.Column("flags", sa.String(200), nullable=False),
    *(sa.Column(name, sa.Float) for name in METRICS),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("severity", sa.String(10), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("message", sa.String(500), nullable=False),
    sa.Column("values", sa.JSON, nullable=False),
    sa.Column("first_stride", sa.Integer, nullable=False),
    sa.Column("last_stride", sa.Integer, nullable=False),
    sa.Column("t_s", sa.Float, nullable=False),
)


def _v1(connection: sa.Connection) -> None:
    """Version 1: runs, their strides and alerts, and shoes."""
    metadata.create_all(connection, tables=[shoes, runs, strides, alerts])


MIGRATIONS: tuple[Callable[[sa.Connection], None], ...] = (_v1,)
"""Migration ``n`` (from 1) brings a store at version ``n - 1`` to version ``n``; append, never edit."""
SCHEMA_VERSION = len(MIGRATIONS)
