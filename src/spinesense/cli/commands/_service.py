"""What run, demo and replay share: the service flags, the configuration, and running the service.

The service itself (broker, outbox, recorder, signals, processing) is ``spinesense.Service``; this
module only turns flags into its configuration, picks the terminal output (live view or plain lines)
and prints where everything went.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spinesense.cli.commands._base import (
    EXIT_DATA,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    CommandError,
)
from spinesense.cli.console import print_line
from spinesense.config import load_config
from spinesense.errors import ConfigError
from spinesense.logs import status
from spinesense.sensors import UnknownProtocolError
from spinesense.service import Service
from spinesense.sources.replay import RecordingError, ReplaySource
from spinesense.speech import Speaker, SpeechUnavailableError, find_engine
from spinesense.store import StoreSink

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterator, Sequence

    from spinesense.alerts import BaselineState
    from spinesense.config import Config
    from spinesense.models import Alert, Stride
    from spinesense.publish import Publisher
    from spinesense.run import RunResult
    from spinesense.service import Companion
    from spinesense.sources import Source


def speaker_for(args: argparse.Namespace) -> Speaker | None:
    """The speaker ``--speak`` asks for (None without it); a one-line error when there is no engine."""
    if not getattr(args, "speak", False):
        return None
    try:
        return Speaker(find_engine())
    except SpeechUnavailableError as exc:
        raise CommandError(str(exc), EXIT_UNAVAILABLE) from None


def load_for_command(config_file: str | None, **flags: Any) -> Config:  # noqa: ANN401 - load_config's flags
    """``load_config`` for a command: ``config_file`` (None: the default), ``flags`` on top.

    Every command that reads the configuration goes through here, so a bad value is always the
    same usage error naming the key.
    """
    with usage_errors():
        return load_config(Path(config_file) if config_file else None, **flags)


@contextlib.contextmanager
def usage_errors() -> Iterator[None]:
    """A configuration problem as a usage error naming the key; an unusable recording as a data error."""
    try:
        yield
    except ConfigError as exc:
        raise CommandError(f"configuration: {exc}", EXIT_USAGE) from None
    except (RecordingError, UnknownProtocolError) as exc:
        raise CommandError(str(exc), EXIT_DATA) from None


def config_from_args(args: argparse.Namespace) -> Config:
    """The effective configuration with the service flags of ``add_service_arguments`` on top."""
    return load_for_command(
        args.config,
        runner=args.runner,
        broker=args.broker,
        data_dir=args.data_dir,
        no_record=args.no_record,
        web=args.web,
        distance_km=args.distance_km,
        watch=args.watch,
    )


async def serve(service: Service) -> RunResult:
    """Run ``service`` until its source ends, Ctrl-C or SIGTERM; say where the capture went."""
    with usage_errors():
        try:
            async with service:
                if service.publisher is not None:
                    runner = service.config.runner_id
                    where = service.broker
                    status(f"publishing to {where} as runner {runner!r}", broker=where, runner=runner)
                service.stop_on_signals()
                return await service.run()
        finally:
            if service.recorder is not None:
                status(service.recorder.outcome(), capture=str(service.recorder.path))


def exit_code(service: Service) -> int:
    """130 when a signal stopped the service, else 0; CommandError (exit 3) for messages never delivered.

    A refusal counts whatever stopped the run; a broker away to the end only for a run not cut short.
    """
    publisher = service.publisher
    if publisher is not None and (publisher.failure or (publisher.undelivered and not service.interrupted)):
        raise CommandError(str(publisher.undelivered), EXIT_UNAVAILABLE)
    return EXIT_INTERRUPTED if service.interrupted else EXIT_OK


async def serve_and_report(service: Service) -> int:
    """``serve``, then one status line with the totals of the run and of the publisher; the exit code."""
    report_totals(await serve(service), service.publisher)
    return exit_code(service)


def report_totals(result: RunResult, publisher: Publisher | None) -> None:
    """One status line with a run's totals and what its publisher left undelivered or shed.

    ``serve`` reports each runner's inside its ``runner_scope``, which names the runner.
    """
    counts = result.counts
    corrupt = sum(result.corrupt_frames.values())
    outbox_left = publisher.outbox_depth if publisher else 0
    shed = publisher.strides_shed if publisher else 0
    status(
        f"{len(result.strides)} strides, {result.raised} alert{'' if result.raised == 1 else 's'}, "
        f"{counts.samples} samples "
        f"({counts.lost_samples} lost, {corrupt} corrupt frames skipped), "
        f"outbox left {outbox_left}, strides shed {shed}",
        strides=len(result.strides),
        alerts=result.raised,
        samples=counts.samples,
        lost_samples=counts.lost_samples,
        corrupt_frames=result.corrupt_frames,
        outbox_left=outbox_left,
        strides_shed=shed,
    )


def store_sink(source: Source, config: Config) -> StoreSink:
    """The run store's hook for a run of ``source``: a replay is known by its recording, else its capture."""
    return StoreSink(config, source.recording.path if isinstance(source, ReplaySource) else None)


def terminal_service(
    source: Source,
    config: Config,
    *,
    length_s: Callable[[], float] | None = None,
    companions: Sequence[Companion] = (),
    speaker: Speaker | None = None,
) -> Service:
    """A publishing service showing a live view on a terminal, one plain line per stride and alert otherwise.

    ``length_s`` gives the source's duration for the live view's progress bar (asked only on a terminal);
    ``speaker`` speaks each alert raised.
    """
    speak = None if speaker is None else speaker.say
    companions = [*companions, *([] if speaker is None else [speaker.beside])]
    store = store_sink(source, config)
    if sys.stdout.isatty():
        from spinesense.cli.liveview import LiveView

        view = LiveView(length_s() if length_s else None)
        return Service(source, config, speak=speak, companions=[view.run, *companions], store=store)
    console: Callable[[Stride | Alert | BaselineState], None] = print_line
    return Service(source, config, console=console, speak=speak, companions=companions, store=store)


def replay_service(
    config: Config, file: str, speed: float | None, source: str, speaker: Speaker | None = None
) -> int:
    """A recording through the service as a live run would go, paced at ``speed`` (None: at once)."""
    with usage_errors():
        replayed = ReplaySource(file, speed, source)
    service = terminal_service(replayed, config, length_s=replayed.recording.length_s, speaker=speaker)
    return asyncio.run(serve_and_report(service))
