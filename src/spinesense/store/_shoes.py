"""Shoes: add, use, retire, list with their distance, and the impact-per-step trend on them (wear signal).

Most running shoes are replaced every 500-800 km; spinesense warns from ``WARN_KM`` and alerts at the
configured limit. Cushioning that wears shows as a slow rise of the peak force per step on the same shoes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from spinesense.store._schema import runs, shoes

if TYPE_CHECKING:
    from collections.abc import Sequence

WARN_KM = 500.0
"""A warning from this distance on: the low end of the usual 500-800 km replacement range."""
MIN_WEAR_RUNS = 3
"""Runs with a known distance needed before a wear trend is given."""
MIN_WEAR_SPAN_KM = 50.0
"""Distance those runs must span: over a few km the day-to-day spread of the force swamps any wear."""


class ShoeError(Exception):
    """A shoe command that cannot be done: unknown name, a name already taken, a retired pair."""


@dataclass(frozen=True, slots=True)
class Shoe:
    """A pair of shoes with the distance run in them."""

    name: str
    start_km: float
    km: float
    """Distance so far: ``start_km`` plus every run's distance in them."""
    runs: int
    runs_without_distance: int
    in_use: bool
    retired: bool
    wear_bw_per_100km: float | None
    """Slope of the median peak force per step (body weights) over distance; None with too few runs."""

    def state(self, limit_km: float) -> str:
        """The state against the limits: "ok", "warning" (from WARN_KM) or "limit" (at ``limit_km``)."""
        if self.km >= limit_km:
            return "limit"
        return "warning" if self.km >= WARN_KM else "ok"

    def message(self, limit_km: float) -> str | None:
        """What to tell the runner about these shoes' distance, or None when nothing."""
        state = self.state(limit_km)
        if state == "limit":
            return f"shoes {self.name!r}: {self.km:.0f} km, at the {limit_km:.0f} km limit: replace them"
        if state == "warning":
            return f"shoes {self.name!r}: {self.km:.0f} km, past {WARN_KM:.0f} km: think about new ones"
        return None


def wear_slope(km_at_run: Sequence[float], force_bw: Sequence[float]) -> float | None:
    """Least-squares slope of peak force per step against distance on the shoes, in BW per 100 km."""
    if len(km_at_run) < MIN_WEAR_RUNS or np.ptp(km_at_run) < MIN_WEAR_SPAN_KM:
        return None
    slope = np.polyfit(np.asarray(km_at_run), np.asarray(force_bw), 1)[0]
    return round(float(slope) * 100.0, 4)


class ShoeRack:
    """The shoes table of one store."""

    def __init__(self, engine: sa.Engine) -> None:
        """Work on ``engine``'s database (already migrated)."""
        self.engine = engine

    def add(self, runner: str, name: str, start_km: float = 0.0) -> None:
        """A new pair, with the distance already run in it; the first pair is put in use."""
        if not name.strip():
            raise ShoeError("a shoe name cannot be empty")
        if start_km < 0:
            raise ShoeError(f"--km must be 0 or more, got {start_km}")
        try:
            with self.engine.begin() as connection:
                first = self.in_use_id(connection, runner) is None
                connection.execute(
                    shoes.insert().values(
                        runner=runner,
                        name=name,
                        start_km=start_km,
                        added_utc=dt.datetime.now(dt.UTC),
                        in_use=first,
                    )
                )
        except IntegrityError:
            raise ShoeError(f"shoes {name!r} already exist for runner {runner!r}") from None

    def use(self, runner: str, name: str) -> None:
        """Tag the next runs with these shoes."""
        with self.engine.begin() as connection:
            shoe_id, retired = self._row(connection, runner, name)
            if retired is not None:
                raise ShoeError(f"shoes {name!r} are retired")
            connection.execute(shoes.update().where(shoes.c.runner == runner).values(in_use=False))
            connection.execute(shoes.update().where(shoes.c.id == shoe_id).values(in_use=True))

    def retire(self, runner: str, name: str) -> None:
        """Retire a pair: kept with its runs, never used again."""
        with self.engine.begin() as connection:
            shoe_id, _retired = self._row(connection, runner, name)
            connection.execute(
                shoes.update()
                .where(shoes.c.id == shoe_id)
                .values(retired_utc=dt.datetime.now(dt.UTC), in_use=False)
            )

    @staticmethod
    def _row(connection: sa.Connection, runner: str, name: str) -> tuple[int, dt.datetime | None]:
        """The id and retirement time of a runner's pair; ShoeError when there is none of that name."""
        row = connection.execute(
            sa.select(shoes.c.id, shoes.c.retired_utc).where(shoes.c.runner == runner, shoes.c.name == name)
        ).first()
        if row is None:
            raise ShoeError(f"no shoes named {name!r} for runner {runner!r} (add them with `shoes add`)")
        return int(row.id), row.retired_utc

    @staticmethod
    def in_use_id(connection: sa.Connection, runner: str) -> int | None:
        """The id of the runner's pair in use, if any."""
        found = connection.execute(
            sa.select(shoes.c.id).where(shoes.c.runner == runner, shoes.c.in_use.is_(True))
        ).scalar()
        return None if found is None else int(found)

    def list(self, runner: str) -> list[Shoe]:
        """Every pair of the runner, in the order they were added, with distance and wear trend."""
        with self.engine.connect() as connection:
            pairs = (
                connection.execute(sa.select(shoes).where(shoes.c.runner == runner).order_by(shoes.c.id))
                .mappings()
                .all()
            )
            shoe_runs: list[tuple[int, float | None, float | None]] = [
                (r.shoe_id, r.distance_km, r.vgrf_peak_bw_median)
                for r in connection.execute(
                    sa.select(runs.c.shoe_id, runs.c.distance_km, runs.c.vgrf_peak_bw_median)
                    .where(runs.c.runner == runner, runs.c.shoe_id.is_not(None))
                    .order_by(runs.c.start_utc, runs.c.id)
                )
            ]
        return [self._shoe(pair, [r for r in shoe_runs if r[0] == pair["id"]]) for pair in pairs]

    def in_use(self, runner: str) -> Shoe | None:
        """The pair in use, with its distance."""
        return next((s for s in self.list(runner) if s.in_use), None)

    @staticmethod
    def _shoe(pair: sa.RowMapping, shoe_runs: Sequence[tuple[int, float | None, float | None]]) -> Shoe:
        """A shoes row and its runs as a Shoe: distance so far and the force trend over it."""
        km = float(pair["start_km"])
        km_at_run: list[float] = []
        force: list[float] = []
        for _shoe_id, distance_km, force_bw in shoe_runs:
            km += distance_km or 0.0
            if distance_km is not None and force_bw is not None:
                km_at_run.append(km)
                force.append(force_bw)
        return Shoe(
            name=pair["name"],
            start_km=float(pair["start_km"]),
            km=round(km, 3),
            runs=len(shoe_runs),
            runs_without_distance=sum(r[1] is None for r in shoe_runs),
            in_use=bool(pair["in_use"]),
            retired=pair["retired_utc"] is not None,
            wear_bw_per_100km=wear_slope(km_at_run, force),
        )
