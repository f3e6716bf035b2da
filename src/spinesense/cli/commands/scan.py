"""``spinesense scan [--timeout S] [--all]``: nearby sensors with their signal strength and protocol."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from spinesense.cli.commands._base import EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE, CommandError

if TYPE_CHECKING:
    import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``scan`` command."""
    parser = subparsers.add_parser("scan", help="list nearby sensors, their RSSI and protocol")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="S", help="scan time (default 5 s)")
    parser.add_argument("--all", action="store_true", help="also list devices spinesense cannot read")
    parser.add_argument("--json", action="store_true", help="one JSON object per device")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Scan and print one line per device, strongest first."""
    import asyncio

    from spinesense.cli.commands._ble import bluetooth_errors
    from spinesense.sources.ble import scan

    if args.timeout <= 0:
        raise CommandError(f"--timeout must be positive, got {args.timeout:g}", EXIT_USAGE)
    with bluetooth_errors():
        found = asyncio.run(scan(args.timeout))
    shown = [s for s in found if args.all or s.family is not None]
    for sensor in shown:
        protocol = sensor.family.protocol if sensor.family else "-"
        if args.json:
            facts = {
                "name": sensor.name,
                "address": sensor.device.address,
                "rssi": sensor.rssi,
                "protocol": protocol,
            }
            print(json.dumps(facts))
        else:
            print(f"{sensor.device.address:<20} {sensor.rssi:>4} dBm  {protocol:<13} {sensor.name}")
    if not shown:
        raise CommandError(
            f"no supported sensor found in {args.timeout:g} s (is it awake and near?)", EXIT_UNAVAILABLE
        )
    return EXIT_OK
