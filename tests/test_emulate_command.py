"""``spinesense emulate`` in its own process, reached over HCI-over-TCP through bleak's client API.

The test serves a bumble controller on a free loopback port (the emulator's host drives it with
``--transport tcp-client:...``); that controller shares an in-process link with the test's central,
which finds the sensor, connects and receives the recording through bleak and a SensorLink.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys

import numpy as np
import pytest
from bumble.controller import Controller
from bumble.transport.tcp_server import open_tcp_server_transport_with_socket

from conftest import REPLAY_DATA
from spinesense.emulator import Radio, backend_for
from spinesense.models import FrameRecord, concat_blocks
from spinesense.sensors import reference
from spinesense.sources.ble import LinkOptions, SensorLink
from spinesense.sources.replay import open_recording

RECORDING = REPLAY_DATA / "skdh" / "example_2min.jsonl.gz"
FRAMES = 100
"""About 19 s of the recording (19 samples a frame at 98.4 Hz)."""


@pytest.mark.slow
async def test_an_emulate_process_is_found_and_streams_the_recording() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    transport = await open_tcp_server_transport_with_socket(sock)
    radio = Radio()
    Controller("bridge", host_source=transport.source, host_sink=transport.sink, link=radio.link)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "spinesense", "emulate", str(RECORDING),
        "--transport", f"tcp-client:127.0.0.1:{port}", "--speed", "10", "--name", "SpineSense-T1",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    link = SensorLink("SpineSense-T1", backend=backend_for(radio), options=LinkOptions(scan_timeout_s=5))
    frames: list[FrameRecord] = []
    try:
        async with asyncio.timeout(60):
            async for record in link:
                if isinstance(record, FrameRecord) and record.char == reference.DATA_UUID:
                    frames.append(record)
                    if len(frames) >= FRAMES:
                        break
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        _, err = await proc.communicate()
        await transport.close()
    decoder = reference.ReferenceDecoder()
    blocks = [b for f in frames if (b := decoder.feed(f.char, f.data)) is not None]
    received = concat_blocks(blocks)
    original = open_recording(RECORDING).block()
    first = received.first_index
    assert received.gaps == ()  # streamed without a loss once connected
    np.testing.assert_allclose(
        received.acc_mps2, original.acc_mps2[first : first + len(received)], rtol=0, atol=0.01
    )
    assert b"advertising on tcp-client" in err


def test_a_transport_that_cannot_open_is_one_clear_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "spinesense", "emulate", str(RECORDING), "--transport", "nonsense:1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 3
    assert proc.stderr.count("\n") == 1
    assert "cannot open Bluetooth transport 'nonsense:1'" in proc.stderr
