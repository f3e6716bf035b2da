"""``spinesense report FILE [-o OUT.html] [--speed S]``: a self-contained HTML report of a run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from spinesense.cli.commands._base import EXIT_DATA, EXIT_OK, EXIT_USAGE, CommandError, add_file_argument

if TYPE_CHECKING:
    import argparse

    from spinesense.config import Config

REPORTS = "reports"
"""The folder of the data dir that holds reports written without -o."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``report`` command."""
    parser = subparsers.add_parser("report", help="write an HTML report of a recorded run")
    add_file_argument(parser)
    parser.add_argument(
        "-o", "--output", metavar="OUT.html", help="default: <data dir>/reports/FILE.html (else ./FILE.html)"
    )
    parser.add_argument("--config", metavar="FILE", help="configuration (alert thresholds, runner profile)")
    parser.add_argument(
        "--runner", metavar="ID", help="whose earlier runs to compare with (default: runner.id)"
    )
    parser.add_argument(
        "--speed",
        metavar="S",
        help="treadmill speed in m/s: 3.5 for the whole run, or M:SS=m/s steps, e.g. 0:00=3.5,5:00=4.5",
    )
    parser.set_defaults(handler=run)


def default_output(config: Config, source: Path) -> Path:
    """Where a report goes without -o: the data dir's reports folder, else the current folder.

    Never beside the recording: recordings live in folders (replay_data/, a card) that are not for output.
    """
    name = source.name.split(".")[0] + ".html"
    folder = config.data_dir / REPORTS
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return Path.cwd() / name
    return folder / name


def run(args: argparse.Namespace) -> int:
    """Process the recording like a live run (no broker) and write the page."""
    from spinesense.cli.commands._recording import analyse_with
    from spinesense.cli.commands._service import load_for_command
    from spinesense.cli.report import RunData, render
    from spinesense.cli.report._history import last_four_weeks
    from spinesense.cli.report._speed import SpeedError, SpeedSchedule
    from spinesense.utc import header_start

    try:
        speed = None if args.speed is None else SpeedSchedule.parse(args.speed)
    except SpeedError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    config = load_for_command(args.config, runner=args.runner)
    recording, result = analyse_with(config, args.file)
    source = Path(args.file)
    start = header_start(recording.header)
    out = Path(args.output) if args.output else default_output(config, source)
    page = RunData(
        f"Run report: {source.name}",
        result.strides,
        result.alerts,
        result.summary,
        result.baseline_state,
        start_utc=start,
        speed=speed,
        config=config.alerts,
        history=last_four_weeks(config, start, result.summary),
    )
    try:
        out.write_text(render(page), encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"{out}: cannot write ({exc.strerror or exc})", EXIT_DATA) from None
    print(f"wrote {out} ({len(result.strides)} strides, {result.raised} alerts)")
    return EXIT_OK
