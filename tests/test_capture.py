"""Capture files: round trip, crash safety (a killed writer), torn and corrupt lines."""

from __future__ import annotations

import gzip
import json
import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spinesense.capture import (
    CaptureError,
    CaptureWriter,
    is_capture,
    make_header,
    read_capture,
)
from spinesense.models import EventRecord, FrameRecord
from spinesense.sensors.reference import DATA_UUID, INFO_UUID

HEADER = make_header(protocol="reference", rate_hz=200.0, sensor_name="SpineSense-ABCD", source="test")


@pytest.fixture(params=["run.jsonl", "run.jsonl.gz"])
def capture_path(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return tmp_path / str(request.param)


def _write(path: Path, n: int) -> None:
    with CaptureWriter(path, HEADER) as writer:
        writer.event(1, "connect", address="AA:BB")
        writer.frame(2, INFO_UUID, b"\x01" * 20)
        for k in range(n):
            writer.frame(10 + k, DATA_UUID, bytes([k % 256]) * 24)
        writer.event(10 + n, "disconnect", reason="test")


def test_round_trip(capture_path: Path) -> None:
    _write(capture_path, 100)
    capture = read_capture(capture_path)
    assert capture.header["sensor"]["name"] == "SpineSense-ABCD"
    assert capture.protocol == "reference"
    records = list(capture.records())
    assert isinstance(records[0], EventRecord)
    assert records[0].fields == {"address": "AA:BB"}
    frames = [r for r in records if isinstance(r, FrameRecord)]
    assert len(frames) == 101
    assert frames[5].data == bytes([4]) * 24
    assert frames[5].t_ns == 14
    assert capture.stats.frames == 101
    assert capture.stats.events == 2
    assert not capture.stats.torn_last_line
    assert capture.stats.bad_lines == []
    assert is_capture(capture_path)


def test_torn_last_line_is_ignored_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "torn.jsonl"
    _write(path, 10)
    text = path.read_text()
    path.write_text(text[: len(text) - 7])  # cut inside the last line
    capture = read_capture(path)
    with caplog.at_level(logging.WARNING):
        records = list(capture.records())
    assert len(records) == 1 + 11  # connect + 11 frames; the disconnect line is torn
    assert capture.stats.torn_last_line
    assert capture.stats.bad_lines == []
    assert "torn" in caplog.text


def test_truncated_gzip_keeps_everything_flushed(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl.gz"
    writer = CaptureWriter(path, HEADER)
    for k in range(500):
        writer.frame(k, DATA_UUID, b"x" * 30)
    writer.flush()
    size_after_flush = path.stat().st_size
    writer.close()
    path.write_bytes(path.read_bytes()[:size_after_flush])  # no gzip trailer: a crash
    capture = read_capture(path)
    frames = list(capture.records())
    assert len(frames) == 500


def test_corrupt_middle_lines_are_counted_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    _write(path, 5)
    lines = path.read_text().splitlines(keepends=True)
    lines[3] = '{"t_ns": 12, "char": "x", "data": "!!notbase64"}\n'
    lines[4] = "garbage\n"
    path.write_text("".join(lines))
    capture = read_capture(path)
    records = list(capture.records())
    assert capture.stats.bad_lines == [4, 5]
    assert len(records) == 1 + 6 + 1 - 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"not json\n", "first line is not JSON"),
        (b'{"format": "other"}\n', "not a spinesense capture"),
        (b'{"format": "spinesense-capture", "version": 99}\n', "version 99"),
    ],
)
def test_not_a_capture_is_a_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(content)
    with pytest.raises(CaptureError, match=message):
        read_capture(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="no such file"):
        read_capture(tmp_path / "missing.jsonl")
    assert not is_capture(tmp_path / "missing.jsonl")


def test_writer_rejects_a_header_without_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format"):
        CaptureWriter(tmp_path / "x.jsonl", {"protocol": "reference"})


KILLED_WRITER = """
import sys, time
from spinesense.capture import CaptureWriter, make_header
writer = CaptureWriter(sys.argv[1], make_header(protocol="reference", rate_hz=200.0))
k = 0
while True:
    writer.frame(k, "data", b"abc" * 20)
    k += 1
    if k == 2000:
        print("written", flush=True)
    time.sleep(0.0005)
"""


@pytest.mark.parametrize("name", ["killed.jsonl", "killed.jsonl.gz"])
def test_a_killed_writer_keeps_everything_its_periodic_flush_wrote(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "written"
    # The writer keeps going; its periodic flush (at least once a second) puts the first 2000 on disk.
    deadline = time.monotonic() + 30
    while sum(1 for _ in read_capture(path).records()) < 2000:
        assert time.monotonic() < deadline, "the writer did not flush within 30 s"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    capture = read_capture(path)
    times = [r.t_ns for r in capture.records()]
    assert len(times) >= 2000
    assert times == list(range(len(times)))


def test_gzip_capture_is_real_gzip(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl.gz"
    _write(path, 3)
    with gzip.open(path, "rt") as handle:
        assert json.loads(handle.readline())["format"] == "spinesense-capture"


def test_gzip_capture_with_a_long_name_is_recognised(tmp_path: Path) -> None:
    # gzip keeps the file name in its header: with a long name the first inflated chunk is empty.
    path = tmp_path / ("a_long_recording_name_from_a_real_dataset_" * 3 + ".jsonl.gz")
    _write(path, 3)
    assert is_capture(path)
