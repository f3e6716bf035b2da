"""``spinesense serve --processes K``: the runners split over K processes, each served as in one."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from spinesense import analyse
from spinesense.cli.commands import EXIT_DATA, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from spinesense.cli.commands._serve_processes import Named, merged_exit_code, shares
from spinesense.testing import Listener
from test_serve import HANG_GUARD_S, RUNS, SPEED, _strides

if TYPE_CHECKING:
    from pathlib import Path

    import aiomqtt

    from spinesense.testing import Mosquitto

pytestmark = pytest.mark.slow  # end to end (whole runs in several processes): `scripts/test --quick` skips it


def _ended(messages: list[aiomqtt.Message], runners: tuple[str, ...]) -> bool:
    """Whether every runner's session was published as ended (a clean stop)."""
    return all(
        any(str(m.topic) == f"spinesense/v1/{r}/session" and b'"ended"' in bytes(m.payload) for m in messages)
        for r in runners
    )


def _said(stderr: bytes, text: str) -> int:
    """How many lines of ``stderr`` (JSON) say ``text``."""
    return sum(text in json.loads(line)["message"] for line in stderr.splitlines())


def _serve(*flags: str) -> list[str]:
    """``python -m spinesense --log-format json serve FLAGS``: the command line."""
    return [sys.executable, "-m", "spinesense", "--log-format", "json", "serve", "--no-record", *flags]


def test_the_runners_are_split_over_the_processes_and_each_served_as_in_one(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text("not a capture\n")
    replays = [f"--replay={r}={RUNS[r]}" for r in ("ana", "ben", "cleo")]
    command = _serve("--processes", "2", "--broker", f"mqtt://127.0.0.1:{mosquitto.port}")
    command += ["--speed", str(SPEED), *replays, f"--replay=broken={broken}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=HANG_GUARD_S, check=False)
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    # One runner failed (in the second process): its process says so, and the command does.
    assert done.returncode == EXIT_DATA, done.stderr
    serving = sorted(line["runners"] for line in lines if line["message"].startswith("serving"))
    assert serving == [2, 2, 4]  # this process's line, then one per serving process (ana, ben | cleo, broken)
    final = {line["runner"]: line for line in lines if "strides" in line or "error" in line}
    for runner_id in ("ana", "ben", "cleo"):
        assert final[runner_id]["strides"] == len(analyse(RUNS[runner_id]).strides)
    assert "unknown format" in final["broken"]["error"]


RUNNERS = ("ana", "cleo")


async def _signalled(mosquitto: Mosquitto, sig: signal.Signals) -> tuple[int | None, bytes]:
    """Serve RUNNERS in two processes; once both stream, send ``sig`` to the command.

    Returns the command's exit code and stderr (shared with the serving processes: it ends when the last
    of them has ended), after both runners' sessions were published as ended (a clean stop).
    """
    command = _serve("--processes", "2", "--broker", f"mqtt://127.0.0.1:{mosquitto.port}", "--speed", "2")
    command += [f"--replay={r}={RUNS[r]}" for r in RUNNERS]
    async with Listener(mosquitto.settings, "spinesense/v1/#") as listener:
        proc = await asyncio.create_subprocess_exec(*command, stderr=subprocess.PIPE)
        try:
            async with asyncio.timeout(HANG_GUARD_S):
                await listener.wait_for(lambda messages: all(_strides(messages, r) for r in RUNNERS))
                proc.send_signal(sig)
                _, err = await proc.communicate()
                await listener.wait_for(lambda messages: _ended(messages, RUNNERS))
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    return proc.returncode, err


async def test_a_signal_is_passed_on_and_every_process_stops_cleanly(mosquitto: Mosquitto) -> None:
    """SIGTERM to the command reaches each serving process once: each stops its runners cleanly (130)."""
    code, err = await _signalled(mosquitto, signal.SIGTERM)
    assert code == EXIT_INTERRUPTED, err
    assert _said(err, "spinesense: stopping") == len(RUNNERS)  # each told once (a second stops at once)
    final = {line["runner"] for line in map(json.loads, err.splitlines()) if "strides" in line}
    assert final == set(RUNNERS)


async def test_the_serving_processes_stop_cleanly_when_the_command_is_killed(mosquitto: Mosquitto) -> None:
    """SIGKILL cannot be passed on; the serving processes still see their parent go and stop cleanly."""
    _, err = await _signalled(mosquitto, signal.SIGKILL)
    assert _said(err, "has gone: stopping") == len(RUNNERS)  # not at the end of the recordings
    assert _said(err, "stopped at once") == 0


def test_without_a_broker_the_processes_share_the_embedded_one(tmp_path: Path) -> None:
    """No broker configured: this process runs the embedded broker and both serving processes use it."""
    command = _serve("--processes", "2", "--data-dir", str(tmp_path), "--speed", "50")
    command += [f"--replay={r}={RUNS[r]}" for r in ("ana", "ben")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=HANG_GUARD_S, check=False)
    assert done.returncode == EXIT_OK, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    # Told the embedded broker's MQTT version, no serving process tried 5 first and timed out; and none
    # failed on the other's creating the run store.
    assert [line for line in lines if line["level"] == "error"] == []
    connecting = [line for line in lines if line["logger"].startswith(("spinesense.publish", "amqtt"))]
    assert [line for line in connecting if line["level"] != "info"] == []
    final = {line["runner"]: line for line in lines if "strides" in line}
    for runner_id in ("ana", "ben"):
        assert final[runner_id]["strides"] == len(analyse(RUNS[runner_id]).strides)
        assert final[runner_id]["outbox_left"] == 0  # every reliable message was acknowledged


def test_processes_must_be_at_least_one() -> None:
    done = subprocess.run(
        _serve("--processes", "0", "--replay", str(RUNS["ben"])), capture_output=True, text=True, check=False
    )
    assert done.returncode == EXIT_USAGE
    assert "--processes must be at least 1, got 0" in done.stderr


def test_runner_i_goes_to_process_i_mod_k_and_no_process_is_left_empty() -> None:
    named = [Named("--replay", f"r{i}", "f") for i in range(5)]
    assert [[n.runner_id for n in share] for share in shares(named, 2)] == [["r0", "r2", "r4"], ["r1", "r3"]]
    assert len(shares(named[:1], 4)) == 1


def test_the_exit_code_is_the_gravest_of_the_processes() -> None:
    assert merged_exit_code([0, 0], interrupted=False) == EXIT_OK
    assert merged_exit_code([0, 1], interrupted=False) == EXIT_DATA
    assert merged_exit_code([1, 3], interrupted=False) == 3
    assert merged_exit_code([0, -9], interrupted=False) == EXIT_DATA  # killed: its runs ended there
    assert merged_exit_code([0, 130], interrupted=False) == EXIT_INTERRUPTED
    assert merged_exit_code([0, 0], interrupted=True) == EXIT_INTERRUPTED
