"""A full disk, a file-size limit or a read-only data directory costs the capture (and the outbox's
durability), never the run: alerts keep flowing, and it is said once (issue 17: 2).

The faults are real: a 64 KiB tmpfs (ENOSPC), RLIMIT_FSIZE on the process (EFBIG), a read-only tmpfs
(EROFS, which stops root too; chmod would not). Mounting needs root: elsewhere those tests skip.
"""

from __future__ import annotations

import asyncio
import json
import resource
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from fixtures_blesession import Link, ScriptedSensor
from spinesense.capture import CaptureWriter, make_header, read_capture
from spinesense.publish.outbox import Message, Outbox
from spinesense.record import record_to
from spinesense.sources.ble import LinkOptions, SensorLink
from spinesense.testing import Listener, Mosquitto
from test_service import _leaning_run

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

pytestmark = pytest.mark.slow  # end to end (whole runs, real faults): `scripts/test --quick` skips it

MOUNT, UMOUNT = shutil.which("mount"), shutil.which("umount")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount tmpfs file systems for the test (``mount_with("size=64k")``), unmounted afterwards."""
    mounted: list[Path] = []

    def mount_with(options: str) -> Path:
        if MOUNT is None or UMOUNT is None:
            pytest.skip("no mount command here")
        where = tmp_path / f"disk{len(mounted)}"
        where.mkdir()
        done = subprocess.run(
            [MOUNT, "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, check=False
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(where)
        return where

    yield mount_with
    for where in reversed(mounted):
        subprocess.run([str(UMOUNT), str(where)], check=True)


def _alerts_keep_flowing(
    mosquitto: Mosquitto, tmp_path: Path, data_dir: Path, preexec: Callable[[], None] | None = None
) -> str:
    """Replay the leaning run into Mosquitto with recording on; check it succeeds and a dashboard got its
    one alert; return its stderr."""
    capture, config = _leaning_run(mosquitto, tmp_path)
    config.write_text(config.read_text().replace("record = false", "record = true"))
    alerts: list[str] = []

    async def replay() -> subprocess.CompletedProcess[str]:
        async with Listener(mosquitto.settings, "spinesense/v1/lea/#") as dashboard:
            args = [
                "run",
                "--replay",
                str(capture),
                "--speed",
                "1000",
                "--config",
                str(config),
                "--data-dir",
                str(data_dir),
            ]
            done = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "spinesense", *args],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
                preexec_fn=preexec,
            )
            await dashboard.wait_for(lambda got: any(b'"ended"' in m.payload for m in got))
            alerts.extend(
                json.loads(m.payload)["kind"] for m in dashboard.messages if str(m.topic).endswith("/alert")
            )
        return done

    done = asyncio.run(replay())
    assert done.returncode == 0, done.stderr
    assert alerts == ["forward_lean"]
    assert "Traceback" not in done.stderr
    return done.stderr


def test_a_full_disk_costs_the_capture_not_the_alerts(
    mosquitto: Mosquitto, tmp_path: Path, small_disk: Callable[[str], Path]
) -> None:
    data_dir = small_disk("size=64k")
    stderr = _alerts_keep_flowing(mosquitto, tmp_path, data_dir)
    assert stderr.count("No space left on device") == 2  # said once, and once more in the closing line
    assert "the run goes on without a capture" in stderr
    capture = next(data_dir.glob("run-*.jsonl.gz"))
    assert sum(1 for _ in read_capture(capture).records()) > 0  # what was flushed before stays readable


def test_a_file_size_limit_costs_the_capture_and_the_outbox_not_the_alerts(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    limit = 48 * 1024

    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    stderr = _alerts_keep_flowing(mosquitto, tmp_path, tmp_path / "data", limit_files)
    assert "File too large" in stderr
    assert "the run goes on without a capture" in stderr


def test_a_read_only_data_dir_costs_the_capture_and_the_outbox_not_the_alerts(
    mosquitto: Mosquitto, tmp_path: Path, small_disk: Callable[[str], Path]
) -> None:
    data_dir = small_disk("ro,size=64k")
    stderr = _alerts_keep_flowing(mosquitto, tmp_path, data_dir)
    assert "this run goes on without a capture" in stderr
    assert "kept in memory only" in stderr


def test_an_outbox_on_a_full_disk_goes_on_in_memory(
    tmp_path: Path, small_disk: Callable[[str], Path], caplog: pytest.LogCaptureFixture
) -> None:
    disk = small_disk("size=64k")
    outbox = Outbox(directory=disk / "outbox")
    big = b"x" * 16 * 1024
    for n in range(8):  # 128 KiB of alerts into a 64 KiB disk
        outbox.put(Message("alert", big + bytes([n])))
    assert len(outbox) == 8  # nothing refused, nothing lost
    assert not outbox.durable
    assert caplog.text.count("kept in memory only") == 1
    payloads = []
    while (m := outbox.peek()) is not None:
        payloads.append(m.payload[-1])
        outbox.ack(m)
    assert payloads == list(range(8))


def test_a_capture_on_a_full_disk_keeps_what_was_flushed(
    tmp_path: Path, small_disk: Callable[[str], Path]
) -> None:
    disk = small_disk("size=16k")
    header = make_header(protocol="reference", rate_hz=200.0)
    with CaptureWriter(disk / "c.jsonl", header) as writer:
        for n in range(2000):
            writer.event(n, "note", text="x" * 50)
    assert writer.failure is not None
    assert writer.lost > 0
    assert writer.records + writer.lost == 2001  # the header and every event: written or counted lost
    kept = list(read_capture(disk / "c.jsonl").records())
    assert len(kept) >= writer.records - 2  # at most the torn last line is not whole


async def test_record_into_an_unwritable_file_is_a_clear_failure(tmp_path: Path) -> None:
    sensor = ScriptedSensor([Link(frames=50)])
    link = SensorLink(None, backend=sensor.backend(), options=LinkOptions(scan_timeout_s=0.3))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(FileExistsError, match="a-file"):  # the cli: one line, exit code 1
        await record_to(blocker / "run.jsonl.gz", link, asyncio.Event(), duration_s=30)
