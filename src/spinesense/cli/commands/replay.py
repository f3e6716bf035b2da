"""``spinesense replay FILE``: stream a recording through the same path a live run takes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from spinesense.cli.commands._base import (
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    add_file_argument,
    add_service_arguments,
)
from spinesense.logs import status

if TYPE_CHECKING:
    import argparse

    from spinesense.alerts import BaselineState
    from spinesense.models import Alert, Stride


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``replay`` command."""
    parser = subparsers.add_parser("replay", help="stream a capture or sample CSV through the pipeline")
    add_file_argument(parser)
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument(
        "--speed",
        type=float,
        metavar="N",
        help="N times real time (default: 1, or --fast with --json/--summary)",
    )
    pace.add_argument("--fast", action="store_true", help="as fast as possible")
    parser.add_argument(
        "--json", action="store_true", help="one JSON object per stride (with --summary: one)"
    )
    parser.add_argument("--summary", action="store_true", help="only the session summary at the end")
    parser.add_argument(
        "--save", action="store_true", help="save the run into the run store (as `spinesense import FILE`)"
    )
    publishing = parser.add_argument_group("publishing as a live run would (any of these turns it on)")
    add_service_arguments(publishing)
    parser.set_defaults(handler=run)


def _print_summary(summary: dict[str, object], as_json: bool) -> None:
    """The session summary as JSON, or as aligned ``key value`` lines."""
    if as_json:
        print(json.dumps(summary))
        return
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        print(f"{key:<{width}s}  {value}")


async def _stream(args: argparse.Namespace, speed: float | None) -> int:
    """The recording through the service without MQTT, printing strides as they complete."""
    from spinesense.cli.commands._service import exit_code, serve, usage_errors
    from spinesense.cli.console import stride_line
    from spinesense.models import Stride, to_json_dict
    from spinesense.service import Service
    from spinesense.sources.replay import ReplaySource

    with usage_errors():
        source = ReplaySource(args.file, speed, f"spinesense replay {args.file}")

    def show(event: Stride | Alert | BaselineState) -> None:
        if isinstance(event, Stride) and not args.summary:
            print(json.dumps(to_json_dict(event)) if args.json else stride_line(event), flush=True)

    service = Service(source, publish=False, console=show)
    result = await serve(service)
    if args.summary:
        _print_summary(result.summary, args.json)
    elif not args.json:
        status(f"{len(result.strides)} strides", strides=len(result.strides))
    return exit_code(service)


def run(args: argparse.Namespace) -> int:
    """Check the options, then replay."""
    import asyncio
    from dataclasses import replace

    from spinesense.cli.commands._service import config_from_args, replay_service
    from spinesense.cli.commands._store import save_recording

    if args.speed is not None and args.speed <= 0:
        raise CommandError(f"--speed must be positive, got {args.speed}", EXIT_USAGE)
    machine_output = args.json or args.summary
    speed = None if args.fast or (args.speed is None and machine_output) else (args.speed or 1.0)
    if args.save and not args.broker:
        save_recording(config_from_args(args), args.file, None)
        return EXIT_OK
    if args.broker or args.runner or args.config or args.web:
        config = replace(config_from_args(args), record=False)  # the file already is the recording
        return replay_service(config, args.file, speed, f"spinesense replay {args.file}")
    return asyncio.run(_stream(args, speed))
