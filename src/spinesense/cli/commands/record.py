"""``spinesense record [--sensor NAME|ADDRESS] OUT``: the raw frames of a live sensor into a capture file.

The capture holds every notification and read byte for byte with its host receive time, plus connect,
disconnect, gap and overflow events, so the run replays exactly. Ctrl-C or SIGTERM stops the session
and closes the file cleanly (a gzip trailer when OUT ends in .gz).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from spinesense.capture import CaptureWriter
from spinesense.cli.commands._base import EXIT_OK, EXIT_USAGE, CommandError
from spinesense.cli.commands._ble import bluetooth_errors, header_for
from spinesense.logs import status
from spinesense.models import FrameRecord
from spinesense.sources.ble import BleSession, SessionOptions

if TYPE_CHECKING:
    import argparse

    from spinesense.models import Record


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


@dataclass(slots=True)
class RecordReport:
    """What a recording holds when it closes."""

    frames: int = 0
    events: int = 0
    connects: int = 0
    lost_samples: int = 0


async def record_to(
    path: Path, session: BleSession, stop: asyncio.Event, *, duration_s: float | None = None
) -> RecordReport:
    """Write the session's records to ``path`` until ``stop`` is set or ``duration_s`` passes.

    The header needs the sensor's protocol, so the file is created at the first connect; events before
    it (failed scans) are kept and written right after the header.
    """
    report = RecordReport()
    early: list[Record] = []
    writer: CaptureWriter | None = None

    async def consume() -> None:
        nonlocal writer
        async for record in session:
            if writer is None and session.sensor is not None and session.sensor.family is not None:
                header = header_for(session.sensor, session.sensor.family, "spinesense record")
                writer = CaptureWriter(path, header)
                for held in early:
                    _write(writer, held, report)
                early.clear()
            if writer is None:
                early.append(record)
            else:
                _write(writer, record, report)

    task = asyncio.create_task(consume())
    stopper = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({task, stopper}, timeout=duration_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pending in (task, stopper):
            pending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stopper
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        finally:
            if writer is not None:
                writer.close()
    report.connects = session.stats.connects
    report.lost_samples = session.stats.lost_samples
    return report


def _write(writer: CaptureWriter, record: Record, report: RecordReport) -> None:
    """One record into the capture, counted."""
    writer.write(record)
    if isinstance(record, FrameRecord):
        report.frames += 1
    else:
        report.events += 1


async def _main(args: argparse.Namespace) -> RecordReport:
    """Record with Ctrl-C/SIGTERM wired to a clean stop."""
    options = SessionOptions(scan_timeout_s=args.scan_timeout, max_attempts=args.max_attempts)
    session = BleSession(args.sensor, options=options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return await record_to(Path(args.out), session, stop, duration_s=args.duration)


def run(args: argparse.Namespace) -> int:
    """Record, then say what was written."""
    if args.duration is not None and args.duration <= 0:
        raise CommandError(f"--duration must be positive, got {args.duration:g}", EXIT_USAGE)
    if args.max_attempts is not None and args.max_attempts < 1:
        raise CommandError(f"--max-attempts must be at least 1, got {args.max_attempts}", EXIT_USAGE)
    with bluetooth_errors():
        report = asyncio.run(_main(args))
    if report.frames == 0 and report.connects == 0:
        status(f"spinesense record: no sensor connected; {args.out} not written")
        return EXIT_OK
    status(
        f"{report.frames} frames, {report.connects} connects, {report.lost_samples} samples lost; "
        f"capture written to {args.out}",
        capture=str(args.out),
    )
    return EXIT_OK
