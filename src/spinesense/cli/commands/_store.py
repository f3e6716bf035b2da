"""Shared bits of the commands that use the run store: its flags, opening it, saving a recording into it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from spinesense import utc
from spinesense.cli.commands._base import EXIT_UNAVAILABLE, EXIT_USAGE, CommandError

if TYPE_CHECKING:
    import argparse

    from spinesense.config import Config
    from spinesense.store import RunStore, SaveResult


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config`` and ``--runner``: which configuration, and whose runs."""
    parser.add_argument(
        "--config", metavar="FILE", help="configuration file (default ~/.config/spinesense/config.toml)"
    )
    parser.add_argument("--runner", metavar="ID", help="runner id (default: runner.id of the configuration)")


def store_for(config: Config) -> RunStore:
    """The configured run store; CommandError (unavailable) when it cannot be opened."""
    from spinesense.store import StoreError, open_store

    try:
        return open_store(config)
    except StoreError as exc:
        raise CommandError(f"run store: {exc}", EXIT_UNAVAILABLE) from None


def parse_utc(text: str, what: str) -> dt.datetime:
    """An ISO 8601 time (a date alone is midnight; no zone is UTC); CommandError naming ``what``."""
    try:
        return utc.parse_utc(text)
    except ValueError:
        raise CommandError(f"{what}: {text!r} is not an ISO 8601 date or time", EXIT_USAGE) from None


def save_recording(config: Config, file: str, start: dt.datetime | None) -> SaveResult:
    """Process a capture or sample CSV as a run would go, save it, and show the training load after it.

    ``start``: when the run took place (default: a capture's header; a sample CSV has no date of its
    own, so its file's modification time).
    """
    from spinesense.cli.commands._recording import analyse_with
    from spinesense.store.session import load_payload, new_run, save_and_show, show_load
    from spinesense.utc import header_start

    recording, report = analyse_with(config, file)
    if not report.strides:
        raise CommandError(f"{file}: no strides found, nothing to save")
    path, header = Path(file), recording.header
    dated = header_start(header) if recording.kind == "capture" else None
    start = start or dated or dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    with store_for(config) as store:
        run = new_run(config, report.strides, report.alerts, report.summary, header, start, path)
        result = save_and_show(store, run)
        show_load(load_payload(store, config, start.date()))
    return result


def config_with_runner(args: argparse.Namespace, **flags: object) -> Config:
    """The configuration with ``--runner`` (and any other flags) on top."""
    from spinesense.cli.commands._service import load_for_command

    return load_for_command(args.config, runner=args.runner, **flags)
