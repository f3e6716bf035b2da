"""``spinesense run``: the service a runner starts before a run (sensor -> pipeline -> alerts -> MQTT)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spinesense.cli.commands._base import (
    EXIT_USAGE,
    CommandError,
    add_service_arguments,
    add_speak_argument,
)

if TYPE_CHECKING:
    import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``run`` command."""
    parser = subparsers.add_parser("run", help="run the service: sensor (or --replay FILE) -> alerts -> MQTT")
    parser.add_argument(
        "--replay", metavar="FILE", help="take the data from a capture or sample CSV instead of BLE"
    )
    parser.add_argument("--speed", type=float, default=1.0, metavar="N", help="replay at N times real time")
    parser.add_argument(
        "--sensor",
        metavar="NAME|ADDRESS",
        help="live sensor to use (default: [sensor] name, else the first found)",
    )
    parser.add_argument(
        "--scan-timeout", type=float, default=10.0, metavar="S", help="per scan (default 10 s)"
    )
    add_speak_argument(parser)
    add_service_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Start the service until the source ends, Ctrl-C or SIGTERM."""
    import asyncio

    from spinesense.cli.commands._ble import bluetooth_errors, run_live
    from spinesense.cli.commands._service import config_from_args, replay_service, speaker_for
    from spinesense.sources.ble import LinkOptions

    if args.speed <= 0:
        raise CommandError(f"--speed must be positive, got {args.speed}", EXIT_USAGE)
    config = config_from_args(args)
    speaker = speaker_for(args)
    if args.replay is None:
        with bluetooth_errors():
            options = LinkOptions(scan_timeout_s=args.scan_timeout)
            target = args.sensor or config.sensor
            return asyncio.run(run_live(config, target, options=options, speaker=speaker))
    source = f"spinesense run --replay {args.replay}"
    return replay_service(config, args.replay, args.speed, source, speaker)
