"""``spinesense import``: a recording into the run store, or (with OUT) a sample CSV into a capture.

``import FILE`` saves an old capture or sample CSV as a run (``--start-utc`` says when it took place);
``import CSV OUT`` writes the capture the reference firmware would have sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from spinesense.cli.commands._base import EXIT_DATA, EXIT_OK, EXIT_USAGE, CommandError
from spinesense.cli.commands._store import add_store_arguments, config_with_runner, parse_utc, save_recording

if TYPE_CHECKING:
    import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``import`` command."""
    parser = subparsers.add_parser(
        "import",
        help="save a recording into the run store, or (with OUT) convert a sample CSV into a capture",
    )
    parser.add_argument(
        "csv", metavar="FILE", help="capture or sample CSV (.csv or .csv.gz), see docs/capture-format.md"
    )
    parser.add_argument("out", metavar="OUT", nargs="?", help="capture to write (.jsonl or .jsonl.gz)")
    parser.add_argument("--name", default="", help="sensor name for the header (default: the CSV name)")
    parser.add_argument("--source", default="", help="provenance text for the header")
    parser.add_argument(
        "--start-utc",
        help="when the run took place (ISO 8601; default: the header's, 1970 for a new capture)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    parser.add_argument(
        "--sort-time",
        action="store_true",
        help="sort rows whose time goes backwards (else the CSV is refused; with OUT)",
    )
    parser.add_argument(
        "--time-unit",
        choices=("s", "ms", "us"),
        default="s",
        help="the unit of the time_s column when it is not seconds (default s; with OUT)",
    )
    parser.add_argument("--distance-km", type=float, metavar="KM", help="the run's distance (store only)")
    parser.add_argument(
        "--watch", metavar="FILE", help="the watch's FIT/GPX/TCX file of the run (store only)"
    )
    add_store_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Save the recording into the store, or convert the CSV when OUT is given."""
    if args.out is None:
        config = config_with_runner(args, distance_km=args.distance_km, watch=args.watch)
        start = None if args.start_utc is None else parse_utc(args.start_utc, "--start-utc")
        save_recording(config, args.csv, start)
        return EXIT_OK
    return convert(args)


def convert(args: argparse.Namespace) -> int:
    """Read the CSV and write every frame the reference firmware would have sent."""
    from spinesense.capture import CaptureWriter, make_header
    from spinesense.sample_csv import SampleCsvError, read_sample_csv
    from spinesense.sources.replay import csv_records

    source, out = Path(args.csv), Path(args.out)
    start = "1970-01-01T00:00:00Z"
    if args.start_utc is not None:  # read as `import FILE` reads it, written with its zone
        start = parse_utc(args.start_utc, "--start-utc").isoformat().replace("+00:00", "Z")
    if not out.name.endswith((".jsonl", ".jsonl.gz")):
        raise CommandError(f"{out}: a capture must end in .jsonl or .jsonl.gz", EXIT_USAGE)
    if out.exists() and not args.force:
        raise CommandError(f"{out} exists; use --force to overwrite", EXIT_USAGE)
    try:
        table = read_sample_csv(source, sort_time=args.sort_time, time_unit=args.time_unit)
    except SampleCsvError as exc:
        raise CommandError(str(exc), EXIT_DATA) from None
    header = make_header(
        protocol="reference",
        rate_hz=round(table.rate_hz, 6),
        sensor_name=args.name or source.name,
        start_utc=start,
        source=args.source or f"imported from {source.name}",
    )
    frames = 0
    try:
        writer = CaptureWriter(out, header)
    except OSError as exc:
        raise CommandError(f"{out}: cannot write ({exc.strerror or exc})", EXIT_DATA) from None
    with writer:
        for record in csv_records(table):
            writer.frame(record.t_ns, record.char, record.data)
            frames += 1
    if writer.failure is not None:
        raise CommandError(writer.outcome(), EXIT_DATA)
    print(f"wrote {out}: {table.t_s.size} samples at {table.rate_hz:.2f} Hz in {frames} records")
    return EXIT_OK
