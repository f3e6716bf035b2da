"""The service end to end, as a user runs it: `spinesense demo` and `spinesense run --replay` as
subprocesses publishing to a real Mosquitto, checked by a subscriber; SIGTERM mid-run."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

import aiomqtt
import jsonschema
import pytest
from scipy.spatial.transform import Rotation

from conftest import REPLAY_DATA, REPO_ROOT
from fixtures_mqtt import collect
from spinesense import analyse
from spinesense.capture import CaptureWriter, read_capture
from spinesense.models import EventRecord, FrameRecord
from spinesense.publish.broker import free_port
from spinesense.sample_csv import SampleTable
from spinesense.sources.replay import csv_records
from spinesense.testing import Listener, Mosquitto
from test_alerts import _altered, _long_run

if TYPE_CHECKING:
    from pathlib import Path


pytestmark = pytest.mark.slow  # end to end: `scripts/test --quick` skips it

SHIMMER_RUN = REPLAY_DATA / "alcantara" / "shimmer_sacral_run.jsonl.gz"


def _spinesense(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "spinesense", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _payloads(messages: list[aiomqtt.Message], leaf: str) -> list[bytes]:
    return [m.payload for m in messages if str(m.topic).endswith("/" + leaf)]


SCHEMAS = {
    leaf: json.loads((REPO_ROOT / "docs" / "schemas" / f"{name}.schema.json").read_text())
    for leaf, name in [
        ("stride", "stride"),
        ("alert", "alert"),
        ("active", "alerts-active"),
        ("summary", "summary"),
        ("session", "session"),
        ("notice", "notice"),
        ("load", "load"),
        ("baseline", "baseline"),
    ]
}


def _validate_against_docs(messages: list[aiomqtt.Message]) -> int:
    """Every JSON payload matches its schema in docs/schemas/; returns how many were checked."""
    checked = 0
    for message in messages:
        leaf = str(message.topic).rsplit("/", 1)[-1]
        if leaf in SCHEMAS:
            jsonschema.validate(json.loads(message.payload), SCHEMAS[leaf])
            checked += 1
    return checked


def _wait_for_a_stride(proc: subprocess.Popen[str]) -> None:
    """Read the process's output up to its first stride line (the lines before it say what is set up)."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("stride"):
            return
    raise AssertionError("the output ended before the first stride")


def _went_offline(messages: list[aiomqtt.Message]) -> bool:
    """The service said ``offline``: its last message, after the session end (one client's are in order)."""
    return _payloads(messages, "status")[-1:] == [b"offline"]


async def _run_to_the_end(listener: Listener, *args: str) -> tuple[str, str]:
    """Run spinesense to completion; wait until the subscriber saw it go offline; return its output."""
    proc = await asyncio.to_thread(_spinesense, *args)
    out, err = await asyncio.to_thread(proc.communicate, timeout=120)
    assert proc.returncode == 0, err
    await listener.wait_for(_went_offline)
    return out, err


async def test_demo_publishes_status_strides_and_the_session_summary(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    async with Listener(mosquitto.settings, "spinesense/v1/demo/#") as listener:
        broker = f"mqtt://127.0.0.1:{mosquitto.port}"
        out, err = await _run_to_the_end(
            listener,
            "demo",
            "--duration",
            "14",
            "--speed",
            "8",
            "--broker",
            broker,
            "--data-dir",
            str(tmp_path),
        )
    # The page's address comes first (the demo serves its cockpit by default), then where it publishes.
    first, *later = err.splitlines()
    assert first.startswith("cockpit: open http://127.0.0.1:"), err
    assert any(line.startswith(f"publishing to {broker}") for line in later), err
    got = listener.messages
    printed = [line for line in out.splitlines() if line.startswith("stride")]
    assert len(printed) >= 8
    strides = [json.loads(p) for p in _payloads(got, "stride")]
    assert len(strides) == len(printed)
    assert strides[0]["cadence_spm"] > 140
    status = _payloads(got, "status")
    assert status[0] == b"online"
    assert status[-1] == b"offline"
    sessions = [json.loads(p) for p in _payloads(got, "session")]
    assert sessions[0]["state"] == "started"
    assert sessions[-1]["state"] == "ended"
    assert sessions[-1]["summary"]["strides"] == len(printed)
    assert _validate_against_docs(got) >= len(printed) + 2
    capture = next(iter(tmp_path.glob("run-*.jsonl.gz")))  # noqa: ASYNC240 - a tiny folder
    records = list(read_capture(capture).records())
    assert sum(isinstance(r, FrameRecord) for r in records) > 100
    # It came over BLE: the session connected to the virtual sensor through bleak, with a 247-byte MTU.
    connects = [r for r in records if isinstance(r, EventRecord) and r.event == "connect"]
    assert [(c.fields["sensor_name"], c.fields["mtu"]) for c in connects] == [("SpineSense-E1A0", 247)]


def _leaning_capture(path: Path) -> None:
    tilt = Rotation.from_euler("y", 12, degrees=True).as_matrix()
    block = _altered(_long_run(), 45.0, lambda a: a @ tilt.T)
    with CaptureWriter(
        path, {"format": "spinesense-capture", "version": 1, "protocol": "reference"}
    ) as writer:
        for record in csv_records(SampleTable(block.t_s, block.acc_mps2, None)):
            writer.frame(record.t_ns, record.char, record.data)


def _leaning_run(mosquitto: Mosquitto, tmp_path: Path) -> tuple[Path, Path]:
    """A capture whose runner leans 12 degrees forward from 45 s, and a config that alerts on it soon."""
    capture = tmp_path / "leaning.jsonl"
    _leaning_capture(capture)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[runner]\nid = "lea"\n[broker]\nurl = "mqtt://127.0.0.1:{mosquitto.port}"\n[data]\nrecord = false\n'
        "[thresholds]\nwarmup_s = 5.0\nbaseline_s = 15.0\n"
    )
    return capture, config


async def test_run_publishes_each_alert_once_active_from_the_start_until_the_end(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    capture, config = await asyncio.to_thread(_leaning_run, mosquitto, tmp_path)
    async with Listener(mosquitto.settings, "spinesense/v1/lea/#") as listener:
        await _run_to_the_end(
            listener, "run", "--replay", str(capture), "--speed", "100", "--config", str(config)
        )
    alerts = [json.loads(p) for p in _payloads(listener.messages, "alert")]
    assert [(a["kind"], a["state"]) for a in alerts] == [("forward_lean", "raised")]
    assert "run tall" in alerts[0]["message"]
    assert _validate_against_docs(listener.messages) > 10
    # alerts/active: empty (not unknown) from the session's start, the alert while it lasts, and empty
    # again once the run is over (nothing stays "active" on a dashboard after the run).
    active = [[a["kind"] for a in json.loads(p)["alerts"]] for p in _payloads(listener.messages, "active")]
    assert active == [[], ["forward_lean"], []]
    # The baseline state, retained: learning from the start (20 s to go), then the values learned.
    baseline = [json.loads(p) for p in _payloads(listener.messages, "baseline")]
    assert (baseline[0]["state"], baseline[0]["seconds_left"]) == ("learning", 20.0)
    assert baseline[-1]["state"] == "learned"
    assert baseline[-1]["values"]["cadence_spm"] > 140


def test_sigterm_mid_run_leaves_a_readable_capture_and_offline(mosquitto: Mosquitto, tmp_path: Path) -> None:
    broker = f"mqtt://127.0.0.1:{mosquitto.port}"
    proc = _spinesense(
        "demo", "--duration", "120", "--speed", "4", "--broker", broker, "--data-dir", str(tmp_path)
    )
    _wait_for_a_stride(proc)  # running for real
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    capture = next(iter(tmp_path.glob("run-*.jsonl.gz")))
    assert len(list(read_capture(capture).records())) > 50  # all it received up to the first stride at least
    status = asyncio.run(collect(mosquitto.settings, "spinesense/v1/demo/status", until=1, wait_s=5))
    assert status[0].payload == b"offline"
    session = asyncio.run(collect(mosquitto.settings, "spinesense/v1/demo/session", until=1, wait_s=5))
    assert json.loads(session[0].payload)["state"] == "ended"


def test_a_dead_broker_stalls_nothing_and_its_messages_wait_for_the_next_run(
    mosquitto: Mosquitto, tmp_path: Path, short_flush: Path
) -> None:
    dead = f"mqtt://127.0.0.1:{free_port()}"  # nothing listens there
    common = ("--runner", "dee", "--data-dir", str(tmp_path), "--no-record", "--speed", "50")
    first = _spinesense(
        "run", "--replay", str(SHIMMER_RUN), "--broker", dead, "--config", str(short_flush), *common
    )
    out, err = first.communicate(timeout=120)
    assert first.returncode == 3, err  # docs/cli.md: a broker unreachable is exit code 3
    strides = [line for line in out.splitlines() if line.startswith("stride")]
    assert len(strides) == len(analyse(SHIMMER_RUN).strides)  # the sensor side went on regardless
    assert "messages not delivered (kept in" in err
    # The next run, with the broker back, delivers what the first could not: both sessions end.
    sessions: list[str] = []

    async def next_run() -> None:
        async with Listener(mosquitto.settings, "spinesense/v1/dee/#") as listener:
            broker = f"mqtt://127.0.0.1:{mosquitto.port}"
            await _run_to_the_end(listener, "run", "--replay", str(SHIMMER_RUN), "--broker", broker, *common)
            sessions.extend(json.loads(p)["state"] for p in _payloads(listener.messages, "session"))

    asyncio.run(next_run())
    assert sessions == ["started", "ended", "started", "ended"]


def test_a_second_signal_stops_at_once_and_leaves_a_readable_capture(tmp_path: Path) -> None:
    dead = f"mqtt://127.0.0.1:{free_port()}"  # the graceful stop would wait for this broker
    proc = _spinesense(
        "demo", "--duration", "120", "--speed", "4", "--broker", dead, "--data-dir", str(tmp_path)
    )
    _wait_for_a_stride(proc)
    proc.send_signal(signal.SIGINT)
    assert proc.stderr is not None
    while "stopping (again to stop at once)" not in (line := proc.stderr.readline()):  # the first is in
        assert line, "the first signal was not acknowledged"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "stopped at once" in err
    capture = read_capture(next(iter(tmp_path.glob("run-*.jsonl.gz"))))
    assert len(list(capture.records())) > 20
    assert capture.stats.bad_lines == []  # closed before the exit: every line whole
    assert not capture.stats.torn_last_line


def _saved_state(mosquitto: Mosquitto) -> tuple[int, int] | None:
    """Identity of the broker's persistence file (rewritten and renamed on every save), or None."""
    try:
        stat = (mosquitto.workdir / "mosquitto.db").stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


async def _saved(mosquitto: Mosquitto) -> None:
    """Wait for the broker's next save of its persistence file (SIGUSR1 asks for one now)."""
    before = _saved_state(mosquitto)
    assert mosquitto.process is not None
    mosquitto.process.send_signal(signal.SIGUSR1)
    async with asyncio.timeout(30):
        while _saved_state(mosquitto) == before:  # noqa: ASYNC110 - a file the broker writes
            await asyncio.sleep(0.05)


def _unbuffered(*args: str) -> subprocess.Popen[bytes]:
    """spinesense with its stdout read unbuffered: every line read is exactly what it wrote so far."""
    return subprocess.Popen(
        [sys.executable, "-m", "spinesense", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0
    )


def _printed_so_far(proc: subprocess.Popen[bytes]) -> bytes:
    """What a stopped process has written to its stdout pipe and we have not read yet."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    os.set_blocking(fd, False)
    chunks = []
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    os.set_blocking(fd, True)
    return b"".join(chunks)


async def test_a_broker_killed_and_restarted_mid_replay_loses_no_alert(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    capture, config = await asyncio.to_thread(_leaning_run, mosquitto, tmp_path)
    received: list[tuple[str, bytes]] = []
    subscribed, ended = asyncio.Event(), asyncio.Event()

    async def coach() -> None:  # a dashboard with a persistent session, reconnecting like a real one
        while not ended.is_set():
            try:
                async with aiomqtt.Client(
                    "127.0.0.1", mosquitto.port, identifier="coach", clean_session=False
                ) as client:
                    await client.subscribe("spinesense/v1/lea/#", qos=1)
                    subscribed.set()
                    async for message in client.messages:
                        received.append((str(message.topic), message.payload))
                        if b'"ended"' in message.payload:
                            ended.set()
                            return
            except aiomqtt.MqttError:
                await asyncio.sleep(0.2)

    watcher = asyncio.create_task(coach())
    async with asyncio.timeout(10):
        await subscribed.wait()
    await _saved(mosquitto)  # the coach's session survives the kill
    proc = await asyncio.to_thread(
        _unbuffered, "run", "--replay", str(capture), "--speed", "10", "--config", str(config)
    )
    assert proc.stdout is not None
    async with asyncio.timeout(120):
        while not (line := await asyncio.to_thread(proc.stdout.readline)).startswith(b"stride"):
            assert line, "the output ended before the first stride"  # the lines before say what is set up
        # Freeze the service (and wait until it is stopped) while the broker dies: kill -9, no clean shutdown.
        proc.send_signal(signal.SIGSTOP)
        await asyncio.to_thread(os.waitpid, proc.pid, os.WUNTRACED)
        assert mosquitto.process is not None
        mosquitto.process.kill()
        await asyncio.to_thread(mosquitto.process.wait)
        assert b"ALERT" not in _printed_so_far(proc)  # so the alert comes while the broker is away
        proc.send_signal(signal.SIGCONT)
        while not (line := await asyncio.to_thread(proc.stdout.readline)).startswith(b"ALERT"):
            assert line, "no alert was raised"
        await asyncio.to_thread(mosquitto.start)
        _, err = await asyncio.to_thread(proc.communicate)
        await ended.wait()
    await watcher
    assert proc.returncode == 0, err
    assert b"retrying, messages stay queued" in err  # the service lost the broker mid-run
    alerts = [json.loads(p) for t, p in received if t.endswith("/alert")]
    assert [(a["kind"], a["state"]) for a in alerts] == [("forward_lean", "raised")]
    assert b"outbox left 0" in err
