"""What run, demo and replay --broker share: configuration, broker, recorder, signals, closing lines."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spinesense.alerts import AlertEngine
from spinesense.capture import CaptureWriter
from spinesense.cli.commands._base import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, CommandError
from spinesense.cli.commands._recording import open_for_command, recording_length_s
from spinesense.cli.console import print_line
from spinesense.cli.liveview import LiveView
from spinesense.config import load_config
from spinesense.errors import ConfigError
from spinesense.logs import status
from spinesense.publish import Publisher, embedded_broker
from spinesense.service import Session
from spinesense.sources.replay import replay

if TYPE_CHECKING:
    import argparse
    from collections.abc import AsyncGenerator, AsyncIterator

    from spinesense.config import Config
    from spinesense.models import Record
    from spinesense.publish import BrokerSettings
    from spinesense.sensors import StreamDecoder


def add_session_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Flags that override the configuration file and the environment."""
    parser.add_argument(
        "--config", metavar="FILE", help="configuration file (default ~/.config/spinesense/config.toml)"
    )
    parser.add_argument("--runner", metavar="ID", help="runner id (MQTT topics spinesense/v1/<ID>/...)")
    parser.add_argument(
        "--broker", metavar="URL", help="mqtt://[user[:pass]@]host[:port] or mqtts://...; default: embedded"
    )
    parser.add_argument("--data-dir", metavar="DIR", help="where raw captures of runs are written")
    parser.add_argument("--no-record", action="store_true", help="do not write a raw capture")


def load_for_command(config_file: str | None, **flags: Any) -> Config:  # noqa: ANN401 - load_config's flags
    """``load_config`` for a command: ``config_file`` (None: the default), ``flags`` on top.

    Every command that reads the configuration goes through here, so a bad value is always the
    same usage error naming the key.
    """
    try:
        return load_config(Path(config_file) if config_file else None, **flags)
    except ConfigError as exc:
        raise CommandError(f"configuration: {exc}", EXIT_USAGE) from None


def config_from_args(args: argparse.Namespace) -> Config:
    """The effective configuration with the session flags of ``add_session_arguments`` on top."""
    return load_for_command(
        args.config,
        runner=args.runner,
        broker=args.broker,
        data_dir=args.data_dir,
        no_record=args.no_record,
    )


@contextlib.asynccontextmanager
async def broker_for(config: Config) -> AsyncGenerator[tuple[BrokerSettings, str]]:
    """The configured broker, or an embedded one for the session's duration; and how to describe it."""
    if config.broker is not None:
        yield config.broker, config.broker.display()
        return
    async with embedded_broker() as settings:
        yield settings, f"{settings.display()} (embedded broker)"


def outbox_dir(config: Config) -> Path | None:
    """Where undelivered alerts, summaries and session messages wait for the next run (per runner).

    Only for a configured broker: the embedded one lives and dies with the session, so there is
    nothing to deliver later.
    """
    return None if config.broker is None else config.data_dir / "outbox" / config.runner_id


def open_recorder(config: Config, header: dict[str, object]) -> CaptureWriter | None:
    """A capture file for this run in the data directory, unless recording is off."""
    if not config.record:
        return None
    try:
        config.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"data.dir: cannot create {config.data_dir}: {exc.strerror}", EXIT_USAGE) from None
    now = time.gmtime()
    name = time.strftime("run-%Y%m%d-%H%M%S.jsonl.gz", now)
    return CaptureWriter(
        config.data_dir / name, {**header, "start_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", now)}
    )


def _install_signals(session: Session, recorder: CaptureWriter | None) -> None:
    """First Ctrl-C/SIGTERM: stop the source and shut down cleanly; second: close the capture and exit."""
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if session.stop.is_set():
            if recorder is not None:
                recorder.close()
            status("spinesense: stopped at once")
            os._exit(EXIT_INTERRUPTED)
        status("spinesense: stopping (again to stop at once)")
        session.stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)


async def run_session(
    config: Config,
    decoder: StreamDecoder,
    records: AsyncIterator[Record],
    header: dict[str, object],
    length_s: float | None = None,
) -> int:
    """Run one session into the broker with every sink; print where everything went.

    On a terminal a live view shows the state (``length_s``: the source's duration, for its progress
    bar); otherwise one plain line per stride and alert.
    """
    recorder = open_recorder(config, header)
    try:
        async with broker_for(config) as (settings, where):
            status(
                f"publishing to {where} as runner {config.runner_id!r}", broker=where, runner=config.runner_id
            )
            async with Publisher(settings, config.runner_id, outbox_dir=outbox_dir(config)) as publisher:
                live = sys.stdout.isatty()
                session = Session(
                    decoder,
                    AlertEngine(config.alerts, config.profile),
                    publisher=publisher,
                    recorder=recorder,
                    show=None if live else print_line,
                )
                _install_signals(session, recorder)
                if live:
                    view = asyncio.create_task(LiveView(session, publisher, where, length_s).run())
                report = await session.run(records)
                if live:
                    view.cancel()
                    await asyncio.gather(view, return_exceptions=True)
            interrupted = session.stop.is_set()
            corrupt = sum(report.corrupt_frames.values())
            status(
                f"{len(report.strides)} strides, {report.raised} alerts, {report.samples} samples "
                f"({report.lost_samples} lost, {corrupt} corrupt frames skipped), "
                f"outbox left {publisher.outbox_depth}, strides shed {publisher.strides_shed}",
                strides=len(report.strides),
                alerts=report.raised,
                samples=report.samples,
                lost_samples=report.lost_samples,
                corrupt_frames=report.corrupt_frames,
                outbox_left=publisher.outbox_depth,
                strides_shed=publisher.strides_shed,
            )
    finally:
        if recorder is not None:
            recorder.close()
            status(f"capture written to {recorder.path}", capture=str(recorder.path))
    return EXIT_INTERRUPTED if interrupted else EXIT_OK


def replay_session(config: Config, file: str, speed: float | None, source: str) -> int:
    """A recording through ``run_session`` as a live run would go, paced at ``speed`` (None: at once)."""
    recording, decoder = open_for_command(file)
    header = {**recording.header, "runner": {"id": config.runner_id}, "source": source}
    length = recording_length_s(recording) if sys.stdout.isatty() else None  # only the live view needs it
    return asyncio.run(run_session(config, decoder, replay(recording, speed), header, length))
