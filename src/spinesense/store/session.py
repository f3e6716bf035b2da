"""A session into the store: its run record, distance, start time, and the training load around it.

``StoreSink`` is the service's hook: at a session's start it shows (and publishes) the training load and
the shoes; at its end it saves the run and shows what changed. A store that cannot be reached never
stops a run: the capture is still written and can be imported later.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from spinesense.logs import status
from spinesense.models import to_json_dict
from spinesense.store._engine import StoreError, sqlite_url
from spinesense.store._records import NewRun
from spinesense.store._runstore import RunStore
from spinesense.store.distance import estimated_distance_km
from spinesense.store.load import load_status
from spinesense.store.watch import WatchFileError, read_watch_file
from spinesense.utc import header_start

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from spinesense.config import Config
    from spinesense.models import Alert, Stride
    from spinesense.publish import Publisher
    from spinesense.store._records import SaveResult

log = logging.getLogger(__name__)

STORE_FILE = "runs.sqlite"
HASH_CHUNK = 1 << 20


def store_url(config: Config) -> str:
    """The configured store URL, else the SQLite file in the data directory."""
    return config.store_url or sqlite_url(config.data_dir / STORE_FILE)


def open_store(config: Config) -> RunStore:
    """The configured run store, migrated (StoreError when it cannot be opened)."""
    if config.store_url is None:
        try:
            config.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"data.dir: cannot create {config.data_dir}: {exc.strerror}") from None
    return RunStore(store_url(config))


def capture_hash(path: Path) -> str:
    """SHA-256 of a recording's content, decompressed: the same capture gzipped or not is one run."""
    digest = hashlib.sha256()
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    with opener(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def strides_hash(strides: Sequence[Stride]) -> str:
    """SHA-256 of the strides as JSON: the identity of a session that wrote no capture."""
    text = json.dumps([to_json_dict(s) for s in strides], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def run_distance(config: Config, strides: Sequence[Stride]) -> tuple[float | None, str | None]:
    """The run's distance and where it came from: the runner, else the watch file, else the IMU model."""
    if config.distance_km is not None:
        return config.distance_km, "runner"
    if config.watch_file is not None:
        try:
            km = read_watch_file(config.watch_file).distance_km
        except WatchFileError as exc:
            log.warning("%s; distance estimated from the strides instead", exc)
        else:
            if km is not None:
                return km, "watch"
    km = estimated_distance_km(strides)
    return (km, "estimate") if km is not None else (None, None)


def new_run(
    config: Config,
    strides: Sequence[Stride],
    alerts: Sequence[Alert],
    summary: dict[str, Any],
    header: dict[str, Any],
    start_utc: dt.datetime,
    capture: Path | None,
) -> NewRun:
    """What the store keeps of a finished session (the capture, when there is one, is its identity)."""
    sensor = header.get("sensor", {})
    distance_km, distance_source = run_distance(config, strides)
    return NewRun(
        runner=config.runner_id,
        start_utc=start_utc,
        strides=strides,
        alerts=alerts,
        summary=summary,
        sensor=str(sensor.get("name") or sensor.get("address") or "") if isinstance(sensor, dict) else "",
        source=str(header.get("source", "")),
        capture_hash=strides_hash(strides) if capture is None else capture_hash(capture),
        capture_path=None if capture is None else str(capture.resolve()),
        distance_km=distance_km,
        distance_source=distance_source,
    )


def load_payload(store: RunStore, config: Config, day: dt.date) -> dict[str, Any]:
    """The training load on ``day`` and the shoes in use, as published on the ``load`` topic."""
    payload = {"runner": config.runner_id, **load_status(store.runs(config.runner_id), day).payload()}
    shoe = store.shoes.in_use(config.runner_id)
    payload["shoes"] = None
    if shoe is not None:
        payload["shoes"] = {
            "name": shoe.name,
            "km": shoe.km,
            "limit_km": config.shoe_limit_km,
            "state": shoe.state(config.shoe_limit_km),
            "message": shoe.message(config.shoe_limit_km),
            "wear_bw_per_100km": shoe.wear_bw_per_100km,
        }
    return payload


def show_load(payload: dict[str, Any]) -> None:
    """The load and shoes in a few terminal lines; each alert as an ALERT line."""
    week = payload["last_7_days"]
    acwr = payload["acwr"]
    ratio = f"{acwr:.2f}" if acwr is not None else f"needs 28 days of runs ({payload['history_days']} so far)"
    runs = f"{week['runs']} run{'' if week['runs'] == 1 else 's'}"
    status(
        f"load, last 7 days: {runs}, {week['running_s'] / 60:.0f} min, {week['steps']} steps, "
        f"impact {week['impact_load_bw'] / 1000:.1f} kBW; acute:chronic {ratio}",
        load=payload,
    )
    for alert in payload["alerts"]:
        status(f"ALERT {alert['kind']} ({alert['severity']}): {alert['message']}", load_alert=alert)
    shoes = payload["shoes"]
    if shoes is None:
        status("no shoes in use (`spinesense shoes add NAME`)")
    else:
        status(f"shoes {shoes['name']!r}: {shoes['km']:.1f} km", shoes=shoes)
        if shoes["message"]:
            status(
                f"ALERT shoes ({'warning' if shoes['state'] == 'warning' else 'critical'}): "
                f"{shoes['message']}"
            )


def save_and_show(store: RunStore, run: NewRun) -> SaveResult:
    """Save a run and say where it went."""
    result = store.save(run)
    if result.created:
        km = "unknown" if run.distance_km is None else f"{run.distance_km:.2f} km ({run.distance_source})"
        status(
            f"saved as run {result.run_id} (runner {run.runner!r}), {run.start_utc:%Y-%m-%d %H:%M} UTC, "
            f"distance {km}",
            run_id=result.run_id,
        )
    else:
        status(f"already in the store as run {result.run_id}: not saved again", run_id=result.run_id)
    return result


DISK_FAULTS = (StoreError, SQLAlchemyError, OSError)
"""What a store on a full, size-limited or read-only disk raises."""


def _reason(exc: BaseException) -> object:
    """The database's own words for a failure (SQLAlchemy wraps them with the whole statement)."""
    return getattr(exc, "orig", None) or exc


class StoreSink:
    """The service's hook into the store: the load at a session's start, the saved run at its end."""

    def __init__(self, config: Config, recording: Path | None = None) -> None:
        """Remember the configuration; nothing is opened before ``start``.

        ``recording``: the file a replayed run comes from, which identifies it (else its new capture).
        """
        self.config = config
        self.recording = recording
        self.started = dt.datetime.now(dt.UTC)
        self.store: RunStore | None = None

    def start(self, publisher: Publisher | None) -> None:
        """Open the store, show the training load and the shoes, and publish them (retained)."""
        self.started = dt.datetime.now(dt.UTC)
        try:
            self.store = open_store(self.config)
        except DISK_FAULTS as exc:  # a full or read-only disk costs the store, never the run (issue 17)
            log.error("run store unavailable, this run will not be saved: %s", _reason(exc))  # noqa: TRY400
            return
        self._announce(self.started.date(), publisher)

    def _announce(self, day: dt.date, publisher: Publisher | None) -> None:
        """Show and publish the load on ``day``."""
        assert self.store is not None  # noqa: S101 - only called with an open store
        payload = load_payload(self.store, self.config, day)
        show_load(payload)
        if publisher is not None:
            publisher.publish_load(payload)

    def finish(
        self,
        strides: Sequence[Stride],
        alerts: Sequence[Alert],
        summary: dict[str, Any],
        header: dict[str, Any],
        capture: Path | None,
        publisher: Publisher | None,
    ) -> None:
        """Save the finished session (a replay keeps its recording's date), then show the new load."""
        if self.store is None or not strides:
            return
        capture = self.recording or capture
        start = header_start(header) or self.started
        try:
            with self.store:
                save_and_show(
                    self.store, new_run(self.config, strides, alerts, summary, header, start, capture)
                )
                self._announce(start.date(), publisher)
        except DISK_FAULTS as exc:
            log.error("run store: this run could not be saved: %s", _reason(exc))  # noqa: TRY400 - no trace
