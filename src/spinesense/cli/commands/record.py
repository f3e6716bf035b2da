"""``spinesense record [--sensor NAME|ADDRESS] OUT``: the raw frames of a live sensor into a capture file.

The capture holds every notification and read byte for byte with its host receive time, plus connect,
disconnect and overflow events, so the run replays exactly. Ctrl-C or SIGTERM stops the link
and closes the file cleanly (a gzip trailer when OUT ends in .gz).
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING

from spinesense.cli.commands._base import EXIT_OK, EXIT_USAGE, CommandError
from spinesense.logs import status

if TYPE_CHECKING:
    import argparse

    from spinesense.models import Counts


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


async def _main(args: argparse.Namespace) -> Counts:
    """Record with Ctrl-C/SIGTERM wired to a clean stop."""
    import asyncio

    from spinesense.record import record_to
    from spinesense.sources.ble import LinkOptions, SensorLink

    options = LinkOptions(scan_timeout_s=args.scan_timeout, max_attempts=args.max_attempts)
    link = SensorLink(args.sensor, options=options, source="spinesense record")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return await record_to(Path(args.out), link, stop, duration_s=args.duration)


def run(args: argparse.Namespace) -> int:
    """Record, then say what was written."""
    import asyncio

    from spinesense.cli.commands._ble import bluetooth_errors

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
