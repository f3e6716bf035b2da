"""``spinesense emulate FILE``: a virtual reference sensor that other programs can connect to, for demos.

The recording streams from the virtual sensor of emulator/ (advertising, the reference GATT layout of
firmware_notes/, its real rate or ``--speed N``) on the Bluetooth controller behind a bumble transport:
``vhci`` (default) makes a virtual controller that BlueZ on this Linux machine sees, so ``spinesense run``
or any BLE app finds the sensor as if it were on a belt; ``usb:0`` turns a USB dongle into the sensor;
``tcp-client:HOST:PORT`` drives a controller served over TCP. It prints one status line a second.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from spinesense.cli.commands._base import EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE, CommandError
from spinesense.logs import status

if TYPE_CHECKING:
    import argparse

    from spinesense.models import SampleBlock

STATUS_EVERY_S = 1.0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``emulate`` command."""
    parser = subparsers.add_parser("emulate", help="run a virtual reference sensor streaming a recording")
    parser.add_argument("file", metavar="FILE", help="capture or sample CSV to stream")
    parser.add_argument(
        "--transport",
        default="vhci",
        metavar="SPEC",
        help="bumble transport of the controller: vhci (default), usb:0, tcp-client:HOST:PORT, ...",
    )
    parser.add_argument("--speed", type=float, default=1.0, metavar="N", help="N times real time (default 1)")
    parser.add_argument(
        "--duration", type=float, metavar="S", help="loop the recording for S seconds (default: play it once)"
    )
    parser.add_argument("--name", default="SpineSense-E1A0", help="advertised name (default SpineSense-E1A0)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Stream the recording from a virtual sensor until it ends or Ctrl-C."""
    import asyncio

    from spinesense.cli.commands._recording import load_block

    if args.speed <= 0 or (args.duration is not None and args.duration <= 0):
        raise CommandError("--speed and --duration must be positive", EXIT_USAGE)
    block = load_block(args.file, args.duration)
    try:
        return asyncio.run(_emulate(block, args))
    except KeyboardInterrupt:
        return EXIT_OK


async def _emulate(block: SampleBlock, args: argparse.Namespace) -> int:
    """Advertise and stream on the transport, printing what the sensor did every second."""
    import asyncio

    from spinesense.emulator import VirtualSensor, on_transport

    async with contextlib.AsyncExitStack() as stack:
        try:
            device_for = await stack.enter_async_context(on_transport(args.transport))
        except Exception as exc:  # noqa: BLE001 - bumble raises bare Exceptions and OSErrors per transport
            raise CommandError(
                f"cannot open Bluetooth transport {args.transport!r}: {str(exc) or type(exc).__name__} "
                "(vhci needs /dev/vhci and root; see docs/emulator.md)",
                EXIT_UNAVAILABLE,
            ) from None
        sensor = VirtualSensor(device_for, block, name=args.name, speed=args.speed)
        await sensor.start()
        stack.push_async_callback(sensor.stop)
        length = len(block) / block.rate_hz
        status(f"{sensor.name} advertising on {args.transport}: {Path(args.file).name}, {length:.0f} s")
        while not sensor.finished.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sensor.finished.wait(), STATUS_EVERY_S)
            counts = sensor.counts
            status(
                f"{'connected' if sensor.connected else 'waiting  '}  frames sent {counts.frames}"
                f"/{len(sensor.frames)}, lost {counts.dropped_frames} (no host listening)",
                frames_sent=counts.frames,
                frames_lost=counts.dropped_frames,
            )
    return EXIT_OK
