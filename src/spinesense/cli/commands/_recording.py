"""What the commands that read a recording share: the FILE argument, opening, loading and analysing it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spinesense.cli.commands._base import EXIT_DATA, CommandError
from spinesense.cli.commands._service import load_for_command
from spinesense.models import repeat_block
from spinesense.run import analyse
from spinesense.sensors import UnknownProtocolError
from spinesense.sources.replay import Recording, RecordingError, open_recording

if TYPE_CHECKING:
    from spinesense.config import Config
    from spinesense.models import SampleBlock
    from spinesense.run import RunResult


def open_for_command(path: str) -> Recording:
    """Open a recording whose protocol this version decodes, turning every failure into one CommandError."""
    try:
        recording = open_recording(path)
        recording.decoder()  # an unknown protocol fails here, before any processing
    except (RecordingError, UnknownProtocolError) as exc:
        raise CommandError(str(exc), EXIT_DATA) from None
    return recording


def load_block(path: str, duration_s: float | None) -> SampleBlock:
    """The whole recording as one block, looped for ``duration_s`` s if given; CommandError when unusable."""
    recording = open_for_command(path)
    try:
        block = recording.block()
    except (RecordingError, ValueError) as exc:
        raise CommandError(f"{path}: {exc}", EXIT_DATA) from None
    return block if duration_s is None else repeat_block(block, duration_s)


def analyse_for_command(path: str, config_file: str | None) -> RunResult:
    """The whole recording through the service's processing with the configured thresholds and profile."""
    return analyse_with(load_for_command(config_file), path)[1]


def analyse_with(config: Config, path: str) -> tuple[Recording, RunResult]:
    """The recording, and its processing with ``config``'s thresholds and runner profile."""
    recording = open_for_command(path)
    try:
        return recording, analyse(recording, config=config.alerts, profile=config.profile)
    except RecordingError as exc:
        raise CommandError(f"{path}: {exc}", EXIT_DATA) from None
