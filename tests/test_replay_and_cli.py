"""Sample CSV reading, replay of captures and CSVs, and the info/replay/import commands."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import REPLAY_DATA
from spinesense import analyse
from spinesense.capture import read_capture
from spinesense.cli import main
from spinesense.cli.commands import EXIT_DATA, EXIT_OK, EXIT_USAGE
from spinesense.models import FrameRecord
from spinesense.sample_csv import SampleCsvError, read_sample_csv, write_sample_csv
from spinesense.sources.replay import RecordingError, open_recording, replay

RATE = 100.0
SHIMMER_RUN = REPLAY_DATA / "alcantara" / "shimmer_sacral_run.jsonl.gz"


def _walk_like(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE
    acc = np.column_stack([np.sin(t * 6), rng.normal(0, 0.3, n), 9.81 + 2 * np.sin(t * 12)])
    gyr = rng.normal(0, 0.5, (n, 3))
    return t, acc, gyr


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    t, acc, gyr = _walk_like(1000)
    path = tmp_path / "walk.csv"
    write_sample_csv(path, t, acc, gyr)
    return path


def test_csv_units_are_converted(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text(
        "time_s,acc_x_g,acc_y_g,acc_z_g,gyr_x_dps,gyr_y_dps,gyr_z_dps\n0,0,0,1,180,0,0\n0.01,0,0,1,0,0,0\n"
    )
    table = read_sample_csv(path)
    assert table.acc_mps2[0, 2] == pytest.approx(9.80665)
    assert table.gyr_radps is not None
    assert table.gyr_radps[0, 0] == pytest.approx(np.pi)
    assert table.rate_hz == pytest.approx(100.0)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("t,acc_x_g,acc_y_g,acc_z_g", "first column must be 'time_s'"),
        ("time_s,acc_x_g,acc_y_g", "missing column acc_z_<unit>"),
        ("time_s,acc_x_ms,acc_y_g,acc_z_g", "unknown unit 'ms'"),
        ("time_s,acc_x_g,acc_y_g,acc_z_g,gyr_x_dps", "missing column gyr_y_<unit>"),
    ],
)
def test_bad_csv_header_names_the_column(tmp_path: Path, header: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(header + "\n0,0,0,1,0\n")
    with pytest.raises(SampleCsvError, match=message):
        read_sample_csv(path)


def test_csv_bad_rows_and_torn_last_line_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "torn.csv"
    path.write_text("time_s,acc_x_g,acc_y_g,acc_z_g\n0,0,0,1\n0.01,x,0,1\n0.02,0,0,1\n0.03,0,0,1\n0.04,0,")
    table = read_sample_csv(path)
    assert table.bad_lines == [3]
    assert table.torn_last_line
    assert table.t_s.tolist() == [0.0, 0.02, 0.03]


def test_csv_replay_matches_the_csv_and_reports_gaps(tmp_path: Path) -> None:
    t, acc, gyr = _walk_like(600)
    drop = np.r_[100:130, 400:401]
    keep = np.setdiff1d(np.arange(600), drop)
    path = tmp_path / "gappy.csv.gz"
    write_sample_csv(path, t[keep], acc[keep], gyr[keep])
    recording = open_recording(path)
    blocks = list(recording.blocks())
    got_acc = np.concatenate([b.acc_mps2 for b in blocks])
    np.testing.assert_allclose(got_acc, acc[keep], atol=0.005)  # int16 at +-16 g, plus 5 decimals
    gaps = [(g.before_index, g.missing) for b in blocks for g in b.gaps]
    assert gaps == [(130, 30), (401, 1)]
    got_t = np.concatenate([b.t_s for b in blocks])
    np.testing.assert_allclose(got_t, t[keep], atol=1e-5)


def test_replay_is_deterministic_and_fast_mode_keeps_order(csv_file: Path) -> None:
    async def collect() -> list[tuple[int, str, bytes]]:
        recording = open_recording(csv_file)
        return [
            (r.t_ns, r.char, r.data)
            async for r in replay(recording, speed=None)
            if isinstance(r, FrameRecord)
        ]

    first, second = asyncio.run(collect()), asyncio.run(collect())
    assert first == second
    assert [t for t, _, _ in first] == sorted(t for t, _, _ in first)


def test_paced_replay_follows_the_recording_clock(csv_file: Path) -> None:
    # 10 s of samples at 20x real time take about 0.5 s; check they were spread out, not dumped.
    async def arrival_spread() -> float:
        recording = open_recording(csv_file)
        start = time.monotonic()
        arrivals = [time.monotonic() - start async for _ in replay(recording, speed=20.0)]
        return arrivals[-1] - arrivals[0]

    assert asyncio.run(arrival_spread()) >= 0.45


def test_replay_rejects_a_non_positive_speed(csv_file: Path) -> None:
    async def go() -> None:
        async for _ in replay(open_recording(csv_file), speed=0):
            pass

    with pytest.raises(ValueError, match="positive"):
        asyncio.run(go())


def test_open_recording_errors(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="no such file"):
        open_recording(tmp_path / "nope.csv")
    with pytest.raises(RecordingError, match="is a directory"):
        open_recording(tmp_path)
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    with pytest.raises(RecordingError, match="unknown format"):
        open_recording(other)


def test_import_then_info_round_trip(
    csv_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "walk.jsonl.gz"
    assert main(["import", str(csv_file), str(out), "--name", "test-sensor"]) == EXIT_OK
    assert read_capture(out).header["sensor"]["name"] == "test-sensor"
    capsys.readouterr()
    assert main(["info", str(out), "--json"]) == EXIT_OK
    facts = json.loads(capsys.readouterr().out)
    assert facts["samples"] == 1000
    assert facts["rate_hz"] == pytest.approx(100.0)
    assert facts["gyroscope"] is True
    assert facts["gaps"] == 0
    assert facts["duration_s"] == pytest.approx(10.0, abs=0.02)
    assert main(["import", str(csv_file), str(out)]) == EXIT_USAGE  # exists, no --force


def test_import_writes_the_start_time_it_was_given_as_utc(csv_file: Path, tmp_path: Path) -> None:
    # Read as `import FILE --start-utc` reads it (no zone is UTC), written with its zone: `Z`.
    out = tmp_path / "walk.jsonl"
    for given in ("2026-03-01T07:30", "2026-03-01T08:30:00+01:00"):
        assert main(["import", str(csv_file), str(out), "--force", "--start-utc", given]) == EXIT_OK
        assert read_capture(out).header["start_utc"] == "2026-03-01T07:30:00Z"
    assert main(["import", str(csv_file), str(tmp_path / "bad.jsonl"), "--start-utc", "soon"]) == EXIT_USAGE
    assert not (tmp_path / "bad.jsonl").exists()


def _damaged_capture(csv_file: Path, tmp_path: Path) -> Path:
    """The CSV imported, with one frame too short to decode and a torn last line."""
    out = tmp_path / "walk.jsonl"
    assert main(["import", str(csv_file), str(out)]) == EXIT_OK
    lines = out.read_text().splitlines(keepends=True)
    record = json.loads(lines[5])
    record["data"] = "AQID"  # 3 bytes: too short for a frame
    lines[5] = json.dumps(record) + "\n"
    out.write_text("".join(lines)[:-10])  # and tear the last line
    return out


def test_info_counts_corrupt_frames_and_torn_lines(
    csv_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _damaged_capture(csv_file, tmp_path)
    capsys.readouterr()
    assert main(["info", str(out), "--json"]) == EXIT_OK
    facts = json.loads(capsys.readouterr().out)
    assert facts["corrupt_frames"] == {"too_short": 1}
    assert facts["torn_last_line"] is True
    assert facts["samples"] == 1000 - 19 - 1000 % 19  # one corrupt frame and the torn last one


def test_replay_prints_one_line_per_stride(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(SHIMMER_RUN), "--fast"]) == EXIT_OK
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == len(analyse(SHIMMER_RUN).strides) >= 4
    assert all(line.startswith("stride") and "cadence" in line and "GCT" in line for line in lines)
    assert "no gyroscope" in captured.err


def test_replay_json_gives_every_stride_and_summary_the_medians(capsys: pytest.CaptureFixture[str]) -> None:
    expected = analyse(SHIMMER_RUN).strides
    assert main(["replay", str(SHIMMER_RUN), "--json"]) == EXIT_OK
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["t_start_s"] for r in rows] == [s.t_start_s for s in expected]
    assert rows[0]["gct_ms"] == expected[0].gct_ms
    assert main(["replay", str(SHIMMER_RUN), "--summary", "--json"]) == EXIT_OK
    summary = json.loads(capsys.readouterr().out)
    assert summary["strides"] == len(expected)
    assert summary["gct_ms_median"] == pytest.approx(float(np.median([s.gct_ms for s in expected])), abs=1e-3)


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["info", "missing.jsonl"], EXIT_DATA, "no such file"),
        (["replay", "missing.csv", "--fast"], EXIT_DATA, "no such file"),
        (["replay", "{csv}", "--speed", "0"], EXIT_USAGE, "--speed must be positive"),
        (["import", "{csv}", "out.txt"], EXIT_USAGE, "must end in .jsonl"),
        (["import", "{csv}", "out.jsonl", "--start-utc", "07:30 yesterday"], EXIT_USAGE, "--start-utc: "),
    ],
)
def test_cli_errors_are_one_clear_line(
    csv_file: Path, argv: list[str], code: int, message: str, tmp_path: Path
) -> None:
    argv = [a.replace("{csv}", str(csv_file)) for a in argv]
    proc = subprocess.run(
        [sys.executable, "-m", "spinesense", *argv], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert proc.returncode == code
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_unknown_option_exits_with_usage_code() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "spinesense", "replay", "x", "--bogus"], capture_output=True, check=False
    )
    assert proc.returncode == EXIT_USAGE


def test_json_logs_are_one_json_object_per_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "spinesense", "--log-format", "json", "replay", str(SHIMMER_RUN), "--summary"],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = proc.stderr.splitlines()
    assert lines
    entries = [json.loads(line) for line in lines]
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert any("no gyroscope" in e["message"] for e in entries)


def test_a_run_reports_the_corrupt_frames_it_skipped(csv_file: Path, tmp_path: Path) -> None:
    out = _damaged_capture(csv_file, tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "spinesense", "run", "--replay", str(out), "--speed", "100", "--no-record"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == EXIT_OK, proc.stderr
    assert "(19 lost, 1 corrupt frames skipped)" in proc.stderr  # the frame's 19 samples are a gap
