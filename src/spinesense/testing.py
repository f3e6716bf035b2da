"""The pytest plugin for developers who test with spinesense: real parts, no mocks (docs/testing.md).

Installing spinesense registers it (entry point ``pytest11``), so these fixtures are there by name:

- ``run_result``: ``analyse()`` of the recording named by ``@pytest.mark.recording(path, **thresholds)``.
- ``virtual_sensor``: starts the bumble virtual reference sensor streaming a recording, reachable through
  bleak's own API (``async with virtual_sensor(path) as sensor``).
- ``mqtt_broker``: an MQTT broker on a free loopback port: Mosquitto when installed, else the embedded one.
- ``mqtt_messages``: a subscriber that waits for real messages
  (``async with mqtt_messages(topic) as listener``).

Fixtures are plain (not async) so the plugin needs no async test plugin of its own; what runs on the
test's event loop is an async context manager the test enters. Heavy modules (SciPy, bumble, MQTT) are
imported inside the fixtures, so pytest starts as fast with the plugin as without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import pytest

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    import aiomqtt
    from bleak.backends.client import BaseBleakClient
    from bleak.backends.scanner import BaseBleakScanner

    from spinesense.emulator import Radio, VirtualSensor
    from spinesense.models import SampleBlock
    from spinesense.publish import BrokerSettings
    from spinesense.run import RunResult
    from spinesense.sources.ble import BleakBackend

DEMO_RECORDING = Path("alcantara") / "shimmer_sacral_run.jsonl.gz"
"""The virtual sensor's recording when none is given (replay_data/, sacral running, Apache-2.0)."""
BROKER_START_S = 10.0
"""How long a Mosquitto process may take to accept connections."""
WAIT_S = 30.0
"""How long a listener waits for the messages a test expects before it fails."""


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``recording`` marker."""
    config.addinivalue_line(
        "markers",
        "recording(path, **thresholds): the recording run_result analyses; keyword arguments override "
        "AlertConfig fields (e.g. warmup_s=5.0)",
    )


def replay_data() -> Path:
    """The bundled recordings: replay_data/ of the source checkout spinesense runs from."""
    return Path(__file__).resolve().parents[2] / "replay_data"


@pytest.fixture
def run_result(request: pytest.FixtureRequest) -> RunResult:
    """The ``RunResult`` of the recording named by the test's ``@pytest.mark.recording(path, ...)``.

    A relative path is taken from the pytest root directory; keyword arguments of the marker override
    fields of the default ``AlertConfig`` (a short ``warmup_s`` and ``baseline_s`` for short recordings).
    """
    from spinesense.alerts import AlertConfig  # noqa: PLC0415 - imported on use, not at pytest start
    from spinesense.run import analyse  # noqa: PLC0415

    marker = request.node.get_closest_marker("recording")
    if marker is None or not marker.args:
        raise pytest.UsageError("run_result needs @pytest.mark.recording(path) on the test")
    path = Path(marker.args[0])
    if not path.is_absolute():
        path = request.config.rootpath / path
    return analyse(path, config=replace(AlertConfig.default(), **marker.kwargs))


@dataclass(frozen=True)
class Emulated:
    """A started virtual sensor (its methods inject faults) and the bleak backend classes that reach it."""

    sensor: VirtualSensor
    backend: BleakBackend
    """For spinesense's own ``SensorLink(..., backend=...)``; it reaches every sensor on ``radio``."""
    scanner: type[BaseBleakScanner]
    """For ``BleakScanner(backend=...)``."""
    client: type[BaseBleakClient]
    """For ``BleakClient(device, backend=...)``."""
    radio: Radio
    """The virtual radio the sensor is on: ``virtual_sensor(..., radio=emulated.radio)`` adds another."""


StartSensor = Callable[..., contextlib.AbstractAsyncContextManager[Emulated]]
"""The ``virtual_sensor`` fixture's type, for annotations."""


@pytest.fixture
def virtual_sensor() -> StartSensor:
    """``virtual_sensor(recording=None, **kwargs)``: an async context manager running a virtual sensor.

    ``recording`` is a path or a SampleBlock (None: the bundled sacral running recording); ``kwargs``
    go to ``VirtualSensor`` (``speed``, ``name``, ``address``). The sensor advertises on an in-process
    BLE stack (bumble) and stops when the block ends. ``radio`` (another sensor's ``Emulated.radio``)
    puts it beside that sensor, so one bleak backend reaches both (None: a radio of its own).
    """

    @contextlib.asynccontextmanager
    async def start(
        recording: Path | str | SampleBlock | None = None,
        *,
        radio: Radio | None = None,
        **kwargs: Any,  # noqa: ANN401 - VirtualSensor's
    ) -> AsyncIterator[Emulated]:
        from spinesense.emulator import Radio, VirtualSensor  # noqa: PLC0415 - bumble, only when used
        from spinesense.sources.replay import open_recording  # noqa: PLC0415

        if recording is None or isinstance(recording, Path | str):
            block = open_recording(recording or replay_data() / DEMO_RECORDING).block()
        else:
            block = recording
        radio = radio or Radio()
        async with VirtualSensor.running(block, radio=radio, **kwargs) as (sensor, backend):
            if backend.scanner is None or backend.client is None:
                raise RuntimeError("the virtual sensor came without its bleak backend")
            yield Emulated(sensor, backend, backend.scanner, backend.client, radio)

    return start


def mosquitto_path() -> str | None:
    """The Mosquitto executable, if installed (on PATH or in /usr/sbin)."""
    return shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )


def _free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    from spinesense.publish.broker import free_port  # noqa: PLC0415 - imported on use, not at pytest start

    return free_port()


@dataclass
class Mosquitto:
    """A Mosquitto process on a free loopback port: start, stop (clean), kill, restart on the same port.

    ``config_text`` is a Mosquitto configuration with ``{port}`` and ``{dir}`` (``workdir``) to fill in.
    """

    workdir: Path
    config_text: str
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def settings(self) -> BrokerSettings:
        """Anonymous settings for this broker."""
        from spinesense.publish.settings import BrokerSettings  # noqa: PLC0415 - imported on use

        return BrokerSettings(host="127.0.0.1", port=self.port)

    def start(self) -> None:
        """Write the config and start; return once the port accepts connections."""
        executable = mosquitto_path()
        if executable is None:
            raise RuntimeError("mosquitto is not installed")
        conf = self.workdir / "mosquitto.conf"
        # Started as root, Mosquitto would switch to its own user and could not read the test's files.
        as_root = "user root\n" if os.geteuid() == 0 else ""
        conf.write_text(as_root + self.config_text.format(port=self.port, dir=self.workdir))
        log = self.workdir / "log.txt"
        with log.open("ab") as stderr:
            self.process = subprocess.Popen(  # noqa: S603 - our own executable and config
                [executable, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=stderr
            )
        deadline = time.monotonic() + BROKER_START_S
        while time.monotonic() < deadline:  # no readiness signal but the port itself
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if self.process.poll() is not None:
                raise RuntimeError(log.read_text())
            time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not accept connections within {BROKER_START_S:g} s")

    def stop(self) -> None:
        """Stop cleanly (SIGTERM: persistence is saved)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


PLAIN_MOSQUITTO = """listener {port} 127.0.0.1
allow_anonymous true
persistence true
persistence_location {dir}/
autosave_interval 1
"""
"""Anonymous Mosquitto with persistence (a restart keeps the clients' MQTT sessions)."""


@contextlib.contextmanager
def running_mosquitto(workdir: Path, config_text: str = PLAIN_MOSQUITTO) -> Iterator[Mosquitto]:
    """A started Mosquitto, always stopped at the end."""
    broker = Mosquitto(workdir, config_text)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@contextlib.contextmanager
def embedded_broker_thread() -> Iterator[BrokerSettings]:
    """The embedded broker (amqtt) on an event loop in its own thread, for any test, sync or async."""
    from spinesense.publish import embedded_broker  # noqa: PLC0415 - amqtt, only when used

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="spinesense-test-broker", daemon=True)
    thread.start()
    broker = embedded_broker()
    try:
        settings = asyncio.run_coroutine_threadsafe(broker.__aenter__(), loop).result(BROKER_START_S)
        try:
            yield settings
        finally:
            asyncio.run_coroutine_threadsafe(broker.__aexit__(None, None, None), loop).result(BROKER_START_S)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


@pytest.fixture
def mqtt_broker(tmp_path: Path) -> Iterator[BrokerSettings]:
    """An anonymous MQTT broker on a free loopback port: Mosquitto when installed, else the embedded one."""
    if mosquitto_path() is None:
        with embedded_broker_thread() as settings:
            yield settings
        return
    with running_mosquitto(tmp_path) as broker:
        yield broker.settings


class Listener:
    """A dashboard stand-in: subscribes (returning only after the broker's SUBACK) and keeps every message.

    ``wait_for`` wakes on each message as it arrives: no polling, no sleeps.
    """

    def __init__(self, settings: BrokerSettings, topic: str, **client_args: Any) -> None:  # noqa: ANN401
        """Prepare; connecting and subscribing happen in ``__aenter__``."""
        import aiomqtt  # noqa: PLC0415 - imported on use, not at pytest start

        self.settings = settings
        self.topic = topic
        self.messages: list[aiomqtt.Message] = []
        self._client = aiomqtt.Client(
            settings.host,
            settings.port,
            username=settings.username,
            password=settings.password,
            **client_args,
        )
        self._arrived = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        """Connect and subscribe before returning, so nothing published afterwards is missed."""
        await self._client.__aenter__()
        await self._client.subscribe(self.topic, qos=1)
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        """Keep each message and wake the waiters."""
        async for message in self._client.messages:
            async with self._arrived:
                self.messages.append(message)
                self._arrived.notify_all()

    async def wait_for(
        self, done: Callable[[list[aiomqtt.Message]], bool], seconds: float = WAIT_S
    ) -> list[aiomqtt.Message]:
        """Wait until ``done(messages)`` holds; return the messages (TimeoutError after ``seconds``)."""
        async with asyncio.timeout(seconds), self._arrived:
            await self._arrived.wait_for(lambda: done(self.messages))
        return self.messages

    async def next(self, count: int = 1, seconds: float = WAIT_S) -> list[aiomqtt.Message]:
        """Wait until at least ``count`` messages have come; return them all."""
        return await self.wait_for(lambda messages: len(messages) >= count, seconds)

    def payloads(self, leaf: str) -> list[bytes]:
        """The payloads of the messages whose topic ends in ``/leaf`` (e.g. "alert"), in order."""
        return [
            m.payload if isinstance(m.payload, bytes) else str(m.payload).encode()
            for m in self.messages
            if str(m.topic).endswith("/" + leaf)
        ]

    async def __aexit__(self, *exc: object) -> None:
        """Stop reading and disconnect."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._client.__aexit__(None, None, None)


@pytest.fixture
def mqtt_messages(mqtt_broker: BrokerSettings) -> Callable[[str], Listener]:
    """``mqtt_messages(topic)``: a ``Listener`` on ``mqtt_broker``, for ``async with ... as listener``."""

    def listener(topic: str) -> Listener:
        return Listener(mqtt_broker, topic)

    return listener


def loop_capture(source: Path, target: Path, times: int) -> Path:
    """Write ``source``'s records ``times`` over into one capture at ``target``: a longer run for load tests.

    Each pass is shifted in host time to follow the last (one frame interval later), so the replay paces
    it as one continuous recording.
    """
    from spinesense.capture import CaptureWriter, read_capture  # noqa: PLC0415 - imported on use

    capture = read_capture(source)
    records = list(capture.records())
    span_ns = records[-1].t_ns - records[0].t_ns + (records[1].t_ns - records[0].t_ns)
    with CaptureWriter(target, capture.header) as writer:
        for n in range(times):
            for record in records:
                writer.write(replace(record, t_ns=record.t_ns + n * span_ns))
    return target
