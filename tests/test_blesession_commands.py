"""scan and record: one clear error without Bluetooth, and captures that replay what the link received."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from fixtures_blesession import Link, ScriptedSensor
from spinesense.capture import read_capture
from spinesense.models import FrameRecord
from spinesense.record import record_to
from spinesense.sensors import reference
from spinesense.sources.ble import LinkGaveUpError, LinkOptions, SensorLink
from spinesense.sources.replay import open_recording

if TYPE_CHECKING:
    from pathlib import Path


def spinesense(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spinesense", *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    "args",
    [
        ("scan", "--timeout", "0.5"),
        ("record", "--scan-timeout", "0.5", "--max-attempts", "1"),
        ("run", "--scan-timeout", "0.5", "--no-record"),
    ],
)
def test_without_bluetooth_one_line_and_exit_code_3(args: tuple[str, ...], tmp_path: Path) -> None:
    # This machine and CI have no usable Bluetooth (no D-Bus, or no BlueZ, or no sensor in range):
    # every case must end in exit code 3 with one line on stderr and no traceback.
    out = tmp_path / "run.jsonl"
    result = spinesense(*args, *([str(out)] if args[0] == "record" else []))
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"spinesense {args[0]}: ")
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_bad_options_are_usage_errors(tmp_path: Path) -> None:
    result = spinesense("record", "--duration", "0", str(tmp_path / "x.jsonl"))
    assert result.returncode == 2
    assert "--duration must be positive" in result.stderr


async def test_record_writes_what_the_link_received_and_replays_with_the_exact_gap(tmp_path: Path) -> None:
    sensor = ScriptedSensor([Link(frames=30, lost_after=3), Link(frames=30)])
    options = LinkOptions(scan_timeout_s=0.3, watchdog_s=0.5, max_attempts=1)

    async def no_sleep(_s: float) -> None:
        return None

    link = SensorLink(None, backend=sensor.backend(), options=options, sleep=no_sleep)
    path = tmp_path / "run.jsonl.gz"
    with pytest.raises(LinkGaveUpError):
        await record_to(path, link, asyncio.Event(), duration_s=30)
    capture = read_capture(path)
    assert capture.header["protocol"] == "reference"
    assert capture.header["sensor"]["name"] == sensor.name
    frames = [
        r.data for r in capture.records() if isinstance(r, FrameRecord) and r.char == reference.DATA_UUID
    ]
    assert frames == sensor.frames[:30] + sensor.frames[33:63]
    recording = open_recording(path)
    decoder = recording.decoder()
    blocks = list(recording.blocks(decoder))
    assert sum(len(b) for b in blocks) == 60 * 19
    assert [(g.missing, g.exact) for b in blocks for g in b.gaps] == [(3 * 19, True)]
    names = [getattr(r, "event", None) for r in capture.records()]
    assert names.count("connect") == 2


async def test_stop_closes_the_capture_cleanly(tmp_path: Path) -> None:
    sensor = ScriptedSensor([Link(frames=5000)])
    link = SensorLink(None, backend=sensor.backend(), options=LinkOptions(scan_timeout_s=0.3))
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.5, stop.set)
    path = tmp_path / "run.jsonl.gz"
    report = await record_to(path, link, stop, duration_s=30)
    assert report.frames > 0
    capture = read_capture(path)
    records = list(capture.records())
    assert not capture.stats.torn_last_line
    assert (
        sum(1 for r in records if getattr(r, "char", None) == reference.DATA_UUID) == report.frames - 1
    )  # + info
