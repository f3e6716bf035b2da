"""``spinesense alerts FILE``: the alerts a recording would raise, with the configured thresholds."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from spinesense.cli.commands._base import EXIT_DATA, EXIT_OK, CommandError, add_file_argument

if TYPE_CHECKING:
    import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``alerts`` command."""
    parser = subparsers.add_parser("alerts", help="print the alerts a capture or sample CSV would raise")
    add_file_argument(parser)
    parser.add_argument(
        "--config", metavar="FILE", help="configuration with [thresholds] and the runner profile"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per alert event")
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="print the baseline learned in this run as a [runner.baseline] table to reuse in later runs",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the recording through the service's processing (no broker), then print each alert event."""
    from spinesense.cli.commands._recording import analyse_for_command
    from spinesense.cli.console import alert_line
    from spinesense.models import to_json_dict

    result = analyse_for_command(args.file, args.config)
    if args.baseline:
        return _print_baseline(result.baseline)
    for event in result.alerts:
        print(json.dumps(to_json_dict(event)) if args.json else alert_line(event))
    if not args.json:
        if result.baseline_state is not None:
            print(result.baseline_state.describe())
        print(f"{result.raised} alerts over {len(result.strides)} strides")
    return EXIT_OK


def _print_baseline(baseline: dict[str, float] | None) -> int:
    """The baseline as TOML for the configuration file; a data error when the run was too short."""
    if baseline is None:
        raise CommandError(
            "no baseline: the recording has less running than the warm-up plus the baseline window "
            "(thresholds.warmup_s + thresholds.baseline_s)",
            EXIT_DATA,
        )
    print("[runner.baseline]")
    for name, value in baseline.items():
        print(f"{name} = {value:.4g}")
    return EXIT_OK
