"""``spinesense serve --processes K``: the runners split over K serving processes, one per core.

One Python process runs on one core at a time, however many runners its loop serves; K processes use K
cores. Each is a plain ``spinesense serve`` of its share of the runners (runner i in process i mod K),
so everything a single process does (isolation, status lines, exit codes, the run store) holds in each.
This process only starts them, shares its embedded broker with them, passes every Ctrl-C or SIGTERM on
(they are in their own process group, so a terminal's Ctrl-C reaches them once, through here) and
waits for them all.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spinesense.cli.commands import _base as codes
from spinesense.logs import status
from spinesense.serve import shared_broker

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from spinesense.serve import Runner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Named:
    """One runner as a command line names it: ``--replay ID=FILE`` or ``--sensor ID=NAME|ADDRESS``."""

    flag: str
    runner_id: str
    value: str

    def argv(self) -> list[str]:
        """The runner's flag for a serving process's command line."""
        return [f"{self.flag}={self.runner_id}={self.value}"]


def shares(named: Sequence[Named], processes: int) -> list[list[Named]]:
    """Runner i goes to process i mod ``processes`` (runners started one after another alternate)."""
    return [list(named[j::processes]) for j in range(processes) if named[j::processes]]


def common_argv(args: argparse.Namespace) -> list[str]:
    """The command line every serving process shares, up to its runners: this one's options."""
    argv = [sys.executable, "-m", "spinesense"]
    if args.log_format:
        argv += ["--log-format", args.log_format]
    if args.verbose:
        argv.append("--verbose")
    argv += ["serve", "--speed", repr(args.speed), "--scan-timeout", repr(args.scan_timeout)]
    for option, value in (("--config", args.config), ("--data-dir", args.data_dir)):
        if value is not None:
            argv += [option, str(value)]
    if args.no_record:
        argv.append("--no-record")
    return argv


async def serve_in_processes(args: argparse.Namespace, runners: list[Runner], named: list[Named]) -> int:
    """Serve ``named`` (whose configurations are ``runners``) in ``args.processes`` processes; the exit code.

    Runners without a configured broker share this process's embedded broker, as in one process. The
    broker goes to the children in their environment (``SPINESENSE_BROKER_URL``, which only a flag
    overrides), so a password in a ``--broker`` URL is not shown in their command lines too.
    """
    async with shared_broker(runners) as served:
        embedded = served[0].config.broker if runners[0].config.broker is None else None
        # The embedded broker speaks MQTT 3.1.1 only: said in its URL, the children need not try 5 first.
        broker_url = (
            args.broker if embedded is None else f"mqtt://{embedded.host}:{embedded.port}?protocol=3.1.1"
        )
        env = dict(os.environ) if broker_url is None else {**os.environ, "SPINESENSE_BROKER_URL": broker_url}
        groups = shares(named, args.processes)
        status(f"serving {len(named)} runners in {len(groups)} processes", runners=len(named))
        base = common_argv(args)
        children = [
            await asyncio.create_subprocess_exec(
                *base, *(a for n in group for a in n.argv()), env=env, process_group=0
            )
            for group in groups
        ]
        interrupted = pass_signals_on(children)
        returned = [await child.wait() for child in children]
    for group, code in zip(groups, returned, strict=True):
        if code < 0:
            ids = ", ".join(n.runner_id for n in group)
            log.error("the process serving %s ended by signal %d: their runs ended there", ids, -code)
    return merged_exit_code(returned, interrupted=interrupted[0])


def pass_signals_on(children: Sequence[asyncio.subprocess.Process]) -> list[bool]:
    """Pass every Ctrl-C and SIGTERM on to the children (each stops on its first, at once on its second).

    The returned one-item list turns True at the first signal.
    """
    loop = asyncio.get_running_loop()
    interrupted = [False]

    def forward(sig: signal.Signals) -> None:
        interrupted[0] = True
        for child in children:
            if child.returncode is None:
                child.send_signal(sig)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, forward, sig)
    return interrupted


def merged_exit_code(codes_returned: Sequence[int], *, interrupted: bool) -> int:
    """130 when interrupted; else the highest child's code (a child ended by a signal counts as 1)."""
    if interrupted or codes.EXIT_INTERRUPTED in codes_returned:
        return codes.EXIT_INTERRUPTED
    return max((codes.EXIT_DATA if code < 0 else code for code in codes_returned), default=codes.EXIT_OK)
