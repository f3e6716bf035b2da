"""``spinesense replay FILE``: stream a recording through the same path a live run takes."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import numpy as np

from spinesense.capture import FrameRecord
from spinesense.commands._base import EXIT_OK, EXIT_USAGE, CommandError
from spinesense.commands._recording import add_file_argument, open_for_command
from spinesense.models import GRAVITY_MPS2
from spinesense.sources.replay import replay

if TYPE_CHECKING:
    import argparse

    from spinesense.models import SampleBlock


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``replay`` command."""
    parser = subparsers.add_parser("replay", help="stream a capture or sample CSV through the pipeline")
    add_file_argument(parser)
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--speed", type=float, default=1.0, metavar="N", help="N times real time (default 1)")
    pace.add_argument("--fast", action="store_true", help="as fast as possible")
    parser.set_defaults(handler=run)


class SecondStats:
    """Per-second sample statistics of the stream, printed as each second of sensor time completes."""

    def __init__(self) -> None:
        """Start with no second open."""
        self._second: int | None = None
        self._norms: list[np.typing.NDArray[np.float64]] = []
        self._lost = 0

    def add(self, block: SampleBlock) -> None:
        """Account a block, printing every second it completes."""
        self._lost += sum(g.missing for g in block.gaps)
        seconds = np.floor(block.t_s).astype(np.int64)
        norms = np.linalg.norm(block.acc_mps2, axis=1) / GRAVITY_MPS2
        for second in np.unique(seconds):
            if self._second is not None and second != self._second:
                self.emit()
            self._second = int(second)
            self._norms.append(norms[seconds == second])

    def emit(self) -> None:
        """Print the open second, if any."""
        if self._second is None or not self._norms:
            return
        norms = np.concatenate(self._norms)
        print(
            f"t={self._second:>6d} s  samples {norms.size:4d}  |acc| mean {norms.mean():.2f} g  "
            f"max {norms.max():.2f} g  lost {self._lost}"
        )
        self._norms, self._lost = [], 0


async def _stream(args: argparse.Namespace) -> int:
    """Replay, decode and report the stream."""
    recording, decoder = open_for_command(args.file)
    stats = SecondStats()
    async for record in replay(recording, None if args.fast else args.speed):
        if isinstance(record, FrameRecord):
            block = decoder.feed_record(record.char, record.data, record.t_ns)
            if block is not None:
                stats.add(block)
    stats.emit()
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Check the options, then replay."""
    if args.speed <= 0:
        raise CommandError(f"--speed must be positive, got {args.speed}", EXIT_USAGE)
    return asyncio.run(_stream(args))
