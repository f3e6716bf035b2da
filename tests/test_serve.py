"""``spinesense serve``: many runners in one process, each isolated from the others' failures."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import resource
import signal
import subprocess
import sys
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conftest import REPLAY_DATA
from spinesense import analyse, serve
from spinesense.capture import read_capture
from spinesense.cli.commands import EXIT_INTERRUPTED
from spinesense.config import Config
from spinesense.logs import NOTICE_LOGGER
from spinesense.serve import Runner, Squad, check_unique
from spinesense.sources.replay import ReplaySource
from spinesense.testing import Listener, Mosquitto
from test_service_logformat import _spinesense

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    import aiomqtt

    from spinesense.models import Record

pytestmark = pytest.mark.slow  # end to end (many whole runs): `scripts/test --quick` skips it

RUNS = {
    "ana": REPLAY_DATA / "fukuchi" / "RBDS032.jsonl.gz",
    "ben": REPLAY_DATA / "alcantara" / "shimmer_sacral_run.jsonl.gz",
    "cleo": REPLAY_DATA / "fukuchi" / "RBDS0041.jsonl.gz",
}
SPEED = 20.0
"""Paced, as a live sensor is, but 20 times faster so the test stays short."""
HANG_GUARD_S = 120.0
"""Far above any run here: a stop that hangs fails the test instead of hanging the suite."""


class CrashingSource:
    """Stands for a sensor driver that raises mid-run (no real sensor fails on cue): a real replay that
    raises after ``after`` records."""

    def __init__(self, inner: ReplaySource, after: int) -> None:
        """Wrap ``inner``; fail after ``after`` of its records."""
        self.inner = inner
        self.after = after

    async def start(self) -> dict[str, Any]:
        """The inner replay's header."""
        return await self.inner.start()

    async def __aiter__(self) -> AsyncIterator[Record]:
        """The inner records, then the crash."""
        count = 0
        async for record in self.inner:
            yield record
            count += 1
            if count == self.after:
                raise RuntimeError("sensor driver crashed")


def _replay(path: Path) -> Callable[[], ReplaySource]:
    """A paced replay of ``path``, made when the runner starts."""
    return lambda: ReplaySource(path, SPEED)


def _config(runner_id: str, mosquitto: Mosquitto) -> Config:
    return Config(runner_id=runner_id, broker=mosquitto.settings, record=False)


def _strides(messages: list[aiomqtt.Message], runner_id: str) -> int:
    return sum(1 for m in messages if str(m.topic) == f"spinesense/v1/{runner_id}/stride")


def _said(messages: list[aiomqtt.Message], runner_id: str, leaf: str, text: bytes) -> bool:
    """Whether the runner's ``leaf`` topic carried a payload containing ``text``."""
    topic = f"spinesense/v1/{runner_id}/{leaf}"
    return any(str(m.topic) == topic and text in bytes(m.payload) for m in messages)


async def test_a_broken_file_and_a_crashing_sensor_stop_only_their_own_runner(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text("not a capture\n")
    runners = [
        *(Runner(_config(r, mosquitto), _replay(f)) for r, f in RUNS.items()),
        Runner(_config("dora", mosquitto), lambda: ReplaySource(broken, SPEED)),
        Runner(_config("eli", mosquitto), lambda: CrashingSource(ReplaySource(RUNS["cleo"], SPEED), 300)),
    ]
    async with Listener(mosquitto.settings, "spinesense/v1/#") as inbox:
        outcomes = {o.runner_id: o for o in await Squad(runners).serve()}
        # offline is the last word of every runner's publisher, the crashed one's too
        await inbox.wait_for(lambda m: all(_said(m, r, "status", b"offline") for r in (*RUNS, "eli")))
        alone = {r: analyse(f) for r, f in RUNS.items()}
        got = await inbox.wait_for(lambda m: all(_strides(m, r) >= len(a.strides) for r, a in alone.items()))
    for runner_id, own in alone.items():
        result = outcomes[runner_id].result
        assert result is not None, outcomes[runner_id].error
        assert result.strides == own.strides  # the same strides as alone, measured with the others' (meter)
        assert result.summary == own.summary  # kept stride by stride, the same to the bit
        assert _strides(got, runner_id) == len(own.strides)  # and every one reached the broker
    assert outcomes["dora"].result is None
    assert "unknown format" in str(outcomes["dora"].error)
    assert outcomes["eli"].error == "sensor driver crashed"
    assert _strides(got, "dora") == 0
    assert all(_said(got, r, "session", b'"ended"') for r in RUNS)


async def test_full_collections_while_serving_walk_only_what_the_runners_made(mosquitto: Mosquitto) -> None:
    """Each full collection stops every runner; the imported libraries, alive for good, are not walked.

    Afterwards nothing stays frozen, so garbage the runs left in cycles can still be collected.
    """
    before = len(gc.get_objects())
    seen: list[int] = []

    def console(runner_id: str, event: object) -> None:
        if not seen:
            seen.append(len(gc.get_objects()))  # what a full collection would walk now

    runner = Runner(_config("ana", mosquitto), _replay(RUNS["ana"]))
    (outcome,) = await Squad([runner], console=console).serve()
    assert outcome.result is not None, outcome.error
    assert seen[0] < before / 2
    assert gc.get_freeze_count() == 0


class _Cycle:
    """Garbage in a cycle: only a full collection frees it."""

    me: _Cycle | None = None


@pytest.mark.parametrize("collect_every_s", [0.2, 1000.0])
async def test_what_the_runners_make_is_frozen_as_they_run_and_its_cycles_collected(
    mosquitto: Mosquitto, monkeypatch: pytest.MonkeyPatch, collect_every_s: float
) -> None:
    """Every ``FREEZE_EVERY_S`` the objects made since leave the full collections' walk; garbage in cycles
    among them is collected every ``COLLECT_EVERY_S`` while serving, and once serving ends."""
    monkeypatch.setattr(serve, "FREEZE_EVERY_S", 0.02)
    monkeypatch.setattr(serve, "COLLECT_EVERY_S", collect_every_s)
    held: list[_Cycle] = []
    garbage: list[weakref.ref[_Cycle]] = []
    collected_while_serving = False

    def console(runner_id: str, event: object) -> None:
        nonlocal collected_while_serving
        if not garbage:  # made while serving, so not frozen at the start
            cycle = _Cycle()
            cycle.me = cycle
            held.append(cycle)
            garbage.append(weakref.ref(cycle))
        elif held and not any(o is held[0] for o in gc.get_objects()):  # frozen: drop it, in its cycle
            held.clear()
        elif not held and garbage[0]() is None:
            collected_while_serving = True

    runner = Runner(_config("ana", mosquitto), _replay(RUNS["ana"]))
    (outcome,) = await Squad([runner], console=console).serve()
    assert outcome.result is not None, outcome.error
    assert garbage
    assert not held  # it was frozen while the runner ran
    assert collected_while_serving == (collect_every_s < 1)  # the run takes about 5 s
    gc.collect()
    assert garbage[0]() is None  # unfrozen once serving ended, so its cycle was collected


def test_runner_ids_must_be_unique() -> None:
    def source() -> ReplaySource:
        return ReplaySource(RUNS["ana"])

    twice = [Runner(Config(runner_id="ana"), source), Runner(Config(runner_id="ana"), source)]
    with pytest.raises(ValueError, match="ana given more than once"):
        check_unique(twice)
    check_unique([twice[0], dataclasses.replace(twice[1], config=Config(runner_id="ben"))])


def test_serve_command_reports_every_runner_and_exits_1_when_one_failed(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text("not a capture\n")
    command = [sys.executable, "-m", "spinesense", "--log-format", "json", "serve", "--no-record"]
    command += ["--broker", f"mqtt://127.0.0.1:{mosquitto.port}", "--speed", str(SPEED)]
    command += ["--replay", f"ana={RUNS['ana']}", "--replay", str(broken), "--replay", f"ben={RUNS['ben']}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    final = {line["runner"]: line for line in lines if "strides" in line or "error" in line}
    assert final["ana"]["strides"] == len(analyse(RUNS["ana"]).strides)
    assert final["ben"]["strides"] == len(analyse(RUNS["ben"]).strides)
    assert "unknown format" in final["broken"]["error"]
    # Every notice names its runner; the runs were saved in the run store, each under its runner.
    notes = [line for line in lines if line["logger"] == NOTICE_LOGGER]
    assert {line["runner"] for line in notes} == {"ana", "ben"}
    saved = [line for line in lines if "run_id" in line]
    assert sorted(line["runner"] for line in saved) == ["ana", "ben"]


def _text_stderr(*args: str) -> list[str]:
    """The stderr lines of a successful ``spinesense ARGS`` (text format)."""
    done = _spinesense(*args)
    assert done.returncode == 0, done.stderr
    return done.stderr.splitlines()


def test_serve_text_lines_name_their_runner_and_a_single_run_keeps_its_lines(mosquitto: Mosquitto) -> None:
    broker = ["--broker", f"mqtt://127.0.0.1:{mosquitto.port}", "--speed", str(SPEED), "--no-record"]
    served = _text_stderr(
        "serve", *broker, "--replay", f"ana={RUNS['ana']}", "--replay", f"ben={RUNS['ben']}"
    )
    for runner_id in ("ana", "ben"):
        assert f"note: [{runner_id}] forward direction found from braking" in served
        strides = len(analyse(RUNS[runner_id]).strides)
        assert any(line.startswith(f"[{runner_id}] {strides} strides, ") for line in served), served
    alone = _text_stderr("run", *broker, "--replay", str(RUNS["ana"]), "--runner", "ana")
    assert "note: forward direction found from braking" in alone
    assert not [line for line in alone if "[ana]" in line]


async def test_a_second_signal_stops_serve_at_once_and_leaves_every_capture_readable(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    runners = ("ana", "cleo")
    command = ["serve", "--broker", f"mqtt://127.0.0.1:{mosquitto.port}", "--speed", "2"]
    command += ["--data-dir", str(tmp_path), *(f"--replay={r}={RUNS[r]}" for r in runners)]
    broker = mosquitto.process
    assert broker is not None
    async with Listener(mosquitto.settings, "spinesense/v1/+/stride") as listener:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "spinesense", *command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert proc.stderr is not None
        try:
            async with asyncio.timeout(HANG_GUARD_S):
                await listener.wait_for(lambda messages: all(_strides(messages, r) for r in runners))
                # Every runner is streaming. A frozen broker holds the clean stop (it waits for acks).
                broker.send_signal(signal.SIGSTOP)
                proc.send_signal(signal.SIGINT)
                while b"stopping (again to stop at once)" not in (line := await proc.stderr.readline()):
                    assert line, "the first signal was not acknowledged"
                proc.send_signal(signal.SIGINT)
                _, err = await proc.communicate()
        finally:
            broker.send_signal(signal.SIGCONT)
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert proc.returncode == EXIT_INTERRUPTED, err
    assert b"stopped at once" in err
    for runner_id in runners:  # every runner's capture closed before the exit: every line whole
        path = next(iter(tmp_path.glob(f"run-*-{runner_id}.jsonl.gz")))  # noqa: ASYNC240 - the process has ended
        capture = read_capture(path)
        assert list(capture.records())
        assert capture.stats.bad_lines == []
        assert not capture.stats.torn_last_line


def test_serve_raises_the_open_file_limit_its_runners_need(mosquitto: Mosquitto) -> None:
    """Each runner holds about six files (its outbox database's three, the broker connection, the
    recording): with a soft limit of 64, as a small system's 1024 is for 170 runners, 16 runners fit."""
    low = 64

    def lower_limit() -> None:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard))

    command = [sys.executable, "-m", "spinesense", "--log-format", "json", "serve", "--no-record"]
    command += ["--broker", f"mqtt://127.0.0.1:{mosquitto.port}", "--speed", "5"]
    for n in range(16):
        command += ["--replay", f"r{n}={RUNS['ben']}"]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, preexec_fn=lower_limit
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    strides = {line["runner"]: line["strides"] for line in lines if "strides" in line}
    assert strides == {f"r{n}": len(analyse(RUNS["ben"]).strides) for n in range(16)}
