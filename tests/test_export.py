"""Export: a stored run as FIT (read back by fitdecode, an independent decoder) and CSV; watch files read."""

from __future__ import annotations

import csv
import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import fitdecode
import gpxpy.gpx
import pytest

from conftest import REPLAY_DATA
from spinesense.cli import main
from spinesense.export import DEV_FIELDS, write_csv, write_fit
from spinesense.export._fittool import FileIdMessage, FileType, FitFileBuilder, RecordMessage
from spinesense.run import analyse
from spinesense.store.distance import step_length_m
from spinesense.store.watch import WatchFileError, read_watch_file

if TYPE_CHECKING:
    from pathlib import Path

    from spinesense.models import Stride

CAPTURE = REPLAY_DATA / "fukuchi" / "RBDS0041.jsonl.gz"
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # the capture's own start time
LAT, LON = 47.3769, 8.5417


@pytest.fixture(scope="module")
def strides() -> list[Stride]:
    return analyse(CAPTURE).strides


def _records(path: Path, name: str = "record") -> list[dict[str, Any]]:
    """Every message ``name`` of a FIT file as {field: value}, decoded by fitdecode."""
    with fitdecode.FitReader(str(path)) as reader:
        return [
            {f.name: f.value for f in frame.fields}
            for frame in reader
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == name
        ]


def watch_fit(path: Path, seconds: int = 110) -> None:
    """A watch's FIT file: one record a second from START at 3 m/s heading north, heart rate rising."""
    builder = FitFileBuilder(auto_define=True)
    file_id = FileIdMessage()
    file_id.type = FileType.ACTIVITY
    file_id.manufacturer = 1
    file_id.time_created = round(START.timestamp() * 1000)
    builder.add(file_id)
    for second in range(seconds):
        record = RecordMessage()
        record.timestamp = round(START.timestamp() * 1000) + second * 1000
        record.distance = 3.0 * second
        record.enhanced_speed = 3.0
        record.heart_rate = 120 + second // 2
        record.position_lat = LAT + 3.0 * second / 111_195.0
        record.position_long = LON
        builder.add(record)
    builder.build().to_file(str(path))


def test_the_fit_file_holds_every_field_with_its_value(tmp_path: Path, strides: list[Stride]) -> None:
    watch = tmp_path / "watch.fit"
    watch_fit(watch)
    out = tmp_path / "run.fit"
    assert write_fit(out, START, strides, read_watch_file(watch)) == len(strides)
    records = _records(out)
    assert len(records) == len(strides)
    checked = dict.fromkeys(["running", "balance", "developer", "watch"], 0)
    for stride, record in zip(strides, records, strict=True):
        at = START + dt.timedelta(seconds=stride.t_end_s)
        assert record["timestamp"] == dt.datetime.fromtimestamp(
            round(at.timestamp()), dt.UTC
        )  # whole seconds
        assert record["cadence"] + record["fractional_cadence"] == pytest.approx(
            stride.cadence_spm / 2, abs=1 / 128
        )
        if stride.gct_ms is not None:
            assert stride.duty_factor is not None
            assert stride.vertical_oscillation_cm is not None
            step_mm = step_length_m(stride.cadence_spm, stride.gct_ms) * 1000
            assert record["stance_time"] == pytest.approx(stride.gct_ms, abs=0.1)
            assert record["step_length"] == pytest.approx(step_mm, abs=0.1)
            assert record["stance_time_percent"] == pytest.approx(stride.duty_factor * 100, abs=0.01)
            assert record["vertical_oscillation"] == pytest.approx(
                stride.vertical_oscillation_cm * 10, abs=0.1
            )
            ratio = stride.vertical_oscillation_cm * 10 / step_mm * 100
            assert record["vertical_ratio"] == pytest.approx(ratio, abs=0.01)
            checked["running"] += 1
        if stride.gct_left_ms and stride.gct_right_ms:
            balance = 100 * stride.gct_left_ms / (stride.gct_left_ms + stride.gct_right_ms)
            assert record["stance_time_balance"] == pytest.approx(balance, abs=0.01)
            checked["balance"] += 1
        for field in DEV_FIELDS:
            value = getattr(stride, field.attribute)
            if value is not None:
                assert record[field.name] == pytest.approx(value, rel=1e-6)
                checked["developer"] += 1
        second = round((at - START).total_seconds())
        if second < 110:
            assert record["heart_rate"] == 120 + second // 2
            assert record["enhanced_speed"] == pytest.approx(3.0, abs=1e-3)
            assert record["distance"] == pytest.approx(3.0 * second, abs=0.01)
            assert record["position_lat"] * 180 / 2**31 == pytest.approx(
                LAT + 3.0 * second / 111_195, abs=1e-6
            )
            checked["watch"] += 1
    assert min(checked.values()) > 50, checked
    [session] = _records(out, "session")
    assert (session["sport"], session["total_strides"]) == ("running", len(strides))
    descriptions = {d["field_name"]: d["units"] for d in _records(out, "field_description")}
    assert descriptions == {f.name: f.units for f in DEV_FIELDS}


def test_export_of_a_stored_run_to_fit_and_csv(tmp_path: Path, strides: list[Stride]) -> None:
    assert main(["import", str(CAPTURE), "--runner", "eve"]) == 0
    assert main(["export", "1", "--fit", str(tmp_path / "a.fit"), "--runner", "eve"]) == 0
    assert len(_records(tmp_path / "a.fit")) == len(strides)
    assert main(["export", "1", "--csv", str(tmp_path / "a.csv"), "--runner", "eve"]) == 0
    with (tmp_path / "a.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["gct_ms"] or "nan") for r in rows] == pytest.approx(
        [s.gct_ms if s.gct_ms is not None else math.nan for s in strides], nan_ok=True
    )
    assert rows[0]["time_utc"] == (START + dt.timedelta(seconds=strides[0].t_start_s)).isoformat(
        timespec="milliseconds"
    )
    assert main(["export", "7", "--csv", str(tmp_path / "b.csv"), "--runner", "eve"]) == 1


def test_write_csv_writes_one_row_per_stride(tmp_path: Path, strides: list[Stride]) -> None:
    assert write_csv(tmp_path / "s.csv", START, strides) == len(strides)


def test_watch_files_give_the_distance(tmp_path: Path) -> None:
    watch_fit(tmp_path / "w.fit", seconds=101)
    assert read_watch_file(tmp_path / "w.fit").distance_km == pytest.approx(0.3)
    gpx = gpxpy.gpx.GPX()
    segment = gpxpy.gpx.GPXTrackSegment()
    for second in range(101):
        at = START + dt.timedelta(seconds=second)
        segment.points.append(gpxpy.gpx.GPXTrackPoint(LAT + 3.0 * second / 111_195, LON, time=at))
    track = gpxpy.gpx.GPXTrack()
    track.segments.append(segment)
    gpx.tracks.append(track)
    (tmp_path / "w.gpx").write_text(gpx.to_xml(), encoding="utf-8")
    assert read_watch_file(tmp_path / "w.gpx").distance_km == pytest.approx(0.3, rel=2e-3)
    (tmp_path / "w.tcx").write_text(
        '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">'
        "<Activities><Activity><Lap><Track>"
        + "".join(
            f"<Trackpoint><Time>2026-01-01T00:00:{s:02d}Z</Time><DistanceMeters>{3.0 * s}</DistanceMeters>"
            f"<HeartRateBpm><Value>{120 + s}</Value></HeartRateBpm></Trackpoint>"
            for s in range(0, 60, 10)
        )
        + "</Track></Lap></Activity></Activities></TrainingCenterDatabase>",
        encoding="utf-8",
    )
    tcx = read_watch_file(tmp_path / "w.tcx")
    assert tcx.distance_km == pytest.approx(0.15)
    assert [p.heart_rate_bpm for p in tcx.points] == [120, 130, 140, 150, 160, 170]
    (tmp_path / "bad.fit").write_bytes(b"not a fit file at all")
    with pytest.raises(WatchFileError, match=r"bad\.fit"):
        read_watch_file(tmp_path / "bad.fit")
    with pytest.raises(WatchFileError, match=r"unknown watch file kind"):
        read_watch_file(tmp_path / "w.kml")
