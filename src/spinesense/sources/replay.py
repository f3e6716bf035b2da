"""Replay a recording (capture or sample CSV) as the stream of records a live sensor would give.

A sample CSV is turned into the frames the reference firmware would have sent for it, so every
recording, live or not, goes through a decoder and then the same pipeline. Replay is deterministic:
paced in real time, at ``speed`` times real time, or as fast as possible.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spinesense.capture import Capture, CaptureError, check_regular_file, is_capture, make_header
from spinesense.errors import BadInputError
from spinesense.models import FrameRecord, Record, concat_blocks
from spinesense.sample_csv import SampleCsvError, SampleTable, read_sample_csv
from spinesense.sensors import decode_records, make_decoder
from spinesense.sensors.reference import DATA_UUID, INFO_UUID, SensorInfo, encode_samples
from spinesense.sources import MOST_TOGETHER

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from spinesense.models import SampleBlock
    from spinesense.sensors import StreamDecoder

log = logging.getLogger(__name__)

EPOCH_THRESHOLD_S = 1e9
"""CSV times above this are Unix epoch seconds (2001 onwards); below, seconds from the start."""
HOST_JUMP_S = 600.0
"""A host time this much after the previous record, or more than ``HOST_BACK_S`` before it, is a clock
jump (or a damaged digit), not a pause: ``info`` reports it and a paced replay never sleeps on it."""
HOST_BACK_S = 1.0


class RecordingError(BadInputError):
    """A file cannot be replayed: missing, unknown format, or unreadable; the message says which."""


@dataclass(slots=True)
class Recording:
    """A recording opened for replay: its header and a fresh record stream on every call."""

    path: Path
    kind: str
    """"capture" or "csv"."""
    header: dict[str, Any]
    _capture: Capture | None = None
    _table: SampleTable | None = None
    skipped_lines: list[int] = field(default_factory=list)
    torn_last_line: bool = False
    damage: str = ""
    """What of the file could not be read at all (a damaged gzip stream), after a pass over it."""
    host_jumps: int = 0
    """Host-time jumps (``is_host_jump``) seen in the last pass over the records."""
    largest_host_jump_s: float = 0.0

    @property
    def protocol(self) -> str:
        """Sensor protocol of the records (CSV files replay as the reference protocol)."""
        return str(self.header.get("protocol", ""))

    def records(self) -> Iterator[Record]:
        """Every record in order, as the source saw them."""
        self.host_jumps, self.largest_host_jump_s = 0, 0.0
        previous: int | None = None
        for record in self._capture.records() if self._capture is not None else self._csv_records():
            if previous is not None and is_host_jump(record.t_ns - previous):
                self.host_jumps += 1
                self.largest_host_jump_s = max(self.largest_host_jump_s, abs(record.t_ns - previous) * 1e-9)
            previous = record.t_ns
            yield record
        if self._capture is not None:
            self.skipped_lines = list(self._capture.stats.bad_lines)
            self.torn_last_line = self._capture.stats.torn_last_line
            self.damage = self._capture.stats.damage

    def _csv_records(self) -> Iterator[Record]:
        """The CSV's records (none without a table)."""
        if self._table is not None:
            yield from csv_records(self._table)

    def decoder(self) -> StreamDecoder:
        """A fresh decoder for this recording's protocol."""
        return make_decoder(self.protocol)

    def blocks(self, decoder: StreamDecoder | None = None) -> Iterator[SampleBlock]:
        """Decode the whole recording into SampleBlocks (one per frame), synchronously (no alert rules)."""
        return decode_records(self.records(), decoder or self.decoder())

    def block(self) -> SampleBlock:
        """The whole recording decoded into one SampleBlock; ValueError when it holds no samples."""
        return concat_blocks(list(self.blocks()))

    def length_s(self) -> float:
        """Seconds from the first to the last record (one pass over the file), for progress bars."""
        first = last = None
        for record in self.records():
            first = record.t_ns if first is None else first
            last = record.t_ns
        return 0.0 if first is None or last is None else (last - first) * 1e-9


def open_recording(path: Path | str) -> Recording:
    """Open a capture (``.jsonl``/``.jsonl.gz``) or a sample CSV; raises RecordingError."""
    path = Path(path)
    check_regular_file(path, RecordingError)
    try:
        if is_capture(path):
            capture = Capture(path)
            return Recording(path, "capture", capture.header, _capture=capture)
        if _looks_like_csv(path):
            table = read_sample_csv(path)
            header = make_header(
                protocol="reference", rate_hz=table.rate_hz, sensor_name=path.name, source=f"CSV {path.name}"
            )
            return Recording(
                path,
                "csv",
                header,
                _table=table,
                skipped_lines=table.bad_lines,
                torn_last_line=table.torn_last_line,
            )
    except (CaptureError, SampleCsvError) as exc:
        raise RecordingError(str(exc)) from None
    raise RecordingError(f"{path}: unknown format (expected a spinesense capture or a sample CSV)")


def _looks_like_csv(path: Path) -> bool:
    """A sample CSV has a name ending in .csv or .csv.gz."""
    return path.name.endswith((".csv", ".csv.gz"))


def csv_info(table: SampleTable) -> SensorInfo:
    """The info a reference sensor would report for this table: its rate, default ranges, gyro or not."""
    return SensorInfo(sample_rate_hz=table.rate_hz, has_gyro=table.gyr_radps is not None)


def csv_records(table: SampleTable) -> Iterator[FrameRecord]:
    """The records a reference sensor would have produced for the table's samples.

    Each row is the next sample; an interval spanning several periods becomes an exact gap in
    the sample index, and a row in the same time slot as the previous one is dropped (and logged).
    Host receive times are the time of each frame's last sample (epoch seconds when ``time_s`` is
    epoch time, else seconds from 0).
    """
    info = csv_info(table)
    steps = np.rint(np.diff(table.t_s) * info.sample_rate_hz).astype(np.int64)
    keep = np.concatenate([[True], steps > 0])
    if not keep.all():
        log.warning("%d samples share a time slot with the previous one; dropped", int((~keep).sum()))
    # Each row is the next sample unless its interval spans several periods: then samples were lost.
    index = np.concatenate([[0], np.cumsum(steps[steps > 0])])
    t = table.t_s[keep]
    acc = table.acc_mps2[keep]
    gyr = None if table.gyr_radps is None else table.gyr_radps[keep]
    to_ns = 1e9
    t_base_s = 0.0 if t[0] > EPOCH_THRESHOLD_S else t[0]
    yield FrameRecord(round((t[0] - t_base_s) * to_ns), INFO_UUID, info.to_bytes())
    run_starts = np.flatnonzero(np.concatenate([[True], np.diff(index) != 1]))
    run_stops = np.append(run_starts[1:], index.size)
    for run, (start, stop) in enumerate(zip(run_starts, run_stops, strict=True)):
        frames = encode_samples(
            acc[start:stop],
            None if gyr is None else gyr[start:stop],
            info,
            first_sample_index=int(index[start]),
            t_first_us=round(index[start] * 1e6 / info.sample_rate_hz),
            stream_start=run == 0,
        )
        last = np.minimum(np.arange(start, stop, 19) + 18, stop - 1)
        for frame, k in zip(frames, last, strict=True):
            yield FrameRecord(round((t[k] - t_base_s) * to_ns), DATA_UUID, frame)


def is_host_jump(step_ns: int) -> bool:
    """Whether a step between two records' host times is a clock jump rather than time passing."""
    return step_ns > HOST_JUMP_S * 1e9 or step_ns < -HOST_BACK_S * 1e9


class _Pace:
    """When a paced replay's records are due on the monotonic clock.

    At ``speed`` times real time from the first record, and from again after a host-clock jump
    (``is_host_jump``), which is never slept on.
    """

    def __init__(self, speed: float) -> None:
        """Pace at ``speed`` times real time."""
        self.speed = speed
        self._start_wall = 0.0
        self._first_t_ns = 0
        self._previous: int | None = None

    def due(self, t_ns: int) -> float:
        """The moment the record received at host time ``t_ns`` is due."""
        if self._previous is None or is_host_jump(t_ns - self._previous):
            self._start_wall, self._first_t_ns = time.monotonic(), t_ns
        self._previous = t_ns
        return self._start_wall + (t_ns - self._first_t_ns) * 1e-9 / self.speed


async def replay_batches(recording: Recording, speed: float | None = 1.0) -> AsyncIterator[list[Record]]:
    """The recording's records paced at ``speed`` times real time (None: as fast as possible), in lists.

    A list holds the records due together: one while the consumer keeps up; the backlog, up to
    ``MOST_TOGETHER``, when it fell behind (a loaded host), which it can then take in one go; and in a fast
    replay ``MOST_TOGETHER`` at a time.
    """
    if speed is not None and speed <= 0:
        raise ValueError(f"speed must be positive, got {speed}")
    pace = None if speed is None else _Pace(speed)
    batch: list[Record] = []
    for record in recording.records():
        if pace is not None and (due := pace.due(record.t_ns)) > time.monotonic():
            if batch:  # the ones due go now, before waiting for this one
                yield batch
                batch = []
            if (delay := due - time.monotonic()) > 0:
                await asyncio.sleep(delay)
        batch.append(record)
        if len(batch) == MOST_TOGETHER:
            yield batch
            batch = []
            if pace is None:
                await asyncio.sleep(0)  # a fast replay lets the other tasks (the publisher) run
    if batch:
        yield batch


async def replay(recording: Recording, speed: float | None = 1.0) -> AsyncIterator[Record]:
    """Yield the recording's records paced at ``speed`` times real time (None: as fast as possible)."""
    async for batch in replay_batches(recording, speed):
        for record in batch:
            yield record


class ReplaySource:
    """A recording as the service's source: its records paced as a live sensor would send them."""

    live = False
    """Not a live sensor: the service waits for a slow publisher rather than shed strides."""

    def __init__(
        self, recording: Recording | Path | str, speed: float | None = 1.0, source: str = ""
    ) -> None:
        """Replay ``recording`` at ``speed`` times real time (None: as fast as possible).

        ``source`` names what replays it in the header of a capture written on the way (e.g. the command).
        """
        if speed is not None and speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.recording = recording if isinstance(recording, Recording) else open_recording(recording)
        self.speed = speed
        self.source = source or f"replay of {self.recording.path.name}"

    async def start(self) -> dict[str, Any]:
        """The recording's header, marked as a replay."""
        return {**self.recording.header, "source": self.source}

    def __aiter__(self) -> AsyncIterator[Record]:
        """The recording's records, paced."""
        return replay(self.recording, self.speed)

    def batches(self) -> AsyncIterator[list[Record]]:
        """The recording's records, paced, in lists of those due together (see ``replay_batches``)."""
        return replay_batches(self.recording, self.speed)
