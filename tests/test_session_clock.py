"""One clock for every ``time_ms``: the sensor clock mapped to UTC once, from the first samples' host
receive time; a replay is stamped with the recording's own time at any speed."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import pytest

from conftest import REPLAY_DATA
from spinesense.alerts import AlertConfig, AlertEngine
from spinesense.models import FrameRecord, SampleBlock
from spinesense.publish import SessionClock
from spinesense.run import Run, Started
from spinesense.sources.replay import open_recording
from spinesense.testing import Listener, Mosquitto
from spinesense.utc import header_start
from test_service import _payloads, _run_to_the_end, _validate_against_docs

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

RUNNER = REPLAY_DATA / "fukuchi" / "RBDS032.jsonl.gz"


@pytest.mark.slow  # a whole run end to end: `scripts/test --quick` skips it
async def test_a_fast_replay_is_stamped_with_the_recordings_own_time(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    recording = open_recording(RUNNER)
    # Its receive times count from the header's start (2026-01-01T00:00:00Z).
    start_ms = datetime.fromisoformat(recording.header["start_utc"]).timestamp() * 1000
    first = next(recording.blocks())
    assert first.host_t_ns is not None
    # The frame carrying the first samples arrived at host_t_ns: its last sample is put there.
    first_ms = start_ms + first.host_t_ns / 1e6
    offset_ms = first_ms - float(first.t_s[-1]) * 1000
    last_frame_ms = start_ms + max(r.t_ns for r in recording.records() if isinstance(r, FrameRecord)) / 1e6
    async with Listener(mosquitto.settings, "spinesense/v1/clock/#") as listener:
        await _run_to_the_end(
            listener, "run", "--replay", str(RUNNER), "--speed", "40", "--runner", "clock",
            "--broker", f"mqtt://127.0.0.1:{mosquitto.port}", "--data-dir", str(tmp_path), "--no-record",
        )  # fmt: skip
    got = listener.messages
    assert _validate_against_docs(got) > 30
    strides = [json.loads(p) for p in _payloads(got, "stride")]
    assert len(strides) > 30
    for stride in strides:
        assert abs(stride["time_ms"] - (offset_ms + stride["t_start_s"] * 1000)) <= 1
    started, ended = (json.loads(p) for p in _payloads(got, "session"))
    assert abs(started["time_ms"] - first_ms) <= 1  # the first samples' receive time
    # The session ends after its last stride, at the recording's end: not 36 s of replay later.
    assert strides[-1]["time_ms"] < ended["time_ms"] <= last_frame_ms + 1
    for leaf in ("active", "baseline", "summary"):
        for payload in _payloads(got, leaf):
            assert started["time_ms"] <= json.loads(payload)["time_ms"] <= ended["time_ms"]


def test_a_live_stream_maps_the_first_samples_to_their_receive_time_not_to_processing_time() -> None:
    # One notification of 19 samples at 200 Hz, its last sample received at a known host time: the first
    # sample was taken 90 ms before that, whenever the block happens to be processed.
    received_ns = 1_800_000_000_123_000_000
    t = 5.0 + np.arange(19) / 200.0
    run = Run(None, AlertEngine(AlertConfig.default()))
    started = run.feed(SampleBlock(t, np.zeros((19, 3)), None, 0, 200.0, host_t_ns=received_ns))[0]
    assert isinstance(started, Started)
    clock = SessionClock()
    clock.start(started.received_t_s, started.host_t_ns)
    assert clock.ms(float(t[-1])) == received_ns // 1_000_000
    assert clock.ms(float(t[0])) == received_ns // 1_000_000 - 90
    clock.start(float(t[-1]) + 1, received_ns + 10**10)
    assert clock.ms(float(t[0])) == received_ns // 1_000_000 - 90  # mapped once: later calls do not move it


@pytest.fixture
def local_time_not_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process's local time 5 h behind UTC (POSIX TZ, no tz database needed), restored after."""
    with monkeypatch.context() as patch:
        patch.setenv("TZ", "EST5")
        time.tzset()
        yield
    time.tzset()


@pytest.mark.usefixtures("local_time_not_utc")
def test_a_header_time_without_a_zone_is_utc_on_mqtt_as_in_the_store() -> None:
    # The field is named start_utc: a time without a zone is UTC, never the machine's local time, for the
    # clock that stamps MQTT's time_ms as for the store that dates the run.
    header = {"start_utc": "2026-01-01T07:30:00"}
    start = datetime(2026, 1, 1, 7, 30, tzinfo=UTC)
    assert time.timezone == 5 * 3600  # local time is not UTC here
    assert SessionClock.for_header(header).start_ms == start.timestamp() * 1000
    assert header_start(header) == start
    assert (
        SessionClock.for_header({"start_utc": "2026-01-01T08:30:00+01:00"}).start_ms
        == start.timestamp() * 1000
    )
    assert SessionClock.for_header({"start_utc": "not a time"}).start_ms is None
