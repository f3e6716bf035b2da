"""What ``spinesense serve`` does: its runners from the flags (or a scan), served on one loop, reported."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING

from spinesense.cli.commands import _base as codes
from spinesense.cli.commands._base import CommandError
from spinesense.cli.commands._ble import bluetooth_errors
from spinesense.cli.commands._serve_processes import Named, serve_in_processes, stop_when_parent_goes
from spinesense.cli.commands._service import load_for_command, report_totals, store_sink
from spinesense.logs import runner_scope, status
from spinesense.publish.settings import BrokerSettings
from spinesense.serve import Outcome, Runner, Squad, check_unique, shared_broker, with_broker
from spinesense.sources.ble import LinkOptions
from spinesense.sources.ble_discovery import scan
from spinesense.sources.ble_link import SensorLink
from spinesense.sources.replay import ReplaySource

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from spinesense.config import Config
    from spinesense.sources import Source
    from spinesense.sources.ble import BleakBackend

SOURCE = "spinesense serve"


def run(args: argparse.Namespace) -> int:
    """Serve every runner until each source ends, Ctrl-C or SIGTERM; one status line per runner."""
    if args.speed <= 0:
        raise CommandError(f"--speed must be positive, got {args.speed}", codes.EXIT_USAGE)
    if args.processes < 1:
        raise CommandError(f"--processes must be at least 1, got {args.processes}", codes.EXIT_USAGE)
    return asyncio.run(serve_args(args))


async def serve_args(args: argparse.Namespace, backend: BleakBackend | None = None) -> int:
    """``run`` on the running loop; live sensors are reached through ``backend`` (None: the platform's).

    The demo reaches its virtual sensor the same way (``run_live``), and so do the tests. With
    ``--processes``, the serving processes reach their sensors through the platform's backend.
    """
    named = [*_replays(args), *_sensors(args)]
    if not named:
        with bluetooth_errors():
            named = await _found_sensors(args, backend)
    runners = [_runner(n, args, backend) for n in named]
    try:
        check_unique(runners)
    except ValueError as exc:
        raise CommandError(str(exc), codes.EXIT_USAGE) from None
    if args.processes > 1:
        return await serve_in_processes(args, runners, named)
    if args.embedded_broker is not None:  # a serving process of --processes: its parent's broker
        runners = with_broker(runners, BrokerSettings("127.0.0.1", args.embedded_broker, mqtt5=False))
    return await _serve(runners, watch_parent=args.parent_pipe)


def _config(args: argparse.Namespace, runner_id: str) -> Config:
    """The shared configuration with this runner's id (a bad id is a usage error naming it)."""
    return load_for_command(
        args.config, runner=runner_id, broker=args.broker, data_dir=args.data_dir, no_record=args.no_record
    )


def _pair(text: str, flag: str) -> tuple[str | None, str]:
    """``RUNNER=VALUE`` -> (RUNNER, VALUE); a bare VALUE -> (None, VALUE)."""
    runner, sep, value = text.partition("=")
    if not sep:
        return None, text
    if not runner or not value:
        raise CommandError(f"{flag} {text!r}: expected RUNNER=VALUE", codes.EXIT_USAGE)
    return runner, value


def _replays(args: argparse.Namespace) -> list[Named]:
    """A runner per ``--replay`` (runner id: the file's name without suffixes unless given)."""
    named = []
    for text in args.replay:
        runner_id, file = _pair(text, "--replay")
        named.append(Named("--replay", runner_id or Path(file).name.split(".")[0], file))
    return named


def _sensors(args: argparse.Namespace) -> list[Named]:
    """A runner per ``--sensor RUNNER=NAME|ADDRESS``."""
    named = []
    for text in args.sensor:
        runner_id, target = _pair(text, "--sensor")
        if runner_id is None:
            raise CommandError(f"--sensor {text!r}: expected RUNNER=NAME|ADDRESS", codes.EXIT_USAGE)
        named.append(Named("--sensor", runner_id, target))
    return named


def _runner(named: Named, args: argparse.Namespace, backend: BleakBackend | None) -> Runner:
    """The runner: its configuration, and its recording or sensor, opened in the runner's own task."""
    if named.flag == "--replay":

        def source() -> Source:
            return ReplaySource(named.value, args.speed, SOURCE)

        return Runner(_config(args, named.runner_id), source)
    return Runner(_config(args, named.runner_id), _link(named.value, args, backend))


def _link(target: str, args: argparse.Namespace, backend: BleakBackend | None) -> Callable[[], Source]:
    """A live link to one sensor, made in the runner's own task."""
    options = LinkOptions(scan_timeout_s=args.scan_timeout)
    return lambda: SensorLink(target, backend=backend, options=options, source=SOURCE)


async def _found_sensors(args: argparse.Namespace, backend: BleakBackend | None) -> list[Named]:
    """A runner per reference sensor advertising now, named after the sensor."""
    seen = await scan(args.scan_timeout, backend=backend)
    found = [s for s in seen if s.family and s.family.protocol == "reference"]
    if not found:
        raise CommandError(
            f"no reference sensor found within {args.scan_timeout:g} s", codes.EXIT_UNAVAILABLE
        )
    return [Named("--sensor", _runner_id(s.name), s.device.address) for s in found]


def _runner_id(sensor_name: str) -> str:
    """A runner id from a sensor's advertised name (characters a topic cannot hold become '-')."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", sensor_name)[:64].strip(".") or "sensor"


async def _serve(runners: list[Runner], *, watch_parent: bool = False) -> int:
    """The squad on one loop; every runner's totals or failure; the exit code.

    ``watch_parent``: a serving process of ``--processes``, which stops when its parent goes.
    """
    async with shared_broker(runners) as served:
        squad = Squad(served, store=store_sink)
        squad.stop_on_signals()
        if watch_parent:
            stop_when_parent_goes(squad.stop)
        status(f"serving {len(served)} runners", runners=len(served))
        outcomes = await squad.serve()
    for outcome in outcomes:
        _report(outcome)
    if squad.interrupted:
        return codes.EXIT_INTERRUPTED
    return codes.EXIT_DATA if any(o.error for o in outcomes) else codes.EXIT_OK


def _report(outcome: Outcome) -> None:
    """One status line for a runner, in its log scope: its totals, or why it stopped."""
    with runner_scope(outcome.runner_id):
        if outcome.result is None:
            status(f"stopped: {outcome.error}", error=outcome.error)
            return
        report_totals(outcome.result, outcome.service.publisher if outcome.service else None)
