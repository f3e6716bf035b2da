"""``spinesense report CAPTURE [-o OUT.html]``: a self-contained HTML report of a run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from spinesense.cli.commands._base import EXIT_OK
from spinesense.cli.commands._recording import add_file_argument, analyse_for_command
from spinesense.cli.report import RunData, render

if TYPE_CHECKING:
    import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``report`` command."""
    parser = subparsers.add_parser("report", help="write an HTML report of a recorded run")
    add_file_argument(parser)
    parser.add_argument("-o", "--output", metavar="OUT.html", help="default: FILE with .html instead")
    parser.add_argument("--config", metavar="FILE", help="configuration (alert thresholds, runner profile)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Process the recording like a live run (no broker) and write the page."""
    report = analyse_for_command(args.file, args.config)
    source = Path(args.file)
    out = Path(args.output) if args.output else source.with_name(source.name.split(".")[0] + ".html")
    title = f"Run report: {source.name}"
    out.write_text(
        render(RunData(title, report.strides, report.alerts, report.summary, report.baseline_state)),
        encoding="utf-8",
    )
    print(f"wrote {out} ({len(report.strides)} strides, {report.raised} alerts)")
    return EXIT_OK
