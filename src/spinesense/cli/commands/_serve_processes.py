"""``spinesense serve --processes K``: the runners split over K serving processes, one per core.

One Python process runs on one core at a time, however many runners its loop serves; K processes use K
cores. Each is a plain ``spinesense serve`` of its share of the runners (runner i in process i mod K),
so everything a single process does (isolation, status lines, exit codes, the run store) holds in each.
This process only starts them, shares its embedded broker with them and waits for them all. Each
serving process has a process group of its own, so a terminal's Ctrl-C reaches it once, passed on from
here with every SIGINT, SIGTERM and SIGHUP. Each watches a pipe from this process on its standard
input and stops cleanly when it closes: if this process dies, even by SIGKILL, none runs on without it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from spinesense.cli.commands import _base as codes
from spinesense.cli.commands.serve import EMBEDDED_BROKER_FLAG, PARENT_PIPE_FLAG
from spinesense.logs import status
from spinesense.serve import shared_broker

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence

    from spinesense.serve import Runner

log = logging.getLogger(__name__)

PASSED_ON = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass(frozen=True)
class Named:
    """One runner as a command line names it: ``--replay ID=FILE`` or ``--sensor ID=NAME|ADDRESS``."""

    flag: str
    runner_id: str
    value: str

    def arg(self) -> str:
        """The runner's flag for a serving process's command line (runner ids never hold '=')."""
        return f"{self.flag}={self.runner_id}={self.value}"


def shares(named: Sequence[Named], processes: int) -> list[list[Named]]:
    """Runner i goes to process i mod ``processes`` (runners started one after another alternate)."""
    return [list(named[j::processes]) for j in range(processes) if named[j::processes]]


def common_argv(args: argparse.Namespace, embedded_port: int | None) -> list[str]:
    """The command line every serving process shares, up to its runners: this one's options.

    ``-P``: the installed spinesense, never a ``spinesense`` in the working directory.
    """
    argv = [sys.executable, "-P", "-m", "spinesense"]
    if args.log_format:
        argv += ["--log-format", args.log_format]
    if args.verbose:
        argv.append("--verbose")
    argv += ["serve", PARENT_PIPE_FLAG, "--speed", repr(args.speed)]
    argv += ["--scan-timeout", repr(args.scan_timeout)]
    for option, value in (
        ("--config", args.config),
        ("--broker", args.broker),
        ("--data-dir", args.data_dir),
        (EMBEDDED_BROKER_FLAG, embedded_port),
    ):
        if value is not None:
            argv += [option, str(value)]
    if args.no_record:
        argv.append("--no-record")
    return argv


@dataclass
class Children:
    """The serving processes: started one by one, told every signal this process gets, waited for."""

    processes: list[asyncio.subprocess.Process] = field(default_factory=list)
    interrupted: bool = False

    def pass_on(self, sig: signal.Signals) -> None:
        """Give ``sig`` to every serving process still running (the first stops it, a second at once)."""
        self.interrupted = True
        for process in self.processes:
            if process.returncode is None:
                process.send_signal(sig)

    async def start(self, argv: list[str]) -> None:
        """Start one serving process in a process group of its own, a pipe from here on its standard input."""
        process = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.PIPE, process_group=0)
        self.processes.append(process)

    async def stop(self) -> None:
        """Stop every serving process still running, cleanly, and wait for each."""
        self.pass_on(signal.SIGTERM)
        for process in self.processes:
            await process.wait()


async def serve_in_processes(args: argparse.Namespace, runners: list[Runner], named: list[Named]) -> int:
    """Serve ``named`` (whose configurations are ``runners``) in ``args.processes`` processes; the exit code.

    Runners without a configured broker share this process's embedded broker, as in one process.
    """
    loop = asyncio.get_running_loop()
    children = Children()
    for sig in PASSED_ON:  # before any starts: a signal from here on reaches every one started
        loop.add_signal_handler(sig, children.pass_on, sig)
    groups = shares(named, args.processes)
    async with shared_broker(runners) as served:
        # The broker shared_broker gave a runner that had none: the embedded one, if it started.
        given = (s.config.broker for r, s in zip(runners, served, strict=True) if r.config.broker is None)
        embedded = next(given, None)
        base = common_argv(args, None if embedded is None else embedded.port)
        status(f"serving {len(named)} runners in {len(groups)} processes", runners=len(named))
        try:
            for group in groups:
                await children.start([*base, *(n.arg() for n in group)])
            returned = [await process.wait() for process in children.processes]
        except BaseException:  # one could not start, or this task was cancelled: none is left running
            await children.stop()
            raise
        interrupted = children.interrupted
    for group, code in zip(groups, returned, strict=True):
        if code < 0:
            level = logging.INFO if interrupted else logging.ERROR
            ids = ", ".join(n.runner_id for n in group)
            log.log(level, "the process serving %s ended by signal %d: their runs ended there", ids, -code)
    return merged_exit_code(returned, interrupted=interrupted)


def merged_exit_code(codes_returned: Sequence[int], *, interrupted: bool) -> int:
    """130 when interrupted; else the highest child's code (a child ended by a signal counts as 1)."""
    if interrupted or codes.EXIT_INTERRUPTED in codes_returned:
        return codes.EXIT_INTERRUPTED
    return max((codes.EXIT_DATA if code < 0 else code for code in codes_returned), default=codes.EXIT_OK)


def stop_when_parent_goes(stop: Callable[[], None]) -> None:
    """Call ``stop`` once standard input, the pipe from the command that started this process, closes.

    That command never writes to it: it closes when that process ends, however it ended.
    """
    loop = asyncio.get_running_loop()
    fd = sys.stdin.fileno()

    def readable() -> None:
        if os.read(fd, 4096):
            return
        loop.remove_reader(fd)
        status("the command that started this serving process has gone: stopping")
        stop()

    loop.add_reader(fd, readable)
