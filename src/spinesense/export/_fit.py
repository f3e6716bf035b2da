"""A run as a FIT activity that runners' tools open (Garmin Connect, Strava, Runalyze, Golden Cheetah).

One record per stride, at the stride's end, with the native running-dynamics fields (cadence, stance
time, stance time balance and percent, vertical oscillation, and step length and vertical ratio from the
step length model) and developer fields for what FIT has no field for: trunk lean, pelvic tilt, drop and
rotation, and the impact. A watch file, when given, adds its speed, heart rate, distance and position at
each record's time. Written with fit-tool (Garmin's own Python SDK only decodes).
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spinesense.export._fittool import (
    ActivityMessage,
    BaseType,
    DeveloperDataIdMessage,
    DeveloperField,
    Event,
    EventMessage,
    EventType,
    FieldDescriptionMessage,
    FileIdMessage,
    FileType,
    FitFileBuilder,
    LapMessage,
    Manufacturer,
    RecordMessage,
    SessionMessage,
    Sport,
)
from spinesense.store.distance import step_length_m

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from spinesense.models import Stride
    from spinesense.store.watch import TrackPoint, WatchTrack

APPLICATION_ID = bytes.fromhex("5370696e6553656e73652d4649542d31")  # "SpineSense-FIT-1"
WATCH_MATCH_S = 2.0
"""A watch sample further than this from a record's time is not merged into it."""


@dataclass(frozen=True, slots=True)
class DevField:
    """A developer field: its number, the Stride attribute it carries, its FIT name and units."""

    number: int
    attribute: str
    name: str
    units: str


DEV_FIELDS = (
    DevField(0, "trunk_lean_deg", "trunk_lean", "deg"),
    DevField(1, "trunk_lateral_lean_deg", "trunk_lateral_lean", "deg"),
    DevField(2, "pelvic_tilt_rom_deg", "pelvic_tilt_range", "deg"),
    DevField(3, "pelvic_drop_left_deg", "pelvic_drop_left", "deg"),
    DevField(4, "pelvic_drop_right_deg", "pelvic_drop_right", "deg"),
    DevField(5, "pelvic_rotation_deg", "pelvic_rotation", "deg"),
    DevField(6, "vgrf_peak_bw", "impact_peak_force", "BW"),
    DevField(7, "loading_rate_g_per_s", "impact_loading_rate", "g/s"),
)


def _ms(time: dt.datetime) -> int:
    """A time as epoch milliseconds (fit-tool's time unit)."""
    return round(time.timestamp() * 1000)


def _nearest(
    points: Sequence[TrackPoint], times: Sequence[dt.datetime], at: dt.datetime
) -> TrackPoint | None:
    """The watch point nearest to ``at`` within WATCH_MATCH_S, if any."""
    i = bisect.bisect_left(times, at)
    near = [points[j] for j in (i - 1, i) if 0 <= j < len(points)]
    best = min(near, key=lambda p: abs((p.time_utc - at).total_seconds()), default=None)
    if best is None or abs((best.time_utc - at).total_seconds()) > WATCH_MATCH_S:
        return None
    return best


def _running_dynamics(message: RecordMessage, stride: Stride) -> None:
    """The native running-dynamics fields of one stride."""
    message.cadence = int(stride.cadence_spm // 2)  # FIT running cadence counts strides per minute
    message.fractional_cadence = stride.cadence_spm / 2 - int(stride.cadence_spm // 2)
    if stride.gct_ms is not None:
        message.stance_time = stride.gct_ms
        step_mm = step_length_m(stride.cadence_spm, stride.gct_ms) * 1000.0
        message.step_length = step_mm
        if stride.vertical_oscillation_cm is not None:
            message.vertical_ratio = stride.vertical_oscillation_cm * 10.0 / step_mm * 100.0
    if stride.duty_factor is not None:
        message.stance_time_percent = stride.duty_factor * 100.0
    if stride.gct_left_ms and stride.gct_right_ms:
        message.stance_time_balance = 100.0 * stride.gct_left_ms / (stride.gct_left_ms + stride.gct_right_ms)
    if stride.vertical_oscillation_cm is not None:
        message.vertical_oscillation = stride.vertical_oscillation_cm * 10.0


def _watch_values(message: RecordMessage, point: TrackPoint) -> None:
    """What the watch measured at this time."""
    if point.speed_mps is not None:
        message.enhanced_speed = point.speed_mps
    if point.heart_rate_bpm is not None:
        message.heart_rate = point.heart_rate_bpm
    if point.distance_m is not None:
        message.distance = point.distance_m
    if point.lat_deg is not None and point.lon_deg is not None:
        message.position_lat = point.lat_deg
        message.position_long = point.lon_deg


def _record(stride: Stride, at: dt.datetime, point: TrackPoint | None) -> RecordMessage:
    """The record message of one stride."""
    developer = []
    for field in DEV_FIELDS:
        value = getattr(stride, field.attribute)
        if value is not None:
            dev = DeveloperField(
                developer_data_index=0, field_id=field.number, base_type=BaseType.FLOAT32, size=4
            )
            dev.set_value(0, float(value))
            developer.append(dev)
    message = RecordMessage(developer_fields=developer)
    message.timestamp = _ms(at)
    _running_dynamics(message, stride)
    if point is not None:
        _watch_values(message, point)
    return message


def _header(builder: FitFileBuilder, start: dt.datetime) -> None:
    """File id, the developer data id and the developer fields' descriptions, the timer start."""
    file_id = FileIdMessage()
    file_id.type = FileType.ACTIVITY
    file_id.manufacturer = Manufacturer.DEVELOPMENT.value
    file_id.product = 0
    file_id.serial_number = 1
    file_id.time_created = _ms(start)
    builder.add(file_id)
    developer = DeveloperDataIdMessage()
    developer.application_id = APPLICATION_ID
    developer.developer_data_index = 0
    builder.add(developer)
    for field in DEV_FIELDS:
        description = FieldDescriptionMessage()
        description.developer_data_index = 0
        description.field_definition_number = field.number
        description.fit_base_type_id = BaseType.FLOAT32
        description.field_name = field.name
        description.units = field.units
        builder.add(description)
    builder.add(_timer(EventType.START, start))


def _timer(kind: EventType, at: dt.datetime) -> EventMessage:
    """A timer start or stop event."""
    event = EventMessage()
    event.event = Event.TIMER
    event.event_type = kind
    event.timestamp = _ms(at)
    return event


def _summary(
    builder: FitFileBuilder, start: dt.datetime, end: dt.datetime, strides: Sequence[Stride]
) -> None:
    """Timer stop, one lap, one running session and the activity."""
    elapsed = (end - start).total_seconds()
    running = [s for s in strides if s.running]
    builder.add(_timer(EventType.STOP_ALL, end))
    for message in (LapMessage(), SessionMessage()):
        message.timestamp = _ms(end)
        message.start_time = _ms(start)
        message.total_elapsed_time = elapsed
        message.total_timer_time = elapsed
        message.sport = Sport.RUNNING
        message.total_strides = len(strides)
        if running:
            message.avg_running_cadence = round(sum(s.cadence_spm for s in running) / len(running) / 2)
        builder.add(message)
    activity = ActivityMessage()
    activity.timestamp = _ms(end)
    activity.total_timer_time = elapsed
    activity.num_sessions = 1
    builder.add(activity)


def write_fit(
    path: Path, start_utc: dt.datetime, strides: Sequence[Stride], watch: WatchTrack | None = None
) -> int:
    """Write the run to ``path``; return the number of record messages."""
    builder = FitFileBuilder(auto_define=True, min_string_size=50)
    _header(builder, start_utc)
    points = watch.points if watch is not None else []
    times = [p.time_utc for p in points]
    for stride in strides:
        at = start_utc + dt.timedelta(seconds=stride.t_end_s)
        builder.add(_record(stride, at, _nearest(points, times, at)))
    end = start_utc + dt.timedelta(seconds=strides[-1].t_end_s if strides else 0.0)
    _summary(builder, start_utc, end, strides)
    builder.build().to_file(str(path))
    return len(strides)
