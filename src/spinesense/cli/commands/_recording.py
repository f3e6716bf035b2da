"""Shared bits of the commands that read a recording: the FILE argument, opening it, loading it whole."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spinesense.cli.commands._base import EXIT_DATA, CommandError
from spinesense.models import repeat_block
from spinesense.sensors import UnknownProtocolError
from spinesense.sources.replay import Recording, RecordingError, open_recording

if TYPE_CHECKING:
    import argparse

    from spinesense.models import SampleBlock
    from spinesense.sensors import StreamDecoder


def add_file_argument(parser: argparse.ArgumentParser) -> None:
    """The FILE argument every recording command takes."""
    parser.add_argument("file", metavar="FILE", help="a capture (.jsonl[.gz]) or a sample CSV (.csv[.gz])")


def open_for_command(path: str) -> tuple[Recording, StreamDecoder]:
    """Open a recording and its decoder, turning every failure into one clear CommandError."""
    try:
        recording = open_recording(path)
        return recording, recording.decoder()
    except (RecordingError, UnknownProtocolError) as exc:
        raise CommandError(str(exc), EXIT_DATA) from None


def load_block(path: str, duration_s: float | None) -> SampleBlock:
    """The whole recording as one block, looped for ``duration_s`` s if given; CommandError when unusable."""
    recording, _decoder = open_for_command(path)
    try:
        block = recording.block()
    except (RecordingError, ValueError) as exc:
        raise CommandError(f"{path}: {exc}", EXIT_DATA) from None
    return block if duration_s is None else repeat_block(block, duration_s)


def recording_length_s(recording: Recording) -> float:
    """Seconds from the first to the last record (one pass over the file), for progress bars."""
    first = last = None
    for record in recording.records():
        first = record.t_ns if first is None else first
        last = record.t_ns
    return 0.0 if first is None or last is None else (last - first) * 1e-9
