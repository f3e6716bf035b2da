"""A watch's own recording of the run (FIT, GPX or TCX): time, distance, speed, heart rate and position.

FIT through fitdecode, GPX through gpxpy, TCX through the standard library's XML parser. The distance of
the run is the watch's last distance reading, else the sum of the distances between its positions.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

import fitdecode
import gpxpy
import gpxpy.gpx

from spinesense.utc import as_utc, parse_utc

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterator

SEMICIRCLES_TO_DEG = 180.0 / 2**31
EARTH_RADIUS_M = 6_371_008.8
TCX_NS = {"tcx": "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"}


class WatchFileError(Exception):
    """A watch file that cannot be read: unknown kind, corrupt, or without a single track point."""


@dataclass(frozen=True, slots=True)
class TrackPoint:
    """One sample of the watch's track; whatever the watch did not record is None."""

    time_utc: dt.datetime
    distance_m: float | None = None
    speed_mps: float | None = None
    heart_rate_bpm: int | None = None
    lat_deg: float | None = None
    lon_deg: float | None = None


@dataclass(frozen=True, slots=True)
class WatchTrack:
    """The track points of a watch file, in time order."""

    path: Path
    points: list[TrackPoint]

    @property
    def distance_km(self) -> float | None:
        """The run's distance: the last distance reading, else the length of the positions' path."""
        readings = [p.distance_m for p in self.points if p.distance_m is not None]
        if readings:
            return round(max(readings) / 1000.0, 3)
        fixes = [
            (p.lat_deg, p.lon_deg) for p in self.points if p.lat_deg is not None and p.lon_deg is not None
        ]
        if len(fixes) < 2:
            return None
        return round(sum(_haversine_m(a, b) for a, b in itertools.pairwise(fixes)) / 1000.0, 3)


def _haversine_m(a: tuple[float | None, float | None], b: tuple[float | None, float | None]) -> float:
    """Great-circle distance in metres between two (lat, lon) fixes in degrees."""
    lat1, lon1, lat2, lon2 = (math.radians(v or 0.0) for v in (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def _fit_points(path: Path) -> Iterator[TrackPoint]:
    """The record messages of a FIT activity."""
    with fitdecode.FitReader(str(path)) as reader:
        for frame in reader:
            if not isinstance(frame, fitdecode.FitDataMessage) or frame.name != "record":
                continue
            values = {f.name: f.value for f in frame.fields if f.value is not None}
            if "timestamp" not in values:
                continue
            lat, lon = values.get("position_lat"), values.get("position_long")
            hr = values.get("heart_rate")
            yield TrackPoint(
                time_utc=as_utc(values["timestamp"]),
                distance_m=values.get("distance"),
                speed_mps=values.get("enhanced_speed", values.get("speed")),
                heart_rate_bpm=None if hr is None else int(hr),
                lat_deg=None if lat is None else lat * SEMICIRCLES_TO_DEG,
                lon_deg=None if lon is None else lon * SEMICIRCLES_TO_DEG,
            )


def _gpx_points(path: Path) -> Iterator[TrackPoint]:
    """The track points of a GPX file (position and time; GPX has no distance or speed of its own)."""
    gpx = gpxpy.parse(path.read_text(encoding="utf-8"))
    for track in gpx.tracks:
        for segment in track.segments:
            for point in segment.points:
                if point.time is not None:
                    yield TrackPoint(as_utc(point.time), lat_deg=point.latitude, lon_deg=point.longitude)


def _tcx_float(element: ET.Element, path: str) -> float | None:
    """A number below ``element`` at ``path``, or None."""
    text = element.findtext(path, namespaces=TCX_NS)
    return None if text is None else float(text)


def _tcx_points(path: Path) -> Iterator[TrackPoint]:
    """The trackpoints of a TCX file."""
    root = ET.parse(path).getroot()  # noqa: S314 - the runner's own file, read locally
    for point in root.iterfind(".//tcx:Trackpoint", TCX_NS):
        time_text = point.findtext("tcx:Time", namespaces=TCX_NS)
        if time_text is None:
            continue
        hr = _tcx_float(point, "tcx:HeartRateBpm/tcx:Value")
        yield TrackPoint(
            time_utc=parse_utc(time_text),
            distance_m=_tcx_float(point, "tcx:DistanceMeters"),
            heart_rate_bpm=None if hr is None else round(hr),
            lat_deg=_tcx_float(point, "tcx:Position/tcx:LatitudeDegrees"),
            lon_deg=_tcx_float(point, "tcx:Position/tcx:LongitudeDegrees"),
        )


READERS = {".fit": _fit_points, ".gpx": _gpx_points, ".tcx": _tcx_points}


def read_watch_file(path: Path | str) -> WatchTrack:
    """Read a FIT, GPX or TCX file; WatchFileError naming the file and the reason when it cannot."""
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise WatchFileError(f"{path}: unknown watch file kind (expected .fit, .gpx or .tcx)")
    try:
        points = sorted(reader(path), key=lambda p: p.time_utc)
    except OSError as exc:
        raise WatchFileError(f"{path}: cannot read: {exc.strerror}") from None
    except (fitdecode.FitError, gpxpy.gpx.GPXException, ET.ParseError, ValueError) as exc:
        raise WatchFileError(f"{path}: not a valid {path.suffix[1:].upper()} file: {exc}") from None
    if not points:
        raise WatchFileError(f"{path}: no track points with a time")
    return WatchTrack(path, points)
