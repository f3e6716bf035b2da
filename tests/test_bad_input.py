"""Every reader tolerant and bounded (issue 17: 3, 5, 6): damaged gzip captures give what comes before
the damage and say what was lost; over-long lines, deep JSON, impossible times and rates are clear
errors or skipped lines; FIFOs are refused; a clock jump is reported and never slept on; a CSV whose time
goes back or runs at no IMU's rate is refused with the line. No traceback ever reaches the user."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from conftest import REPLAY_DATA
from spinesense.capture import CaptureError, CaptureWriter, make_header, read_capture
from spinesense.sample_csv import SampleCsvError, read_sample_csv
from spinesense.sensors.reference import DATA_UUID, INFO_UUID, FrameError, SensorInfo, encode_samples
from spinesense.sources.replay import open_recording, replay

if TYPE_CHECKING:
    from pathlib import Path

SHIMMER_RUN = REPLAY_DATA / "alcantara" / "shimmer_sacral_run.jsonl.gz"


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spinesense", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _big_capture(path: Path, frames: int = 4000) -> int:
    """A gzip capture well over 64 KiB (incompressible enough); returns how many frame records it holds."""
    info = SensorInfo(sample_rate_hz=200.0)
    rng = __import__("numpy").random.default_rng(7)
    acc = rng.normal(0, 20, (frames * 19, 3))
    with CaptureWriter(path, make_header(protocol="reference", rate_hz=200.0)) as writer:
        writer.frame(0, INFO_UUID, info.to_bytes())
        for n, frame in enumerate(encode_samples(acc, None, info, first_sample_index=0, t_first_us=0)):
            writer.frame((n + 1) * 95_000_000, DATA_UUID, frame)
    return frames + 1


@pytest.mark.parametrize("where", [0.3, 0.6, 0.9])
def test_a_damaged_gzip_capture_yields_what_comes_before_and_counts_the_rest(
    tmp_path: Path, where: float
) -> None:
    path = tmp_path / "big.jsonl.gz"
    total = _big_capture(path)
    data = bytearray(path.read_bytes())
    assert len(data) > 64 * 1024
    at = int(len(data) * where)
    data[at : at + 8] = b"\xff" * 8  # a burst of damage inside the deflate stream
    path.write_bytes(bytes(data))
    capture = read_capture(path)
    records = list(capture.records())
    assert 0 < len(records) < total
    assert len(records) > total * where * 0.8  # everything before the damage (a few lines may go with it)
    assert "gzip stream damaged" in capture.stats.damage
    assert 0 < capture.stats.lost_bytes <= len(data) - at + 1024
    done = _cli("info", str(path), "--json")
    assert done.returncode == 0, done.stderr
    assert "gzip stream damaged" in json.loads(done.stdout)["damage"]


def test_bytes_after_the_gzip_stream_are_counted_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "tail.jsonl.gz"
    path.write_bytes(SHIMMER_RUN.read_bytes() + b"garbage after the end")
    capture = read_capture(path)
    assert len(list(capture.records())) == len(list(read_capture(SHIMMER_RUN).records()))
    assert "after the end of the gzip stream" in capture.stats.damage
    assert capture.stats.lost_bytes == len(b"garbage after the end")


def test_a_small_damaged_gzip_is_not_refused_whole(tmp_path: Path) -> None:
    text = (SHIMMER_RUN.read_bytes(), gzip.decompress(SHIMMER_RUN.read_bytes()))[1]
    small = gzip.compress(text[:30_000])
    damaged = small[: len(small) // 2] + b"\x00" * 16 + small[len(small) // 2 + 16 :]
    path = tmp_path / "small.jsonl.gz"
    path.write_bytes(damaged)
    capture = read_capture(path)  # the header survives, so the capture opens
    assert len(list(capture.records())) > 10
    assert capture.stats.damage


def _capture_with_lines(path: Path, *lines: str) -> None:
    header = json.dumps(make_header(protocol="reference", rate_hz=200.0))
    path.write_text("\n".join([header, *lines]) + "\n")


def test_impossible_times_and_deep_json_are_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    good = '{"t_ns": 5, "event": "note", "text": "fine"}'
    deep = "[" * 100_000 + "]" * 100_000
    _capture_with_lines(
        path,
        '{"t_ns": Infinity, "event": "note"}',
        '{"t_ns": NaN, "event": "note"}',
        '{"t_ns": 1e300, "event": "note"}',
        '{"t_ns": true, "event": "note"}',
        deep,
        good,
    )
    capture = read_capture(path)
    assert [r.t_ns for r in capture.records()] == [5]
    assert capture.stats.bad_lines == [2, 3, 4, 5, 6]


def test_a_line_over_the_limit_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    _capture_with_lines(
        path, '{"t_ns": 1, "event": "note", "x": "' + "a" * 3_000_000 + '"}', '{"t_ns": 2, "event": "n"}'
    )
    capture = read_capture(path)
    assert [r.t_ns for r in capture.records()] == [2]
    assert capture.stats.long_lines == 1


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ({"sensor": "a string"}, "'sensor'"),
        ({"runner": [1]}, "'runner'"),
        ({"protocol": 5}, "'protocol'"),
        ({"rate_hz": "fast"}, "'rate_hz'"),
        ({"rate_hz": -1}, "'rate_hz'"),
    ],
)
def test_a_header_with_wrong_types_is_refused_naming_the_field(
    tmp_path: Path, header: dict[str, object], field: str
) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text(json.dumps({**make_header(protocol="reference", rate_hz=200.0), **header}) + "\n")
    with pytest.raises(CaptureError, match=field):
        read_capture(path)


def test_a_deep_json_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(CaptureError, match="not JSON"):
        read_capture(path)


def test_an_absurd_sample_rate_is_a_corrupt_info_frame() -> None:
    with pytest.raises(FrameError, match="rate"):
        SensorInfo.from_bytes(SensorInfo(sample_rate_hz=1e-30).to_bytes())


def test_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    for command in ("info", "replay", "alerts", "report"):
        done = _cli(command, str(fifo), timeout=30)  # a hang would be a TimeoutExpired
        assert done.returncode == 1, done.stderr
        assert "not a regular file" in done.stderr


def test_a_host_clock_jump_is_reported_and_never_slept_on(tmp_path: Path) -> None:
    path = tmp_path / "jump.jsonl.gz"
    records = list(read_capture(SHIMMER_RUN).records())
    header = read_capture(SHIMMER_RUN).header
    with CaptureWriter(path, header) as writer:
        for n, record in enumerate(records):
            flipped = record.t_ns + (10**17 if n == 100 else 0)  # one flipped digit: 3.2 years ahead
            writer.write(type(record)(flipped, *[getattr(record, f) for f in record.__slots__[1:]]))
    recording = open_recording(path)

    async def paced() -> int:
        async with asyncio.timeout(60):  # 10 s of sensor time at 10x; a sleep on the jump would be years
            return sum([1 async for _ in replay(recording, speed=10.0)])

    assert asyncio.run(paced()) == len(records)
    assert recording.host_jumps == 2  # there and back
    done = _cli("info", str(path))
    assert "clock jumps   2" in done.stdout


def _csv(path: Path, rows: list[str], header: str = "time_s,acc_x_g,acc_y_g,acc_z_g") -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_a_csv_whose_time_goes_back_is_refused_with_the_line(tmp_path: Path) -> None:
    rows = [f"{i * 0.01:.2f},0,0,1" for i in range(300)]
    rows.insert(200, "0.50,0,0,1")  # one second back, at line 202
    path = _csv(tmp_path / "back.csv", rows)
    with pytest.raises(SampleCsvError, match=r"line 202: time_s goes back"):
        read_sample_csv(path)
    assert read_sample_csv(path, sort_time=True).t_s.size == 301
    done = _cli("import", "--sort-time", str(path), str(tmp_path / "sorted.jsonl"))
    assert done.returncode == 0, done.stderr


def test_a_csv_in_milliseconds_is_refused_unless_said(tmp_path: Path) -> None:
    path = _csv(tmp_path / "ms.csv", [f"{i * 1.95:.2f},0,0,1" for i in range(600)])  # 513 Hz in ms
    with pytest.raises(SampleCsvError, match=r"0\.51\d* Hz.*--time-unit ms"):
        read_sample_csv(path)
    assert read_sample_csv(path, time_unit="ms").rate_hz == pytest.approx(512.8, abs=0.1)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["0,0,0,1"], "fewer than two samples"),
        (["0,0,0,1", "1e300,0,0,1"], "line 3: time_s 1e\\+300 is not a time"),
    ],
)
def test_import_refuses_unusable_csvs_in_one_line(tmp_path: Path, rows: list[str], message: str) -> None:
    path = _csv(tmp_path / "bad.csv", rows)
    done = _cli("import", str(path), str(tmp_path / "out.jsonl"))
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1
    assert __import__("re").search(message, done.stderr), done.stderr


def test_unwritable_outputs_are_one_line_errors(tmp_path: Path) -> None:
    csv = _csv(tmp_path / "ok.csv", [f"{i * 0.01:.2f},0,0,1" for i in range(300)])
    missing = csv / "not-a-dir"  # under a file: no folder can be made there
    done = _cli("import", str(csv), str(missing / "out.jsonl"))
    assert (done.returncode, "Traceback" in done.stderr) == (1, False), done.stderr
    done = _cli("report", str(SHIMMER_RUN), "-o", str(missing / "r.html"))
    assert (done.returncode, "Traceback" in done.stderr) == (1, False), done.stderr


def test_bad_input_under_json_logs_is_one_json_line(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text(json.dumps({**make_header(protocol="reference", rate_hz=200.0), "sensor": "x"}) + "\n")
    done = _cli("--log-format", "json", "info", str(path))
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    record = json.loads(line)
    assert record["exit_code"] == 1
    assert "'sensor'" in record["message"]
