"""``spinesense record [--sensor NAME|ADDRESS] OUT``: the raw frames of a live sensor into a capture file.

The capture holds every notification and read byte for byte with its host receive time, plus connect,
disconnect and overflow events, so the run replays exactly. Ctrl-C or SIGTERM stops the link
and closes the file cleanly (a gzip trailer when OUT ends in .gz).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from spinesense.capture import CaptureWriter
from spinesense.cli.commands._base import EXIT_OK, EXIT_USAGE, CommandError
from spinesense.cli.commands._ble import bluetooth_errors
from spinesense.logs import status
from spinesense.models import Counts, FrameRecord
from spinesense.sensors import make_decoder
from spinesense.sources.ble import LinkOptions, SensorLink

if TYPE_CHECKING:
    import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``record`` command."""
    parser = subparsers.add_parser("record", help="record a live sensor's raw frames to a capture file")
    parser.add_argument("out", metavar="OUT", help="capture file to write (.jsonl or .jsonl.gz)")
    parser.add_argument(
        "--sensor", metavar="NAME|ADDRESS", help="which sensor (default: the first supported one)"
    )
    parser.add_argument(
        "--duration", type=float, metavar="S", help="stop after S seconds (default: until Ctrl-C)"
    )
    parser.add_argument(
        "--scan-timeout", type=float, default=10.0, metavar="S", help="per scan (default 10 s)"
    )
    parser.add_argument(
        "--max-attempts",
        type=int,
        metavar="N",
        help="give up after N failed reconnects in a row (default: never)",
    )
    parser.set_defaults(handler=run)


async def record_to(
    path: Path, link: SensorLink, stop: asyncio.Event, *, duration_s: float | None = None
) -> Counts:
    """Find the sensor, then write the link's records to ``path`` until ``stop`` or ``duration_s`` passes.

    The link's frames are decoded too (one decoder, for the count of samples lost); nothing is written
    when no sensor is found.
    """
    header = await link.start()
    decoder = make_decoder(header["protocol"])
    counts = Counts()

    async def consume(writer: CaptureWriter) -> None:
        async for record in link:
            writer.write(record)
            if isinstance(record, FrameRecord):
                counts.frames += 1
                decoder.feed(record.char, record.data, record.t_ns)
            else:
                counts.events += 1

    with CaptureWriter(path, header) as writer:
        task = asyncio.create_task(consume(writer))
        stopper = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({task, stopper}, timeout=duration_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pending in (task, stopper):
                pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stopper
            with contextlib.suppress(asyncio.CancelledError):
                await task
    counts.connects = link.counts.connects
    counts.lost_samples = decoder.lost_samples
    return counts


async def _main(args: argparse.Namespace) -> Counts:
    """Record with Ctrl-C/SIGTERM wired to a clean stop."""
    options = LinkOptions(scan_timeout_s=args.scan_timeout, max_attempts=args.max_attempts)
    link = SensorLink(args.sensor, options=options, source="spinesense record")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return await record_to(Path(args.out), link, stop, duration_s=args.duration)


def run(args: argparse.Namespace) -> int:
    """Record, then say what was written."""
    if args.duration is not None and args.duration <= 0:
        raise CommandError(f"--duration must be positive, got {args.duration:g}", EXIT_USAGE)
    if args.max_attempts is not None and args.max_attempts < 1:
        raise CommandError(f"--max-attempts must be at least 1, got {args.max_attempts}", EXIT_USAGE)
    with bluetooth_errors():
        report = asyncio.run(_main(args))
    status(
        f"{report.frames} frames, {report.connects} connects, {report.lost_samples} samples lost; "
        f"capture written to {args.out}",
        capture=str(args.out),
    )
    return EXIT_OK
