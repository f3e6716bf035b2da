"""``spinesense export RUN_OR_CAPTURE --fit OUT.fit | --csv OUT.csv``: a run as files runners' tools open."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from spinesense.cli.commands._base import EXIT_DATA, EXIT_OK, CommandError
from spinesense.cli.commands._store import add_store_arguments, config_with_runner, parse_utc, store_for

if TYPE_CHECKING:
    import argparse

    from spinesense.config import Config
    from spinesense.models import Stride


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``export`` command."""
    parser = subparsers.add_parser("export", help="a stored run or a capture as a FIT activity or a CSV")
    parser.add_argument(
        "source", metavar="RUN_OR_CAPTURE", help="a run number (see `history`) or a recording"
    )
    out = parser.add_mutually_exclusive_group(required=True)
    out.add_argument("--fit", metavar="OUT.fit", help="a FIT activity with running dynamics")
    out.add_argument("--csv", metavar="OUT.csv", help="one row per stride")
    parser.add_argument(
        "--watch", metavar="FILE", help="the watch's FIT/GPX/TCX file: merged into the FIT file"
    )
    parser.add_argument("--start-utc", help="when the run took place (a recording; default: its header)")
    add_store_arguments(parser)
    parser.set_defaults(handler=run)


def _strides(config: Config, args: argparse.Namespace) -> tuple[dt.datetime, list[Stride]]:
    """The start time and strides of a stored run (a number) or of a recording."""
    from spinesense.cli.commands._recording import analyse_with
    from spinesense.utc import header_start

    if args.source.isdigit() and not Path(args.source).exists():
        with store_for(config) as store:
            stored = store.run(int(args.source))
            if stored is None or stored.runner != config.runner_id:
                raise CommandError(f"no run {args.source} for runner {config.runner_id!r} (see `history`)")
            return stored.start_utc, store.strides(stored.id)
    recording, result = analyse_with(config, args.source)
    strides = result.strides
    start = header_start(recording.header) or dt.datetime.now(dt.UTC)
    return start, strides


def run(args: argparse.Namespace) -> int:
    """Write the file."""
    from spinesense.export import write_csv, write_fit
    from spinesense.store.watch import WatchFileError, read_watch_file

    config = config_with_runner(args)
    start, strides = _strides(config, args)
    if args.start_utc:
        start = parse_utc(args.start_utc, "--start-utc")
    if not strides:
        raise CommandError(f"{args.source}: no strides to export", EXIT_DATA)
    if args.csv:
        rows = write_csv(Path(args.csv), start, strides)
        print(f"wrote {args.csv}: {rows} strides")
        return EXIT_OK
    try:
        watch = None if args.watch is None else read_watch_file(args.watch)
    except WatchFileError as exc:
        raise CommandError(str(exc), EXIT_DATA) from None
    records = write_fit(Path(args.fit), start, strides, watch)
    merged = "" if watch is None else f", merged with {args.watch}"
    print(f"wrote {args.fit}: {records} records{merged}")
    return EXIT_OK
